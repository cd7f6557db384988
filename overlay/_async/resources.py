"""The API's resources, each a thin layer over the generated endpoint functions.

Path parameters are positional, everything else keyword-only; a path parameter takes the
id (or slug) as text or the identifier object the SDK returned (``hook.id``, ``entry.id``).
Every method returns the typed object (with ``request_id`` set) or, through ``with_raw_response``, a
``RawResponse`` whose ``parse()`` gives that object. List methods return a paginator.
"""

from __future__ import annotations

import builtins
import copy
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from crm_client import models  # a lazy package: each model loads on first use
from crm_client.types import UNSET

from .._dsl.expr import Expr, as_filter
from .._dsl.text import parse_text
from .._errors import InvalidArgumentError
from .._ids import path_id
from .._metadata import Names
from .._records import Record, RecordList, chunks, references
from .._response import NOT_GIVEN, RawResponse, build_body, data_of, op
from .pagination import AsyncPaginator, Page, Token
from .query import AsyncQuery

if TYPE_CHECKING:
    from crm_client.models import (
        Attribute,
        Entry,
        List,
        Note,
        Object,
        RecordBatchResponse,
        SelectOption,
        Task,
        Webhook,
        WebhookDelivery,
        WebhookSecretRotation,
        WebhookWithSecret,
    )

    from .._ids import (
        AttributeRef,
        EntryId,
        ListRef,
        NoteId,
        ObjectRef,
        OptionRef,
        RecordId,
        TaskId,
        WebhookId,
    )
    from ..io._report import ExportReport
    from .client import AsyncClient

T = TypeVar("T")
R = TypeVar("R", bound="_AsyncResource")

Filter = Expr | Mapping[str, Any] | str

# The most records one query may return, and the page sizes the paginators ask for.
QUERY_LIMIT = 1000
RECORDS_PAGE = 500
CURSOR_PAGE = 100


def _none(parsed: Any, request_id: str | None) -> None:
    return None


def _given(value: Any) -> Any:
    """A generated endpoint's keyword: UNSET when the caller left it out."""
    return UNSET if value is NOT_GIVEN or value is None else value


class _AsyncResource:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self._raw = False

    @property
    def with_raw_response(self: R) -> Any:
        """The same methods, returning the ``RawResponse`` (status, headers, request id)."""
        raw = copy.copy(self)
        raw._raw = True
        return raw

    async def _call(self, endpoint: Any, *args: Any, cast: Any = data_of, **kwargs: Any) -> Any:
        return await self._client._call(endpoint, *args, cast=cast, raw=self._raw, **kwargs)

    def _paginate(self, fetch: Any, max_items: int | None, collect: Any = list) -> Any:
        paginator: AsyncPaginator[Any] = AsyncPaginator(fetch, max_items=max_items, collect=collect)
        return self._first_raw(paginator) if self._raw else paginator

    async def _first_raw(self, paginator: AsyncPaginator[Any]) -> RawResponse[Any]:
        return (await paginator.first_page()).raw

    def _cursor_pages(
        self, endpoint: Any, *args: Any, page_size: int, max_items: int | None, **kwargs: Any
    ) -> Any:
        """A paginator over a cursor endpoint (``limit`` + ``cursor`` → ``pagination.next_cursor``)."""

        async def fetch(cursor: Token, want: int | None) -> Page[Any]:
            limit = min(page_size, want) if want else page_size
            parsed, response = await self._client._fetch(
                endpoint, *args, limit=limit, cursor=_given(cursor), **kwargs
            )
            request_id = response.headers.get("x-request-id")
            items = data_of(parsed, request_id)
            return Page(items, parsed.pagination.next_cursor, RawResponse(response, lambda: items))

        return self._paginate(fetch, max_items)

    def _offset_pages(
        self,
        endpoint: Any,
        parent: str,
        filter: Filter | None,
        sorts: Sequence[Mapping[str, Any]] | None,
        page_size: int,
        max_items: int | None,
        *,
        items: Any = None,
        check: Any = None,
        collect: Any = list,
    ) -> Any:
        """A paginator over a query endpoint (``limit`` + ``offset``; a short page is the last).

        A text filter is parsed; then ``check(filter)`` (awaited, once, before the first page)
        gives the filter to send. ``items(data, request_id)`` turns a page's unparsed ``data``
        list into its items; without it, items are the endpoint's typed models.
        """
        if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= QUERY_LIMIT:
            raise InvalidArgumentError(f"page_size takes 1 to {QUERY_LIMIT}, got {page_size!r}.")
        expr = parse_text(filter) if isinstance(filter, str) else filter
        ready: dict[str, Any] = {}

        async def prepare() -> tuple[Mapping[str, Any] | None, Names]:
            if not ready:
                final = expr
                if check is not None:
                    final = await check(final)
                json = as_filter(final, parent)
                ready["filter"], ready["names"] = json, Names.of_filter(parent, json, sorts)
            return ready["filter"], ready["names"]

        async def fetch(offset: Token, want: int | None) -> Page[Any]:
            limit = min(page_size, want) if want else page_size
            filter_json, names = await prepare()
            request = {"filter": filter_json, "sorts": sorts, "limit": limit, "offset": offset or 0}
            body = build_body(
                models.RecordQueryRequest, {k: v for k, v in request.items() if v is not None}, wrap=False
            )
            parsed, response = await self._client._fetch(
                endpoint, parent, body=body, names=names, parse=items is None
            )
            request_id = response.headers.get("x-request-id")
            found = await items(parsed, request_id) if items else data_of(parsed, request_id)
            following = int(offset or 0) + len(found) if len(found) == limit else None
            return Page(found, following, RawResponse(response, lambda: found))

        return self._paginate(fetch, max_items, collect)


