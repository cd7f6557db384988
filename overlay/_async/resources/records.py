"""``client.records(object)``: get, query, create, upsert, update, replace, delete, batch."""

from __future__ import annotations

import builtins
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from crm_client import (
    models,  # a lazy package: each model loads on first use
    operations,
)

from ..._dsl.expr import Expr
from ..._errors import InvalidArgumentError
from ..._ids import path_id
from ..._metadata_core import Names
from ..._records import Record, RecordList, chunks, references
from ..._response import NOT_GIVEN, build_body
from ..pagination import AsyncPaginator
from ..query import AsyncQuery

if TYPE_CHECKING:
    from crm_client.models import (
        RecordBatchResponse,
    )

    from ..._ids import (
        AttributeRef,
        ObjectRef,
        RecordId,
    )
    from ...io._report import ExportReport
    from ..metadata import AsyncMetadata
    from ..requester import AsyncRequester
    from .events import AsyncEvents
from ..._paging import QUERY_LIMIT, RECORDS_PAGE, Filter
from ._base import _AsyncResource, _given, _none, raw_call, raw_page


class AsyncRecords(_AsyncResource):
    """``client.records("people")``: the records of one object.

    ``include=["company"]`` on ``get`` and ``query`` fetches the records those
    record-reference attributes point to (one query per target object and page), so
    ``person["company"]`` is the company's ``Record``, or ``None`` if it was deleted.
    Without ``include`` a reference reads as its target's record id.
    """

    @property
    def with_raw_response(self) -> AsyncRecordsRaw:
        """The same calls, each answering the ``RawResponse`` (status, headers, request id,
        ``parse()``); a paginated one answers its first page's."""
        return AsyncRecordsRaw(self._raw_copy())

    def __init__(self, client: AsyncRequester, object: ObjectRef) -> None:
        object = path_id(object, "object")
        super().__init__(client)
        self.object = object

    def __repr__(self) -> str:
        return f"<Records of {self.object!r}>"

    @property
    def metadata(self) -> AsyncMetadata:
        """The cached schema of the workspace this object belongs to."""
        return self._client.metadata

    @property
    def feed(self) -> AsyncEvents | None:
        """The workspace's change feed (``client.events``), when the client's API version has
        one (2026-12-01 and later): an incremental export reads this object's deletes from it."""
        from .events import AsyncEvents

        return (
            AsyncEvents(self._client) if operations.LIST_EVENTS.served_at(self._client.api_version) else None
        )

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
            operations.GET_RECORD, self.object, record_id, cast=self._record, names=Names(self.object)
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

        query = operations.QUERY_RECORDS
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

    async def count(self, filter: Filter | None = None, *, check: bool = True) -> int:
        """How many records match ``filter`` (as ``query`` takes it), counted in the server at
        API version 2026-12-01 and later, page by page before."""
        metadata = self._client.metadata

        async def checked(filter: Any) -> Any:
            return await metadata.check_filter(self.object, filter) if isinstance(filter, Expr) else filter

        count: int = await self._count(
            operations.COUNT_RECORDS, self.object, filter, checked if check else None
        )
        return count

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
            operations.CREATE_RECORD,
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
            operations.UPSERT_RECORD,
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
            operations.UPDATE_RECORD,
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
            operations.REPLACE_RECORD,
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
            operations.DELETE_RECORD,
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
            operations.BATCH_RECORDS,
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
            operations.LIST_RECORD_ATTRIBUTE_VALUES,
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
                data, response = await self._fetch(
                    operations.QUERY_RECORDS, target, body=body, names=Names(target), parse=False
                )
                request_id = response.headers.get("x-request-id")
                for item in data:
                    record = Record.from_json(item, request_id, target)
                    found[target, record.id] = record
        for record in records:
            record.include(include, found)


class AsyncRecordsRaw:
    """``records.with_raw_response``: AsyncRecords's calls, answering ``RawResponse``s."""

    def __init__(self, raw: AsyncRecords) -> None:
        self.get = raw_call(raw.get)
        self.query = raw_page(raw.query)
        self.count = raw_call(raw.count)
        self.create = raw_call(raw.create)
        self.upsert = raw_call(raw.upsert)
        self.update = raw_call(raw.update)
        self.replace = raw_call(raw.replace)
        self.delete = raw_call(raw.delete)
        self.batch = raw_call(raw.batch)
        self.attribute_values = raw_call(raw.attribute_values)
