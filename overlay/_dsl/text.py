"""The text query language: ``name ~ 'ada' and (rating >= 3 or company->companies.name ^= 'Ac')``.

    query     := or
    or        := and ("or" and)*
    and       := not ("and" not)*
    not       := "not" not | "(" or ")" | condition
    condition := field op value | field ["not"] "in" list | field "is" ("set" | "empty")
    field     := name ("->" object "." name)* ["." property]
    op        := "=" | "!=" | "<" | "<=" | ">" | ">=" | "~" (contains) | "^=" (starts with) | "$=" (ends with)
    value     := 'text' | "text" | number | true | false | null
    list      := "[" [value ("," value)*] "]"

Names are slugs (``email_addresses``, ``job-title``); a name that is a keyword goes in
backticks (`` `set` ``). ``parse_text`` reads a query into an expression; ``to_text``
writes any expression back. A syntax error shows where, with a caret, and what was expected.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from .._errors import InvalidArgumentError
from .expr import MAX_INT_DIGITS, Expr, Field, Not, Step
from .lexicon import KEYWORDS, SYMBOL_OPS, TEXT_OPS

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<number>-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
  | (?P<op>!=|<=|>=|\^=|\$=|->|[=<>~()\[\],.])
  | (?P<name>`[^`]+`|[A-Za-z_](?:[A-Za-z0-9_]|-(?!>))*)
    """,
    re.VERBOSE,
)


class QuerySyntaxError(InvalidArgumentError):
    """A text query that does not parse; the message points at the place with a caret."""

    def __init__(self, text: str, position: int, expected: str) -> None:
        self.text = text
        self.position = position
        self.expected = expected
        found = repr(text[position:][:12]) if position < len(text) else "the end"
        super().__init__(
            f"Expected {expected} at column {position + 1}, found {found}:\n  {text}\n  {' ' * position}^"
        )


@dataclass(frozen=True)
class _Token:
    kind: str  # string, number, op, name, keyword, end
    text: str
    position: int


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise QuerySyntaxError(text, position, "a name, a value, an operator or a parenthesis")
        kind = match.lastgroup or ""
        if kind != "space":
            word = match.group()
            if kind == "name" and word.lower() in KEYWORDS:
                kind, word = "keyword", word.lower()
            tokens.append(_Token(kind, word, position))
        position = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


# Parentheses and 'not's nest at most this deep: twice as deep in JSON, well inside the
# depth the API reads (64).
MAX_DEPTH = 24


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0
        self.depth = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def fail(self, expected: str) -> QuerySyntaxError:
        return QuerySyntaxError(self.text, self.token.position, expected)

    def accept(self, kind: str, text: str | None = None) -> _Token | None:
        token = self.token
        if token.kind == kind and (text is None or token.text == text):
            self.index += 1
            return token
        return None

    def expect(self, kind: str, text: str, expected: str) -> None:
        if self.accept(kind, text) is None:
            raise self.fail(expected)

    def parse(self) -> Expr:
        if self.token.kind == "end":
            raise self.fail("a condition such as name = 'Ada'")
        expr = self.or_()
        if self.token.kind != "end":
            raise self.fail("'and', 'or' or the end of the query")
        return expr

    def or_(self) -> Expr:
        expr = self.and_()
        while self.accept("keyword", "or"):
            expr = expr | self.and_()
        return expr

    def and_(self) -> Expr:
        expr = self.not_()
        while self.accept("keyword", "and"):
            expr = expr & self.not_()
        return expr

    def not_(self) -> Expr:
        if self.token.kind in ("keyword", "op") and self.token.text in ("not", "("):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.fail(f"at most {MAX_DEPTH} nested parentheses and 'not's")
        if self.accept("keyword", "not"):
            expr: Expr = Not(self.not_())
        elif self.accept("op", "("):
            expr = self.or_()
            self.expect("op", ")", "')' or 'and'/'or'")
        else:
            return self.condition()
        self.depth -= 1
        return expr

    def name(self, what: str) -> str:
        token = self.accept("name")
        if token is None:
            raise self.fail(what)
        return token.text[1:-1] if token.text.startswith("`") else token.text

    def field(self) -> Field:
        steps: list[Step] = []
        attribute = self.name("an attribute slug, 'not' or '('")
        while self.accept("op", "->"):
            target = self.name("the object the reference leads to, after '->'")
            steps.append((steps[-1][2] if steps else None, attribute, target))
            self.expect("op", ".", "'.' and an attribute of " + repr(target))
            attribute = self.name(f"an attribute of {target!r}")
        field = Field(attribute, None, tuple(steps))
        if self.accept("op", "."):
            field = field[self.name(f"a property of {attribute!r}")]
        return field

    def condition(self) -> Expr:
        field = self.field()
        if self.accept("keyword", "is"):
            if self.accept("keyword", "set"):
                return field.is_set()
            if self.accept("keyword", "empty"):
                return field.is_empty()
            raise self.fail("'set' or 'empty' after 'is'")
        negated = self.accept("keyword", "not") is not None
        if negated or self.token.text == "in":
            self.expect("keyword", "in", "'in' after 'not'")
            cond = field.in_(self.list())
            return Not(cond) if negated else cond
        token = self.accept("op")
        op = SYMBOL_OPS.get(token.text) or TEXT_OPS.get(token.text) if token else None
        if op is None:
            if token is not None:
                self.index -= 1
            raise self.fail("an operator: = != < <= > >= ~ ^= $= in, or 'is set'")
        value = self.value(f"a value after {token.text!r}" if token else "a value")
        if op == "$ne":
            return field.ne(value)
        if op in TEXT_OPS.values() and not isinstance(value, str):
            self.index -= 1
            raise self.fail(f"text after {token.text!r}" if token else "text")
        return field.eq(value) if op == "$eq" else field._cond(op, value)

    def value(self, what: str) -> Any:
        token = self.token
        if self.accept("string"):
            body = token.text[1:-1]
            return re.sub(r"\\(.)", r"\1", body)
        if self.accept("number"):
            digits = len(re.sub(r"\D", "", token.text.split("e")[0].split("E")[0]))
            number = float(token.text)
            if digits > MAX_INT_DIGITS or not math.isfinite(number):
                self.index -= 1
                raise self.fail(f"a finite number of at most {MAX_INT_DIGITS} digits")
            return int(token.text) if re.fullmatch(r"-?\d+", token.text) else number
        if token.kind == "keyword" and token.text in ("true", "false", "null"):
            self.index += 1
            return {"true": True, "false": False, "null": None}[token.text]
        raise self.fail(what)

    def list(self) -> list[Any]:
        self.expect("op", "[", "'[' to start the list")
        values: list[Any] = []
        if self.accept("op", "]"):
            return values
        values.append(self.value("a value in the list"))
        while self.accept("op", ","):
            values.append(self.value("a value after ','"))
        self.expect("op", "]", "',' or ']'")
        return values


def parse_text(text: str) -> Expr:
    """The expression a text query says."""
    if not isinstance(text, str):
        raise InvalidArgumentError(f"A text query is a str, got {type(text).__name__}.")
    return _Parser(text).parse()