class AsyncObjects(_AsyncResource):
    """``client.objects``: the kinds of record (people, companies, your own)."""

    async def list(self) -> builtins.list[Object]:
        return await self._call(op("objects.list_objects"))

    async def get(self, object: ObjectRef) -> Object:
        object = path_id(object, "object")
        return await self._call(op("objects.get_object"), object, names=Names(object))

    async def create(self, *, api_slug: str, singular_noun: str, plural_noun: str) -> Object:
        fields = {"api_slug": api_slug, "singular_noun": singular_noun, "plural_noun": plural_noun}
        created = await self._call(
            op("objects.create_object"), body=build_body(models.ObjectCreateRequest, fields)
        )
        self._client.metadata.refresh(api_slug)
        return created

    async def update(
        self,
        object: ObjectRef,
        *,
        api_slug: str = NOT_GIVEN,
        singular_noun: str = NOT_GIVEN,
        plural_noun: str = NOT_GIVEN,
    ) -> Object:
        object = path_id(object, "object")
        fields = {"api_slug": api_slug, "singular_noun": singular_noun, "plural_noun": plural_noun}
        updated = await self._call(
            op("objects.update_object"),
            object,
            body=build_body(models.ObjectUpdateRequest, fields),
            names=Names(object),
        )
        self._client.metadata.refresh()
        return updated


class AsyncAttributes(_AsyncResource):
    """``client.attributes``: the attributes of an object and the options of its selects."""

    async def list(self, object: ObjectRef, *, show_archived: bool = False) -> builtins.list[Attribute]:
        object = path_id(object, "object")
        return await self._call(
            op("attributes.list_attributes"), object, show_archived=show_archived, names=Names(object)
        )

    async def get(self, object: ObjectRef, attribute: AttributeRef) -> Attribute:
        object = path_id(object, "object")
        attribute = path_id(attribute, "attribute")
        names = Names(object, [attribute])
        return await self._call(op("attributes.get_attribute"), object, attribute, names=names)

    async def create(
        self,
        object: ObjectRef,
        *,
        title: str,
        api_slug: str,
        type: str,
        description: str = NOT_GIVEN,
        is_required: bool = NOT_GIVEN,
        is_unique: bool = NOT_GIVEN,
        is_multiselect: bool = NOT_GIVEN,
        config: Mapping[str, Any] = NOT_GIVEN,
    ) -> Attribute:
        object = path_id(object, "object")
        fields = {
            "title": title,
            "api_slug": api_slug,
            "type": type,
            "description": description,
            "is_required": is_required,
            "is_unique": is_unique,
            "is_multiselect": is_multiselect,
            "config": config,
        }
        body = build_body(models.AttributeCreateRequest, fields)
        created = await self._call(op("attributes.create_attribute"), object, body=body, names=Names(object))
        self._client.metadata.refresh(object)
        return created

    async def update(self, object: ObjectRef, attribute: AttributeRef, **fields: Any) -> Attribute:
        """Change ``title``, ``description``, ``api_slug``, ``is_required``, ``is_unique``,
        ``is_archived`` or ``config``."""
        object = path_id(object, "object")
        attribute = path_id(attribute, "attribute")
        body = build_body(models.AttributeUpdateRequest, fields)
        names = Names(object, [attribute])
        updated = await self._call(
            op("attributes.update_attribute"), object, attribute, body=body, names=names
        )
        self._client.metadata.refresh(object)
        return updated

    async def list_options(
        self, object: ObjectRef, attribute: AttributeRef, *, show_archived: bool = False
    ) -> builtins.list[SelectOption]:
        object = path_id(object, "object")
        attribute = path_id(attribute, "attribute")
        names = Names(object, [attribute])
        return await self._call(
            op("attributes.list_select_options"), object, attribute, show_archived=show_archived, names=names
        )

    async def create_option(self, object: ObjectRef, attribute: AttributeRef, *, title: str) -> SelectOption:
        object = path_id(object, "object")
        attribute = path_id(attribute, "attribute")
        body = build_body(models.SelectOptionCreateRequest, {"title": title})
        names = Names(object, [attribute])
        created = await self._call(
            op("attributes.create_select_option"), object, attribute, body=body, names=names
        )
        self._client.metadata.refresh(object)
        return created

    async def update_option(
        self,
        object: ObjectRef,
        attribute: AttributeRef,
        option: OptionRef,
        *,
        title: str = NOT_GIVEN,
        is_archived: bool = NOT_GIVEN,
    ) -> SelectOption:
        object = path_id(object, "object")
        attribute = path_id(attribute, "attribute")
        option = path_id(option, "option")
        body = build_body(models.SelectOptionUpdateRequest, {"title": title, "is_archived": is_archived})
        names = Names(object, [attribute])
        updated = await self._call(
            op("attributes.update_select_option"), object, attribute, option, body=body, names=names
        )
        self._client.metadata.refresh(object)
        return updated


