"""``crm migrate-code``: rewrite code written against an older API version's SDK.

Driven by the declarations in ``_versions.py``: a renamed field is renamed where code
reads or writes it (``task.due_date``, ``due_date=...``, ``row["due_date"]``), a field
nested into an object is reached through it (``note.parent_object`` is
``note.parent.object_``), and a renamed enum value is renamed in string literals
(``"record_created"``). What a rename cannot carry, a value whose type or unit changed or
a field that is gone, is listed for review with its line. The rewrite goes by name, not
by type, so read the diff (``--diff``) before you keep it.
"""

from __future__ import annotations

import builtins
import difflib
import keyword
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from .._errors import InvalidArgumentError
from ._instructions import EnumValuesRenamed, FieldRemoved, FieldRenamed, FieldsNested, FieldTypeChanged
from ._versions import VERSIONS

# The names openapi-python-client gives a trailing underscore (``object`` is ``object_``).
_RESERVED = (set(dir(builtins)) | set(keyword.kwlist) | {"self", "true", "false", "datetime"}) - {"id"}
_KEY_METHODS = frozenset({"get", "pop", "setdefault"})


def python_name(name: str) -> str:
    """A field's attribute name in the generated models."""
    return f"{name}_" if name in _RESERVED else name


@dataclass
class CodeChanges:
    """What changes between two versions, as code sees it."""

    keys: dict[str, str] = field(default_factory=dict)  # JSON key → new key
    attributes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # attribute → new path
    values: dict[str, str] = field(default_factory=dict)  # enum value → new value
    review: dict[str, str] = field(default_factory=dict)  # old name → the changelog line to read
    key_review: dict[str, str] = field(default_factory=dict)  # the same, for string keys only

    @classmethod
    def between(cls, from_version: str, to_version: str) -> CodeChanges:
        if VERSIONS.index(from_version) > VERSIONS.index(to_version):
            raise InvalidArgumentError(f"Code moves forward only: {from_version} is newer than {to_version}.")
        out = cls()
        for step in VERSIONS.steps(from_version, to_version):
            for change in step.changes:
                out._add(change.schema_instructions(), change.changelog())
        return out

    def _add(self, instructions: Iterable[object], note: str) -> None:
        renamed_here: dict[str, str] = {}  # new → old, within this change
        for instruction in instructions:
            if isinstance(instruction, FieldRenamed):
                old, new = instruction.old, instruction.new
                renamed_here[new] = self._earliest(old)
                _compose(self.keys, old, new)
                _compose_path(self.attributes, python_name(old), (python_name(new),))
            elif isinstance(instruction, FieldsNested):
                for old, inner in instruction.fields.items():
                    path = (python_name(instruction.into), python_name(inner))
                    _compose_path(self.attributes, python_name(old), path)
                    self.key_review[self._earliest(old)] = note  # a key cannot move into an object
            elif isinstance(instruction, EnumValuesRenamed):
                for old, new in instruction.mapping.items():
                    _compose(self.values, old, new)
            elif isinstance(instruction, FieldTypeChanged):
                self.review[renamed_here.get(instruction.name, self._earliest(instruction.name))] = note
            elif isinstance(instruction, FieldRemoved):
                self.review[self._earliest(instruction.name)] = note

    def _earliest(self, name: str) -> str:
        """The name ``name`` had in the code being rewritten (before earlier renames)."""
        return next((old for old, new in self.keys.items() if new == name), name)


def _compose(mapping: dict[str, str], old: str, new: str) -> None:
    for earlier, target in mapping.items():
        if target == old:
            mapping[earlier] = new
    mapping.setdefault(old, new)


def _compose_path(mapping: dict[str, tuple[str, ...]], old: str, new: tuple[str, ...]) -> None:
    for earlier, target in mapping.items():
        if target[-1] == old:
            mapping[earlier] = target[:-1] + new
    mapping.setdefault(old, new)


@dataclass(frozen=True)
class Edit:
    """One change, or one place to review, in a file."""

    line: int
    before: str
    after: str | None  # None: nothing was rewritten, only a note
    note: str | None = None

    def __str__(self) -> str:
        what = f"{self.before} → {self.after}" if self.after is not None else self.before
        return what + (f"  (review: {self.note})" if self.note else "")


