"""Import and export: CSV, JSON lines, Excel and Parquet, mapped and coerced by the schema.

    report = crm.import_file("people.csv", "people", match="email_addresses")
    crm.records("people").where("rating >= 4").export("people.parquet")

The client methods do the work; this package holds what they return and take
(``ImportReport``, ``ExportReport``, ``Column``: ``from overlay.io import Column``) and the
readers and writers themselves, for use without a client. Its names load on first use, so
a client that never imports or exports never loads them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._errors import FileFormatError, MappingError
    from .._metadata_core import AttributeInfo
    from ._cells import CellError, Settings, format_money
    from ._flatten import ExportColumn, flatten_record, plan_columns, value_cells
    from ._plan import Column, Plan, RowError, parse_map
    from ._read import open_table, rows_table
    from ._read_text import detect_encoding
    from ._report import ErrorFile, ExportReport, ImportReport, Rejection
    from ._table import Row, Table, format_of
    from ._write import Writer, escape_formula, open_writer, unescape_formula

_WHERE = {
    "FileFormatError": ".._errors",
    "MappingError": ".._errors",
    **dict.fromkeys(("AttributeInfo", "CellError", "Settings", "format_money"), "._cells"),
    **dict.fromkeys(("ExportColumn", "flatten_record", "plan_columns", "value_cells"), "._flatten"),
    **dict.fromkeys(("Column", "Plan", "RowError", "parse_map"), "._plan"),
    **dict.fromkeys(("open_table", "rows_table"), "._read"),
    "detect_encoding": "._read_text",
    **dict.fromkeys(("Row", "Table", "format_of"), "._table"),
    **dict.fromkeys(("ErrorFile", "ExportReport", "ImportReport", "Rejection"), "._report"),
    **dict.fromkeys(("Writer", "escape_formula", "open_writer", "unescape_formula"), "._write"),
}

__all__ = [
    "AttributeInfo",
    "CellError",
    "Column",
    "ErrorFile",
    "ExportColumn",
    "ExportReport",
    "FileFormatError",
    "ImportReport",
    "MappingError",
    "Plan",
    "Rejection",
    "Row",
    "RowError",
    "Settings",
    "Table",
    "Writer",
    "detect_encoding",
    "escape_formula",
    "flatten_record",
    "format_money",
    "format_of",
    "open_table",
    "open_writer",
    "parse_map",
    "plan_columns",
    "rows_table",
    "unescape_formula",
    "value_cells",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'overlay.io' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
