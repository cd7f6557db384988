"""crm_sandbox: the reference server of the CRM API, for tests, the tour and benchmarks."""

from .app import create_app
from .config import Chaos, SandboxConfig

__all__ = ["Chaos", "SandboxConfig", "create_app"]
