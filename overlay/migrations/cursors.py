"""The API's cursor codec: a position (an offset or a row's sequence number) in base 36.

Public and dependency-free, so the client's version layer and the reference server
(``crm_sandbox``) read and write cursors the same way:

    >>> from overlay.migrations.cursors import cursor_of, offset_of
    >>> cursor_of(1295)
    'zz'
    >>> offset_of("zz")
    1295

Every text of base-36 digits is a position, so each cursor the spec's pattern admits
decodes; ``offset_of`` raises ``ValueError`` for one that is not base 36.
"""

from __future__ import annotations

__all__ = ["cursor_of", "offset_of"]

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def cursor_of(offset: int) -> str:
    """A non-negative position as a cursor (base 36, lower case)."""
    out = ""
    while True:
        offset, rest = divmod(offset, 36)
        out = _DIGITS[rest] + out
        if not offset:
            return out


def offset_of(cursor: str) -> int:
    """The position a cursor stands for; ``ValueError`` if it is not base 36."""
    return int(cursor, 36)
