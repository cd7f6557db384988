"""Ids in request paths: the id (or slug) as text, or the identifier object the SDK returned.

``crm.webhooks.test(hook.id)`` and ``crm.webhooks.test("wh_...")`` are the same call:
``hook.id`` is a ``WebhookIdentifier``, and the path takes its ``webhook_id``. Anything
else (a number, ``None``, another kind of identifier, an empty text) is refused with
``InvalidArgumentError`` naming the parameter, before a request is sent.
"""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Any, TypeAlias

from ._errors import InvalidArgumentError

if TYPE_CHECKING:
    from crm_client.models import (
        AttributeIdentifier,
        EntryIdentifier,
        ListIdentifier,
        NoteIdentifier,
        ObjectIdentifier,
        RecordIdentifier,
        SelectOptionIdentifier,
        TaskIdentifier,
        WebhookIdentifier,
    )
    from crm_client.operations import Operation

    ObjectRef: TypeAlias = str | ObjectIdentifier
    AttributeRef: TypeAlias = str | AttributeIdentifier
    OptionRef: TypeAlias = str | SelectOptionIdentifier
    RecordId: TypeAlias = str | RecordIdentifier
    ListRef: TypeAlias = str | ListIdentifier
    EntryId: TypeAlias = str | EntryIdentifier
    NoteId: TypeAlias = str | NoteIdentifier
    TaskId: TypeAlias = str | TaskIdentifier
    WebhookId: TypeAlias = str | WebhookIdentifier

# Each path parameter: the identifier model it also takes, and that model's field for the path.
IDENTIFIERS = {
    "object": ("ObjectIdentifier", "object_id"),
    "attribute": ("AttributeIdentifier", "attribute_id"),
    "option": ("SelectOptionIdentifier", "option_id"),
    "record_id": ("RecordIdentifier", "record_id"),
    "list": ("ListIdentifier", "list_id"),
    "entry_id": ("EntryIdentifier", "entry_id"),
    "note_id": ("NoteIdentifier", "note_id"),
    "task_id": ("TaskIdentifier", "task_id"),
    "webhook_id": ("WebhookIdentifier", "webhook_id"),
}


def path_id(value: Any, parameter: str) -> str:
    """The text ``value`` stands for in the path, or ``InvalidArgumentError`` naming ``parameter``."""
    if isinstance(value, str):
        if not value.strip():
            raise InvalidArgumentError(f"{parameter} is empty; pass the id.")
        return value
    model, field = IDENTIFIERS[parameter]
    if type(value).__name__ == model and type(value).__module__.startswith("crm_client.models"):
        found = getattr(value, field, None)
        if isinstance(found, str) and found.strip():
            return found
        raise InvalidArgumentError(f"{parameter}: this {model} has no {field}.")
    hint = " (pass its .id)" if _identifier_of(getattr(value, "id", None), model) else ""
    raise InvalidArgumentError(
        f"{parameter} takes the id as text or a {model}, got {type(value).__name__}{hint}."
    )


def _identifier_of(value: Any, model: str) -> bool:
    return type(value).__name__ == model or (model == "RecordIdentifier" and isinstance(value, str))


@functools.cache
def _path_parameters(operation: Operation) -> tuple[str, ...]:
    """The path parameters of an operation: the positional ones of its ``build_request``."""
    parameters = inspect.signature(operation.module.build_request).parameters.values()
    return tuple(p.name.rstrip("_") for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD)


def path_args(operation: Operation, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """``args`` of a call to ``operation``, each path parameter as its text (see ``path_id``)."""
    names = _path_parameters(operation)
    return tuple(
        path_id(value, names[i]) if i < len(names) and names[i] in IDENTIFIERS else value
        for i, value in enumerate(args)
    )
