"""The source of ``crm_client/operations.py``: one constant per operation of the latest spec.

``make regen`` writes it after the generator has written the endpoint modules, which it
finds under ``api/<tag>/<operation id>.py``. The overlay names an operation by its constant
(``operations.CREATE_RECORD``), never by a string, and calls only the endpoint's public
``build_request`` and ``parse_response``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

PREAMBLE = '''"""Every operation of the API, one constant each (``CREATE_RECORD``), and ``BY_ID``.

An ``Operation`` imports its endpoint module (and the models it uses) on first use, so this
module costs nothing to import.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import httpx


class Operation:
    """One operation: its id, method and path, the first API version that has it
    (``since``), and its endpoint's ``build_request`` and ``parse_response``."""

    __slots__ = ("_module", "id", "method", "module_name", "path", "since")

    def __init__(self, id: str, module_name: str, method: str, path: str, since: str) -> None:
        self.id, self.module_name, self.method, self.path = id, module_name, method, path
        self.since = since
        self._module: ModuleType | None = None

    def served_at(self, version: str) -> bool:
        """Whether API version ``version`` (a date, ``YYYY-MM-DD``) has this operation."""
        return version >= self.since

    @property
    def module(self) -> ModuleType:
        """The endpoint module, ``crm_client.api.<tag>.<id>``, imported on first use."""
        if self._module is None:
            self._module = importlib.import_module(f"crm_client.api.{self.module_name}")
        return self._module

    def build_request(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The request's method, url, params, json and headers, as httpx takes them."""
        built: dict[str, Any] = self.module.build_request(*args, **kwargs)
        return built

    def parse_response(self, response: httpx.Response) -> Any:
        """The typed body of an answer, by its status code."""
        return self.module.parse_response(response)

    def __repr__(self) -> str:
        return f"Operation({self.id!r}, {self.method} {self.path})"


'''


def render(api_dir: Path, by_version: dict[str, dict[str, dict[str, Any]]]) -> str:
    """The module's source, from the generated ``api_dir`` and each version's operations
    (the latest's are the constants; the oldest version having one is its ``since``)."""
    versions = sorted(by_version)
    operations = by_version[versions[-1]]
    since = {op_id: next(v for v in versions if op_id in by_version[v]) for op_id in operations}
    modules = {
        path.stem: f"{path.parent.name}.{path.stem}"
        for path in sorted(api_dir.glob("*/*.py"))
        if path.name != "__init__.py"
    }
    if set(modules) != set(operations):
        raise ValueError(
            f"endpoint modules and spec operations differ: {sorted(set(modules) ^ set(operations))}"
        )
    lines = [PREAMBLE]
    for op_id in sorted(operations):
        spec = operations[op_id]
        lines.append(
            f"{op_id.upper()}: Final = Operation({op_id!r}, {modules[op_id]!r}, "
            f"{spec['method']!r}, {spec['path']!r}, {since[op_id]!r})\n"
        )
    names = ", ".join(op_id.upper() for op_id in sorted(operations))
    lines.append(f"\nBY_ID: Final[dict[str, Operation]] = {{op.id: op for op in ({names},)}}\n")
    return "".join(lines)
