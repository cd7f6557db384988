"""Turning JSON into the generated client's typed models, with the overlay's own errors.

``loads`` is the one JSON decoder for what a server sent: a body nested too deeply for
Python's recursion limit is a ``ValueError`` like any other JSON that cannot be read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol, TypeVar

from ._errors import ResponseParseError

M = TypeVar("M", covariant=True)


def loads(content: bytes | str) -> Any:
    """``json.loads``, with a body nested past the recursion limit raised as ``ValueError``."""
    try:
        return json.loads(content)
    except RecursionError:
        raise ValueError("nested too deeply to read") from None


class Model(Protocol[M]):
    """What every generated model class offers."""

    def from_dict(self, src_dict: Mapping[str, Any], /) -> M: ...


def parse(model: Model[M], data: bytes | str | Mapping[str, Any], *, request_id: str | None = None) -> M:
    """Build ``model`` from JSON text or an already decoded mapping.

    Raises ``ResponseParseError`` naming the model and the reason when the body is not JSON
    or does not have the model's shape; never the ``KeyError``/``TypeError`` of the
    generated code.
    """
    name = getattr(model, "__name__", type(model).__name__)
    if isinstance(data, bytes | str):
        try:
            data = loads(data)
        except ValueError as exc:
            raise ResponseParseError(name, f"not JSON ({exc})", request_id=request_id) from None
    if not isinstance(data, Mapping):
        reason = f"expected a JSON object, got {type(data).__name__}"
        raise ResponseParseError(name, reason, request_id=request_id)
    try:
        return model.from_dict(data)
    except RecursionError:
        raise ResponseParseError(name, "nested too deeply to read", request_id=request_id) from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ResponseParseError.from_exception(name, exc, request_id=request_id) from None
