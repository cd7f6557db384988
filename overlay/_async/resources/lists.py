"""``client.lists`` and ``client.entries(list)``: lists and the records entered in them."""

from __future__ import annotations

import builtins
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
        Entry,
        List,
    )

    from ..._ids import (
        EntryId,
        ListRef,
    )
    from ..requester import AsyncRequester
from ..._paging import RECORDS_PAGE, Filter
from ._base import _AsyncResource, _given, _none, raw_call, raw_page


class AsyncLists(_AsyncResource):
    """``client.lists``: lists of records (pipelines, shortlists)."""

    @property
    def with_raw_response(self) -> AsyncListsRaw:
        """The same calls, each answering the ``RawResponse`` (status, headers, request id,
        ``parse()``); a paginated one answers its first page's."""
        return AsyncListsRaw(self._raw_copy())

    async def list(self) -> builtins.list[List]:
        return await self._call(operations.LIST_LISTS)

    async def get(self, list: ListRef) -> List:
        list = path_id(list, "list")
        return await self._call(operations.GET_LIST, list)

    async def create(self, *, name: str, api_slug: str, parent_objects: Sequence[str]) -> List:
        fields = {"name": name, "api_slug": api_slug, "parent_objects": list(parent_objects)}
        return await self._call(operations.CREATE_LIST, body=build_body(models.ListCreateRequest, fields))

    async def update(self, list: ListRef, *, name: str = NOT_GIVEN, api_slug: str = NOT_GIVEN) -> List:
        list = path_id(list, "list")
        body = build_body(models.ListUpdateRequest, {"name": name, "api_slug": api_slug})
        return await self._call(operations.UPDATE_LIST, list, body=body)


class AsyncEntries(_AsyncResource):
    """``client.entries("pipeline")``: the entries of one list."""

    @property
    def with_raw_response(self) -> AsyncEntriesRaw:
        """The same calls, each answering the ``RawResponse`` (status, headers, request id,
        ``parse()``); a paginated one answers its first page's."""
        return AsyncEntriesRaw(self._raw_copy())

    def __init__(self, client: AsyncRequester, list: ListRef) -> None:
        list = path_id(list, "list")
        super().__init__(client)
        self.list = list

    def __repr__(self) -> str:
        return f"<Entries of {self.list!r}>"

    def query(
        self,
        filter: Filter | None = None,
        *,
        sorts: Sequence[Mapping[str, Any]] | None = None,
        page_size: int = RECORDS_PAGE,
        max_items: int | None = None,
    ) -> AsyncPaginator[Entry]:
        query = operations.QUERY_ENTRIES
        return self._offset_pages(query, self.list, filter, sorts, page_size, max_items)

    async def count(self, filter: Filter | None = None) -> int:
        """How many entries match ``filter`` (as ``query`` takes it), counted in the server at
        API version 2026-12-01 and later, page by page before."""
        count: int = await self._count(operations.COUNT_ENTRIES, self.list, filter)
        return count

    async def get(self, entry_id: EntryId) -> Entry:
        entry_id = path_id(entry_id, "entry_id")
        return await self._call(operations.GET_ENTRY, self.list, entry_id)

    async def create(
        self,
        *,
        parent_object: str,
        parent_record_id: str,
        entry_values: Mapping[str, Any] = NOT_GIVEN,
        idempotency_key: str = NOT_GIVEN,
    ) -> Entry:
        fields = {
            "parent_object": parent_object,
            "parent_record_id": parent_record_id,
            "entry_values": entry_values,
        }
        body = build_body(models.EntryCreateRequest, fields)
        return await self._call(
            operations.CREATE_ENTRY, self.list, body=body, idempotency_key=_given(idempotency_key)
        )

    async def upsert(
        self,
        *,
        parent_object: str,
        parent_record_id: str,
        entry_values: Mapping[str, Any] = NOT_GIVEN,
        idempotency_key: str = NOT_GIVEN,
    ) -> Entry:
        """Create the entry, or update the list's entry for that parent record."""
        fields = {
            "parent_object": parent_object,
            "parent_record_id": parent_record_id,
            "entry_values": entry_values,
        }
        body = build_body(models.EntryCreateRequest, fields)
        return await self._call(
            operations.UPSERT_ENTRY, self.list, body=body, idempotency_key=_given(idempotency_key)
        )

    async def update(
        self, entry_id: EntryId, entry_values: Mapping[str, Any], *, idempotency_key: str = NOT_GIVEN
    ) -> Entry:
        entry_id = path_id(entry_id, "entry_id")
        body = build_body(models.EntryUpdateRequest, {"entry_values": entry_values})
        return await self._call(
            operations.UPDATE_ENTRY,
            self.list,
            entry_id,
            body=body,
            idempotency_key=_given(idempotency_key),
        )

    async def delete(self, entry_id: EntryId, *, idempotency_key: str = NOT_GIVEN) -> None:
        entry_id = path_id(entry_id, "entry_id")
        await self._call(
            operations.DELETE_ENTRY,
            self.list,
            entry_id,
            idempotency_key=_given(idempotency_key),
            cast=_none,
        )


class AsyncListsRaw:
    """``lists.with_raw_response``: AsyncLists's calls, answering ``RawResponse``s."""

    def __init__(self, raw: AsyncLists) -> None:
        self.list = raw_call(raw.list)
        self.get = raw_call(raw.get)
        self.create = raw_call(raw.create)
        self.update = raw_call(raw.update)


class AsyncEntriesRaw:
    """``entries.with_raw_response``: AsyncEntries's calls, answering ``RawResponse``s."""

    def __init__(self, raw: AsyncEntries) -> None:
        self.query = raw_page(raw.query)
        self.count = raw_call(raw.count)
        self.get = raw_call(raw.get)
        self.create = raw_call(raw.create)
        self.upsert = raw_call(raw.upsert)
        self.update = raw_call(raw.update)
        self.delete = raw_call(raw.delete)
