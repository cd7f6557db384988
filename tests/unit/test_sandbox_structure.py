"""How the reference server is put together: it shares the SDK's version declarations through
public modules only, and one explicit table gives each operation its handler."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from overlay.migrations.cursors import cursor_of, offset_of

SANDBOX = Path(__file__).resolve().parents[2] / "sandbox" / "crm_sandbox"


def _overlay_imports() -> list[tuple[str, str]]:
    """``(file, module)`` for every import of an overlay module under sandbox/, top level or not."""
    found = []
    for path in sorted(SANDBOX.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            found += [(path.name, name) for name in names if name.split(".")[0] == "overlay"]
    return found


def test_the_sandbox_imports_no_private_overlay_module() -> None:
    imports = _overlay_imports()
    assert imports, "the sandbox shares the version declarations with the overlay"
    private = [(file, name) for file, name in imports if any(p.startswith("_") for p in name.split("."))]
    assert private == []


def test_what_the_sandbox_shares_loads_neither_httpx_nor_the_generated_models() -> None:
    code = (
        "import sys, overlay.migrations, overlay.migrations.cursors, overlay.phone; "
        "print(sorted(m for m in ('httpx', 'crm_client.models') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_cursor_is_its_position_in_base_36_and_reads_back() -> None:
    assert [cursor_of(n) for n in (0, 35, 36, 1295)] == ["0", "z", "10", "zz"]
    assert all(offset_of(cursor_of(n)) == n for n in (0, 1, 99, 2**62))


def test_the_handler_table_names_each_served_operation_once_and_nothing_else() -> None:
    from crm_client.api_versions import VERSIONS
    from crm_sandbox.handlers import HANDLERS
    from crm_sandbox.operations import operations

    served = {op.id for version in VERSIONS for op in operations(version)}
    assert sorted(HANDLERS) == sorted(served)
