"""Import and export: CSV, JSON lines, Excel and Parquet, mapped and coerced by the schema.

    report = crm.import_file("people.csv", "people", match="email_addresses")
    crm.records("people").where("rating >= 4").export("people.parquet")

The client methods do the work; this package holds what they return and take
(``ImportReport``, ``ExportReport``, ``Column``) and the readers and writers themselves,
for use without a client.
"""

from .._errors import FileFormatError, MappingError
from ._coerce import AttributeInfo, CellError, Settings, format_money
from ._flatten import ExportColumn, flatten_record, plan_columns
from ._plan import Column, Plan, RowError, parse_map
from ._read import Row, Table, detect_encoding, format_of, open_table, rows_table
from ._report import ErrorFile, ExportReport, ImportReport, Rejection
from ._write import Writer, escape_formula, open_writer, unescape_formula

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
]