class _Rewriter(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, changes: CodeChanges) -> None:
        super().__init__()
        self.changes = changes
        self.edits: list[Edit] = []
        self._python_review = {python_name(name): note for name, note in changes.review.items()}
        self._key_review = {**changes.review, **changes.key_review}

    def _line(self, node: cst.CSTNode) -> int:
        return self.get_metadata(PositionProvider, node).start.line

    def _edit(
        self, node: cst.CSTNode, before: str, after: str | None, name: str, review: dict[str, str]
    ) -> None:
        self.edits.append(Edit(self._line(node), before, after, review.get(name)))

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        name = original.attr.value
        path = self.changes.attributes.get(name)
        if path is None:
            if name in self._python_review:
                self._edit(original, f".{name}", None, name, self._python_review)
            return updated
        node: cst.BaseExpression = updated.value
        for part in path:
            node = cst.Attribute(value=node, attr=cst.Name(part))
        self._edit(original, f".{name}", "." + ".".join(path), name, self._python_review)
        return node

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
        if updated.keyword is None:
            return updated
        name = updated.keyword.value
        path = self.changes.attributes.get(name)
        if path is None or len(path) != 1:  # a nested field stays a keyword of its own
            return updated
        self._edit(original, f"{name}=", f"{path[0]}=", name, self._python_review)
        return updated.with_changes(keyword=cst.Name(path[0]))

    def _key(self, original: cst.BaseExpression, node: cst.BaseExpression) -> cst.BaseExpression:
        """``node`` with a renamed JSON key, if it is a string literal naming one."""
        if not isinstance(node, cst.SimpleString) or "b" in node.prefix.lower():
            return node
        name = node.evaluated_value
        if not isinstance(name, str):
            return node
        new = self.changes.keys.get(name)
        if new is None:
            if name in self._key_review:
                self._edit(original, repr(name), None, name, self._key_review)
            return node
        self._edit(original, repr(name), repr(new), name, self._key_review)
        return node.with_changes(value=f"{node.prefix}{node.quote}{new}{node.quote}")

    def leave_DictElement(self, original: cst.DictElement, updated: cst.DictElement) -> cst.DictElement:
        return updated.with_changes(key=self._key(original.key, updated.key))

    def leave_Index(self, original: cst.Index, updated: cst.Index) -> cst.Index:
        return updated.with_changes(value=self._key(original.value, updated.value))

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        func = updated.func
        if not (isinstance(func, cst.Attribute) and func.attr.value in _KEY_METHODS and updated.args):
            return updated
        first = updated.args[0]
        key = self._key(original.args[0].value, first.value)
        return updated.with_changes(args=[first.with_changes(value=key), *updated.args[1:]])

    def leave_SimpleString(self, original: cst.SimpleString, updated: cst.SimpleString) -> cst.SimpleString:
        value = original.evaluated_value
        new = self.changes.values.get(value) if isinstance(value, str) else None
        if new is None or "b" in original.prefix.lower():
            return updated
        self._edit(original, repr(value), repr(new), "", {})
        return updated.with_changes(value=f"{updated.prefix}{updated.quote}{new}{updated.quote}")


def rewrite_source(source: str, changes: CodeChanges) -> tuple[str, list[Edit]]:
    """``source`` rewritten, and what changed (or wants a look), by line.

    Raises ``libcst.ParserSyntaxError`` if ``source`` is not Python."""
    wrapper = MetadataWrapper(cst.parse_module(source))
    rewriter = _Rewriter(changes)
    module = wrapper.visit(rewriter)
    return module.code, sorted(rewriter.edits, key=lambda e: e.line)


@dataclass
class FileResult:
    path: Path
    edits: list[Edit]
    diff: str
    error: str | None = None


def rewrite_paths(paths: list[Path], changes: CodeChanges, *, write: bool) -> list[FileResult]:
    """Each ``.py`` file under ``paths`` rewritten (in place when ``write``), with its diff."""
    files = sorted({f for p in paths for f in ([p] if p.is_file() else p.rglob("*.py"))})
    results = []
    for path in files:
        try:
            before = path.read_text(encoding="utf-8")
            after, edits = rewrite_source(before, changes)
        except (OSError, UnicodeDecodeError) as exc:
            results.append(FileResult(path, [], "", f"cannot read it: {exc}"))
            continue
        except cst.ParserSyntaxError as exc:
            results.append(FileResult(path, [], "", f"not Python: {exc.message}"))
            continue
        diff = "".join(
            difflib.unified_diff(
                before.splitlines(keepends=True), after.splitlines(keepends=True), str(path), str(path)
            )
        )
        if write and after != before:
            path.write_text(after, encoding="utf-8")
        results.append(FileResult(path, edits, diff))
    return results