class AsyncRecords(_AsyncResource):
    """``client.records("people")``: the records of one object.

    ``include=["company"]`` on ``get`` and ``query`` fetches the records those
    record-reference attributes point to (one query per target object and page), so
    ``person["company"]`` is the company's ``Record``, or ``None`` if it was deleted.
    Without ``include`` a reference reads as its target's record id.
    """

    def __init__(self, client: AsyncClient, object: ObjectRef) -> None:
        object = path_id(object, "object")
        super().__init__(client)
        self.object = object

    def __repr__(self) -> str:
        return f"<Records of {self.object!r}>"

    def _record(self, parsed: Any, request_id: str | None) -> Record:
        return Record(parsed.data, request_id, self.object)

    def _write(self, values: Mapping[str, Any]) -> Any:
        if not isinstance(values, Mapping):
            kind = type(values).__name__
            raise InvalidArgumentError(f"values must map attribute slugs to values, got {kind}.")
        return build_body(models.RecordWriteRequest, {"values": values})

    async def get(self, record_id: RecordId, *, include: Sequence[str] = ()) -> Record:
        record_id = path_id(record_id, "record_id")
        if include:
            await self._client.metadata.check_query(self.object, None, include)
        record: Record = await self._call(
            op("records.get_record"), self.object, record_id, cast=self._record, names=Names(self.object)
        )
        if include and not self._raw:
            await self._hydrate([record], include)
        return record

    def query(
        self,
        filter: Filter | None = None,
        *,
        sorts: Sequence[Mapping[str, Any]] | None = None,
        include: Sequence[str] = (),
        page_size: int = RECORDS_PAGE,
        max_items: int | None = None,
        check: bool = True,
    ) -> AsyncPaginator[Record]:
        """Records matching ``filter``, in ``sorts`` order.

        ``filter`` is an ``F`` expression, a text query or the API's JSON. Expressions and
        text, sort attributes and ``include`` slugs are checked against the workspace's
        cached schema before the first page (``check=False`` skips it).
        """
        include = tuple(include)
        metadata = self._client.metadata

        async def checked(filter: Any) -> Any:
            await metadata.check_query(self.object, sorts, include)
            return await metadata.check_filter(self.object, filter) if isinstance(filter, Expr) else filter

        async def records(data: list[Any], request_id: str | None) -> RecordList:
            found = RecordList(Record.from_json(item, request_id, self.object) for item in data)
            if include:
                await self._hydrate(found, include)
            return found

        query = op("records.query_records")
        return self._offset_pages(
            query,
            self.object,
            filter,
            sorts,
            page_size,
            max_items,
            items=records,
            check=checked if check else None,
            collect=RecordList,
        )

    def where(self, *filters: Filter) -> AsyncQuery:
        """A query of these records: ``where(F.rating >= 3, "name ~ 'ada'")``, then more."""
        return AsyncQuery(self).where(*filters)

    def order_by(self, *keys: str) -> AsyncQuery:
        return AsyncQuery(self).order_by(*keys)

    def limit(self, n: int) -> AsyncQuery:
        return AsyncQuery(self).limit(n)

    async def export(self, path: str | os.PathLike[str], **options: Any) -> ExportReport:
        """Every record to a file: ``AsyncQuery.export`` without a filter."""
        return await AsyncQuery(self).export(path, **options)

    async def to_pandas(self, columns: Sequence[str] | None = None, flatten: str = "join") -> Any:
        """Every record as a pandas DataFrame: ``AsyncQuery.to_pandas`` without a filter."""
        return await AsyncQuery(self).to_pandas(columns, flatten)

    async def create(self, values: Mapping[str, Any], *, idempotency_key: str = NOT_GIVEN) -> Record:
        return await self._call(
            op("records.create_record"),
            self.object,
            body=self._write(values),
            idempotency_key=_given(idempotency_key),
            cast=self._record,
            names=Names.of_values(self.object, values),
        )

    async def upsert(
        self, values: Mapping[str, Any], *, matching_attribute: str, idempotency_key: str = NOT_GIVEN
    ) -> Record:
        """Create the record, or update the one whose ``matching_attribute`` has the same value."""
        names = Names.of_values(self.object, values)
        names.attributes.append(matching_attribute)
        return await self._call(
            op("records.upsert_record"),
            self.object,
            body=self._write(values),
            matching_attribute=matching_attribute,
            idempotency_key=_given(idempotency_key),
            cast=self._record,
            names=names,
        )

    async def update(
        self, record_id: RecordId, values: Mapping[str, Any], *, idempotency_key: str = NOT_GIVEN
    ) -> Record:
        """Change the given attributes; multiselect values are added to the existing ones."""
        record_id = path_id(record_id, "record_id")
        return await self._call(
            op("records.update_record"),
            self.object,
            record_id,
            body=self._write(values),
            idempotency_key=_given(idempotency_key),
            cast=self._record,
            names=Names.of_values(self.object, values),
        )

    async def replace(
        self, record_id: RecordId, values: Mapping[str, Any], *, idempotency_key: str = NOT_GIVEN
    ) -> Record:
        """Change the given attributes; multiselect values replace the existing ones."""
        record_id = path_id(record_id, "record_id")
        return await self._call(
            op("records.replace_record"),
            self.object,
            record_id,
            body=self._write(values),
            idempotency_key=_given(idempotency_key),
            cast=self._record,
            names=Names.of_values(self.object, values),
        )

    async def delete(self, record_id: RecordId, *, idempotency_key: str = NOT_GIVEN) -> None:
        record_id = path_id(record_id, "record_id")
        await self._call(
            op("records.delete_record"),
            self.object,
            record_id,
            idempotency_key=_given(idempotency_key),
            cast=_none,
        )

    async def batch(
        self, items: Sequence[Mapping[str, Any]], *, idempotency_key: str = NOT_GIVEN
    ) -> RecordBatchResponse:
        """Up to 100 creates or upserts in one request, each with its own result."""
        body = build_body(models.RecordBatchRequest, {"items": list(items)})
        return await self._call(
            op("records.batch_records"),
            self.object,
            body=body,
            idempotency_key=_given(idempotency_key),
            cast=lambda parsed, request_id: parsed,
        )

    async def attribute_values(
        self, record_id: RecordId, attribute: AttributeRef, *, show_historic: bool = False
    ) -> builtins.list[Any]:
        """The typed values of one attribute, with past ones when ``show_historic``."""
        record_id = path_id(record_id, "record_id")
        attribute = path_id(attribute, "attribute")
        return await self._call(
            op("records.list_record_attribute_values"),
            self.object,
            record_id,
            attribute,
            show_historic=show_historic,
            cast=lambda parsed, request_id: parsed.data,
            names=Names(self.object, [attribute]),
        )

    async def _hydrate(self, records: Sequence[Record], include: Sequence[str]) -> None:
        """Fetch what ``include`` names: one query per target object (per 1000 ids)."""
        found: dict[tuple[str, str], Record] = {}
        for target, ids in sorted(references(records, include).items()):
            for chunk in chunks(ids, QUERY_LIMIT):
                body = build_body(
                    models.RecordQueryRequest,
                    {"filter": {"record_id": {"$in": chunk}}, "limit": QUERY_LIMIT},
                    wrap=False,
                )
                data, response = await self._client._fetch(
                    op("records.query_records"), target, body=body, names=Names(target), parse=False
                )
                request_id = response.headers.get("x-request-id")
                for item in data:
                    record = Record.from_json(item, request_id, target)
                    found[target, record.id] = record
        for record in records:
            record.include(include, found)


