"""The hand-written CRM SDK: ``import overlay``.

The generated low-level client lives in ``crm_client``; the overlay adds what a generator
cannot express. Its public names are listed in ``__all__`` and nowhere else.
"""

from ._errors import CRMError, ResponseParseError
from ._parse import parse
from ._sandbox import Sandbox, SandboxError

__version__ = "0.1.0"

__all__ = [
    "CRMError",
    "ResponseParseError",
    "Sandbox",
    "SandboxError",
    "__version__",
    "parse",
]
