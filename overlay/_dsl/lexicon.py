"""The words and symbols of the text query language, shared by its reader and its writer."""

from __future__ import annotations

import json
import re
from typing import Any

KEYWORDS = frozenset({"and", "or", "not", "in", "is", "set", "empty", "true", "false", "null"})
SYMBOL_OPS = {"=": "$eq", "!=": "$ne", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}
TEXT_OPS = {"~": "$contains", "^=": "$starts_with", "$=": "$ends_with"}
OP_SYMBOLS = {v: k for k, v in {**SYMBOL_OPS, **TEXT_OPS}.items()}
NAME = re.compile(r"^[A-Za-z_](?:[A-Za-z0-9_]|-(?!>))*$")


def quote_name(name: str) -> str:
    return name if NAME.match(name) and name.lower() not in KEYWORDS else f"`{name}`"


def quote_value(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    return repr(value)