class AsyncLists(_AsyncResource):
    """``client.lists``: lists of records (pipelines, shortlists)."""

    async def list(self) -> builtins.list[List]:
        return await self._call(op("lists.list_lists"))

    async def get(self, list: ListRef) -> List:
        list = path_id(list, "list")
        return await self._call(op("lists.get_list"), list)

    async def create(self, *, name: str, api_slug: str, parent_objects: Sequence[str]) -> List:
        fields = {"name": name, "api_slug": api_slug, "parent_objects": list(parent_objects)}
        return await self._call(op("lists.create_list"), body=build_body(models.ListCreateRequest, fields))

    async def update(self, list: ListRef, *, name: str = NOT_GIVEN, api_slug: str = NOT_GIVEN) -> List:
        list = path_id(list, "list")
        body = build_body(models.ListUpdateRequest, {"name": name, "api_slug": api_slug})
        return await self._call(op("lists.update_list"), list, body=body)


class AsyncEntries(_AsyncResource):
    """``client.entries("pipeline")``: the entries of one list."""

    def __init__(self, client: AsyncClient, list: ListRef) -> None:
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
        query = op("entries.query_entries")
        return self._offset_pages(query, self.list, filter, sorts, page_size, max_items)

    async def get(self, entry_id: EntryId) -> Entry:
        entry_id = path_id(entry_id, "entry_id")
        return await self._call(op("entries.get_entry"), self.list, entry_id)

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
            op("entries.create_entry"), self.list, body=body, idempotency_key=_given(idempotency_key)
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
            op("entries.upsert_entry"), self.list, body=body, idempotency_key=_given(idempotency_key)
        )

    async def update(
        self, entry_id: EntryId, entry_values: Mapping[str, Any], *, idempotency_key: str = NOT_GIVEN
    ) -> Entry:
        entry_id = path_id(entry_id, "entry_id")
        body = build_body(models.EntryUpdateRequest, {"entry_values": entry_values})
        return await self._call(
            op("entries.update_entry"),
            self.list,
            entry_id,
            body=body,
            idempotency_key=_given(idempotency_key),
        )

    async def delete(self, entry_id: EntryId, *, idempotency_key: str = NOT_GIVEN) -> None:
        entry_id = path_id(entry_id, "entry_id")
        await self._call(
            op("entries.delete_entry"),
            self.list,
            entry_id,
            idempotency_key=_given(idempotency_key),
            cast=_none,
        )


