"""API versions and the changes between them, declared once: ``overlay.migrations``.

    >>> from overlay import migrations
    >>> migrations.upgrade(old_task, "Task", from_version="2025-01-01")
    >>> migrations.downgrade(record, "Record", to_version="2025-08-01")

Each change is a ``VersionChange`` class in ``_versions.py``; its docstring is its line
in the changelog (``changelog()``), its ``instructions`` say what it does. The client's
transport (``_http.py``), ``crm migrate`` and ``crm migrate-code`` (``_codemod.py``) all
read them. ``cursors`` is the API's cursor codec, public for the reference server too.
"""

from ._bundle import Version, VersionBundle, VersionChange
from ._instructions import (
    EndpointAdded,
    EndpointMoved,
    EnumValuesAdded,
    EnumValuesRenamed,
    ErrorShapeChanged,
    FieldAdded,
    FieldRemoved,
    FieldRenamed,
    FieldsNested,
    FieldTypeChanged,
    Instruction,
    ItemsExpanded,
    MigrationDefinitionError,
    PaginationChanged,
    SchemaInstruction,
    SigningChanged,
)
from ._migrate import downgrade, spell_out_currencies, upgrade
from ._versions import TEST_ID_PREFIX, VERSIONS

LATEST = VERSIONS.latest


def changelog() -> str:
    """The API changelog in Markdown, newest version first, one line per change."""
    lines = ["# API changelog", ""]
    for version in reversed(VERSIONS.versions):
        lines.append(f"## {version.date}")
        lines.append("")
        lines.extend(f"- {change.changelog()}" for change in version.changes)
        if not version.changes:
            lines.append("- The first version.")
        lines.append("")
    return "\n".join(lines)


__all__ = [
    "LATEST",
    "TEST_ID_PREFIX",
    "VERSIONS",
    "EndpointAdded",
    "EndpointMoved",
    "EnumValuesAdded",
    "EnumValuesRenamed",
    "ErrorShapeChanged",
    "FieldAdded",
    "FieldRemoved",
    "FieldRenamed",
    "FieldTypeChanged",
    "FieldsNested",
    "Instruction",
    "ItemsExpanded",
    "MigrationDefinitionError",
    "PaginationChanged",
    "SchemaInstruction",
    "SigningChanged",
    "Version",
    "VersionBundle",
    "VersionChange",
    "changelog",
    "downgrade",
    "spell_out_currencies",
    "upgrade",
]
