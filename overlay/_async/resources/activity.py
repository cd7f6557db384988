"""``client.notes`` and ``client.tasks``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from crm_client import (
    models,  # a lazy package: each model loads on first use
    operations,
)

from ..._ids import path_id
from ..._response import NOT_GIVEN, build_body
from ..pagination import AsyncPaginator

if TYPE_CHECKING:
    from crm_client.models import (
        Note,
        Task,
    )

    from ..._ids import (
        NoteId,
        TaskId,
    )
from ..._paging import CURSOR_PAGE
from ._base import _AsyncResource, _given, _none, raw_call, raw_page


class AsyncNotes(_AsyncResource):
    """``client.notes``: notes on records."""

    @property
    def with_raw_response(self) -> AsyncNotesRaw:
        """The same calls, each answering the ``RawResponse`` (status, headers, request id,
        ``parse()``); a paginated one answers its first page's."""
        return AsyncNotesRaw(self._raw_copy())

    def list(
        self,
        *,
        parent_object: str = NOT_GIVEN,
        parent_record_id: str = NOT_GIVEN,
        page_size: int = CURSOR_PAGE,
        max_items: int | None = None,
    ) -> AsyncPaginator[Note]:
        return self._cursor_pages(
            operations.LIST_NOTES,
            page_size=page_size,
            max_items=max_items,
            parent_object=_given(parent_object),
            parent_record_id=_given(parent_record_id),
        )

    async def get(self, note_id: NoteId) -> Note:
        note_id = path_id(note_id, "note_id")
        return await self._call(operations.GET_NOTE, note_id)

    async def create(
        self,
        *,
        parent_object: str,
        parent_record_id: str,
        title: str,
        content: str,
        format: str = NOT_GIVEN,
        idempotency_key: str = NOT_GIVEN,
    ) -> Note:
        parent = {"object": parent_object, "record_id": parent_record_id}
        body = build_body(
            models.NoteCreateRequest, {"parent": parent, "title": title, "content": content, "format": format}
        )
        return await self._call(operations.CREATE_NOTE, body=body, idempotency_key=_given(idempotency_key))

    async def delete(self, note_id: NoteId, *, idempotency_key: str = NOT_GIVEN) -> None:
        note_id = path_id(note_id, "note_id")
        await self._call(operations.DELETE_NOTE, note_id, idempotency_key=_given(idempotency_key), cast=_none)


class AsyncTasks(_AsyncResource):
    """``client.tasks``: to-dos, optionally linked to records and assigned."""

    @property
    def with_raw_response(self) -> AsyncTasksRaw:
        """The same calls, each answering the ``RawResponse`` (status, headers, request id,
        ``parse()``); a paginated one answers its first page's."""
        return AsyncTasksRaw(self._raw_copy())

    def list(
        self,
        *,
        is_completed: bool = NOT_GIVEN,
        linked_object: str = NOT_GIVEN,
        linked_record_id: str = NOT_GIVEN,
        page_size: int = CURSOR_PAGE,
        max_items: int | None = None,
    ) -> AsyncPaginator[Task]:
        return self._cursor_pages(
            operations.LIST_TASKS,
            page_size=page_size,
            max_items=max_items,
            is_completed=_given(is_completed),
            linked_object=_given(linked_object),
            linked_record_id=_given(linked_record_id),
        )

    async def get(self, task_id: TaskId) -> Task:
        task_id = path_id(task_id, "task_id")
        return await self._call(operations.GET_TASK, task_id)

    async def create(
        self,
        *,
        content: str,
        deadline_at: Any = NOT_GIVEN,
        is_completed: bool = NOT_GIVEN,
        linked_records: Sequence[Mapping[str, str]] = NOT_GIVEN,
        assignees: Sequence[Mapping[str, Any]] = NOT_GIVEN,
        idempotency_key: str = NOT_GIVEN,
    ) -> Task:
        """``deadline_at`` is a datetime (or ISO 8601 text); ``linked_records`` are
        ``{"object": ..., "record_id": ...}``."""
        fields = {
            "content": content,
            "deadline_at": deadline_at,
            "is_completed": is_completed,
            "linked_records": linked_records,
            "assignees": assignees,
        }
        body = build_body(models.TaskCreateRequest, fields)
        return await self._call(operations.CREATE_TASK, body=body, idempotency_key=_given(idempotency_key))

    async def update(
        self,
        task_id: TaskId,
        *,
        content: str = NOT_GIVEN,
        deadline_at: Any = NOT_GIVEN,
        is_completed: bool = NOT_GIVEN,
        linked_records: Sequence[Mapping[str, str]] = NOT_GIVEN,
        assignees: Sequence[Mapping[str, Any]] = NOT_GIVEN,
        idempotency_key: str = NOT_GIVEN,
    ) -> Task:
        """Change what is given: ``content``, ``deadline_at`` (``None`` clears it),
        ``is_completed``, ``linked_records`` or ``assignees``."""
        task_id = path_id(task_id, "task_id")
        fields = {
            "content": content,
            "deadline_at": deadline_at,
            "is_completed": is_completed,
            "linked_records": linked_records,
            "assignees": assignees,
        }
        body = build_body(models.TaskUpdateRequest, fields)
        return await self._call(
            operations.UPDATE_TASK, task_id, body=body, idempotency_key=_given(idempotency_key)
        )

    async def delete(self, task_id: TaskId, *, idempotency_key: str = NOT_GIVEN) -> None:
        task_id = path_id(task_id, "task_id")
        await self._call(operations.DELETE_TASK, task_id, idempotency_key=_given(idempotency_key), cast=_none)


class AsyncNotesRaw:
    """``notes.with_raw_response``: AsyncNotes's calls, answering ``RawResponse``s."""

    def __init__(self, raw: AsyncNotes) -> None:
        self.list = raw_page(raw.list)
        self.get = raw_call(raw.get)
        self.create = raw_call(raw.create)
        self.delete = raw_call(raw.delete)


class AsyncTasksRaw:
    """``tasks.with_raw_response``: AsyncTasks's calls, answering ``RawResponse``s."""

    def __init__(self, raw: AsyncTasks) -> None:
        self.list = raw_page(raw.list)
        self.get = raw_call(raw.get)
        self.create = raw_call(raw.create)
        self.update = raw_call(raw.update)
        self.delete = raw_call(raw.delete)