class AsyncNotes(_AsyncResource):
    """``client.notes``: notes on records."""

    def list(
        self,
        *,
        parent_object: str = NOT_GIVEN,
        parent_record_id: str = NOT_GIVEN,
        page_size: int = CURSOR_PAGE,
        max_items: int | None = None,
    ) -> AsyncPaginator[Note]:
        return self._cursor_pages(
            op("notes.list_notes"),
            page_size=page_size,
            max_items=max_items,
            parent_object=_given(parent_object),
            parent_record_id=_given(parent_record_id),
        )

    async def get(self, note_id: NoteId) -> Note:
        note_id = path_id(note_id, "note_id")
        return await self._call(op("notes.get_note"), note_id)

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
        return await self._call(op("notes.create_note"), body=body, idempotency_key=_given(idempotency_key))

    async def delete(self, note_id: NoteId, *, idempotency_key: str = NOT_GIVEN) -> None:
        note_id = path_id(note_id, "note_id")
        await self._call(
            op("notes.delete_note"), note_id, idempotency_key=_given(idempotency_key), cast=_none
        )


class AsyncTasks(_AsyncResource):
    """``client.tasks``: to-dos, optionally linked to records and assigned."""

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
            op("tasks.list_tasks"),
            page_size=page_size,
            max_items=max_items,
            is_completed=_given(is_completed),
            linked_object=_given(linked_object),
            linked_record_id=_given(linked_record_id),
        )

    async def get(self, task_id: TaskId) -> Task:
        task_id = path_id(task_id, "task_id")
        return await self._call(op("tasks.get_task"), task_id)

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
        return await self._call(op("tasks.create_task"), body=body, idempotency_key=_given(idempotency_key))

    async def update(self, task_id: TaskId, *, idempotency_key: str = NOT_GIVEN, **fields: Any) -> Task:
        """Change ``content``, ``deadline_at`` (``None`` clears it), ``is_completed``,
        ``linked_records`` or ``assignees``."""
        task_id = path_id(task_id, "task_id")
        body = build_body(models.TaskUpdateRequest, fields)
        return await self._call(
            op("tasks.update_task"), task_id, body=body, idempotency_key=_given(idempotency_key)
        )

    async def delete(self, task_id: TaskId, *, idempotency_key: str = NOT_GIVEN) -> None:
        task_id = path_id(task_id, "task_id")
        await self._call(
            op("tasks.delete_task"), task_id, idempotency_key=_given(idempotency_key), cast=_none
        )


def _subscription(subscription: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(subscription, str):
        return {"event_type": subscription, "filter": None}
    return {"filter": None, **subscription}  # no filter: every event of the type


class AsyncWebhooks(_AsyncResource):
    """``client.webhooks``: subscriptions to events, and their deliveries."""

    def list(self, *, page_size: int = CURSOR_PAGE, max_items: int | None = None) -> AsyncPaginator[Webhook]:
        return self._cursor_pages(op("webhooks.list_webhooks"), page_size=page_size, max_items=max_items)

    async def get(self, webhook_id: WebhookId) -> Webhook:
        webhook_id = path_id(webhook_id, "webhook_id")
        return await self._call(op("webhooks.get_webhook"), webhook_id)

    async def create(
        self,
        *,
        target_url: str,
        subscriptions: Sequence[str | Mapping[str, Any]],
        api_version: str = NOT_GIVEN,
        idempotency_key: str = NOT_GIVEN,
    ) -> WebhookWithSecret:
        """The new webhook with its signing ``secret``, which the API shows only this once.

        A subscription is an event type (``"record.created"``) or a mapping with
        ``event_type`` and an optional ``filter``.
        """
        every = [_subscription(s) for s in subscriptions]
        fields = {"target_url": target_url, "subscriptions": every, "api_version": api_version}
        body = build_body(models.WebhookCreateRequest, fields)
        return await self._call(
            op("webhooks.create_webhook"), body=body, idempotency_key=_given(idempotency_key)
        )

    async def update(
        self, webhook_id: WebhookId, *, idempotency_key: str = NOT_GIVEN, **fields: Any
    ) -> Webhook:
        """Change ``target_url``, ``subscriptions``, ``api_version`` or ``status``."""
        webhook_id = path_id(webhook_id, "webhook_id")
        body = build_body(models.WebhookUpdateRequest, fields)
        return await self._call(
            op("webhooks.update_webhook"), webhook_id, body=body, idempotency_key=_given(idempotency_key)
        )

    async def delete(self, webhook_id: WebhookId, *, idempotency_key: str = NOT_GIVEN) -> None:
        webhook_id = path_id(webhook_id, "webhook_id")
        await self._call(
            op("webhooks.delete_webhook"), webhook_id, idempotency_key=_given(idempotency_key), cast=_none
        )

    async def rotate_secret(
        self, webhook_id: WebhookId, *, overlap_seconds: int = NOT_GIVEN, idempotency_key: str = NOT_GIVEN
    ) -> WebhookSecretRotation:
        """A new signing ``secret``, shown only this once.

        Deliveries carry signatures made with both the previous secret and the new one for
        ``overlap_seconds`` (the API's default is a day), so receivers can switch over
        without rejecting anything: verify with ``secrets=[new, old]`` until then.
        """
        webhook_id = path_id(webhook_id, "webhook_id")
        body = build_body(models.WebhookRotateRequest, {"overlap_seconds": overlap_seconds})
        return await self._call(
            op("webhooks.rotate_webhook_secret"),
            webhook_id,
            body=body,
            idempotency_key=_given(idempotency_key),
        )

    async def test(self, webhook_id: WebhookId) -> WebhookDelivery:
        """Queue a test event to the webhook's URL; the delivery it created."""
        webhook_id = path_id(webhook_id, "webhook_id")
        return await self._call(op("webhooks.test_webhook"), webhook_id)

    def deliveries(
        self, webhook_id: WebhookId, *, page_size: int = CURSOR_PAGE, max_items: int | None = None
    ) -> AsyncPaginator[WebhookDelivery]:
        webhook_id = path_id(webhook_id, "webhook_id")
        return self._cursor_pages(
            op("webhooks.list_webhook_deliveries"), webhook_id, page_size=page_size, max_items=max_items
        )
