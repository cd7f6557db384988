"""``client.objects`` and ``client.attributes``: the workspace's schema and select options."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from crm_client import (
    models,  # a lazy package: each model loads on first use
    operations,
)

from ..._ids import path_id
from ..._metadata_core import Names
from ..._response import NOT_GIVEN, build_body

if TYPE_CHECKING:
    from crm_client.models import (
        Attribute,
        Object,
        SelectOption,
    )

    from ..._ids import (
        AttributeRef,
        ObjectRef,
        OptionRef,
    )
from ._base import _AsyncResource, raw_call


class AsyncObjects(_AsyncResource):
    """``client.objects``: the kinds of record (people, companies, your own)."""

    @property
    def with_raw_response(self) -> AsyncObjectsRaw:
        """The same calls, each answering the ``RawResponse`` (status, headers, request id,
        ``parse()``); a paginated one answers its first page's."""
        return AsyncObjectsRaw(self._raw_copy())

    async def list(self) -> builtins.list[Object]:
        return await self._call(operations.LIST_OBJECTS)

    async def get(self, object: ObjectRef) -> Object:
        object = path_id(object, "object")
        return await self._call(operations.GET_OBJECT, object, names=Names(object))

    async def create(self, *, api_slug: str, singular_noun: str, plural_noun: str) -> Object:
        fields = {"api_slug": api_slug, "singular_noun": singular_noun, "plural_noun": plural_noun}
        created = await self._call(
            operations.CREATE_OBJECT, body=build_body(models.ObjectCreateRequest, fields)
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
            operations.UPDATE_OBJECT,
            object,
            body=build_body(models.ObjectUpdateRequest, fields),
            names=Names(object),
        )
        self._client.metadata.refresh()
        return updated


class AsyncAttributes(_AsyncResource):
    """``client.attributes``: the attributes of an object and the options of its selects."""

    @property
    def with_raw_response(self) -> AsyncAttributesRaw:
        """The same calls, each answering the ``RawResponse`` (status, headers, request id,
        ``parse()``); a paginated one answers its first page's."""
        return AsyncAttributesRaw(self._raw_copy())

    async def list(self, object: ObjectRef, *, show_archived: bool = False) -> builtins.list[Attribute]:
        object = path_id(object, "object")
        return await self._call(
            operations.LIST_ATTRIBUTES, object, show_archived=show_archived, names=Names(object)
        )

    async def get(self, object: ObjectRef, attribute: AttributeRef) -> Attribute:
        object = path_id(object, "object")
        attribute = path_id(attribute, "attribute")
        names = Names(object, [attribute])
        return await self._call(operations.GET_ATTRIBUTE, object, attribute, names=names)

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
        created = await self._call(operations.CREATE_ATTRIBUTE, object, body=body, names=Names(object))
        self._client.metadata.refresh(object)
        return created

    async def update(
        self,
        object: ObjectRef,
        attribute: AttributeRef,
        *,
        title: str = NOT_GIVEN,
        description: str | None = NOT_GIVEN,
        api_slug: str = NOT_GIVEN,
        is_required: bool = NOT_GIVEN,
        is_unique: bool = NOT_GIVEN,
        is_archived: bool = NOT_GIVEN,
        config: Mapping[str, Any] = NOT_GIVEN,
    ) -> Attribute:
        """Change what is given: ``title``, ``description``, ``api_slug``, ``is_required``,
        ``is_unique``, ``is_archived`` or ``config``."""
        object = path_id(object, "object")
        attribute = path_id(attribute, "attribute")
        fields = {
            "title": title,
            "description": description,
            "api_slug": api_slug,
            "is_required": is_required,
            "is_unique": is_unique,
            "is_archived": is_archived,
            "config": config,
        }
        body = build_body(models.AttributeUpdateRequest, fields)
        names = Names(object, [attribute])
        updated = await self._call(operations.UPDATE_ATTRIBUTE, object, attribute, body=body, names=names)
        self._client.metadata.refresh(object)
        return updated

    async def list_options(
        self, object: ObjectRef, attribute: AttributeRef, *, show_archived: bool = False
    ) -> builtins.list[SelectOption]:
        object = path_id(object, "object")
        attribute = path_id(attribute, "attribute")
        names = Names(object, [attribute])
        return await self._call(
            operations.LIST_SELECT_OPTIONS, object, attribute, show_archived=show_archived, names=names
        )

    async def create_option(self, object: ObjectRef, attribute: AttributeRef, *, title: str) -> SelectOption:
        object = path_id(object, "object")
        attribute = path_id(attribute, "attribute")
        body = build_body(models.SelectOptionCreateRequest, {"title": title})
        names = Names(object, [attribute])
        created = await self._call(operations.CREATE_SELECT_OPTION, object, attribute, body=body, names=names)
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
            operations.UPDATE_SELECT_OPTION, object, attribute, option, body=body, names=names
        )
        self._client.metadata.refresh(object)
        return updated


class AsyncObjectsRaw:
    """``objects.with_raw_response``: AsyncObjects's calls, answering ``RawResponse``s."""

    def __init__(self, raw: AsyncObjects) -> None:
        self.list = raw_call(raw.list)
        self.get = raw_call(raw.get)
        self.create = raw_call(raw.create)
        self.update = raw_call(raw.update)


class AsyncAttributesRaw:
    """``attributes.with_raw_response``: AsyncAttributes's calls, answering ``RawResponse``s."""

    def __init__(self, raw: AsyncAttributes) -> None:
        self.list = raw_call(raw.list)
        self.get = raw_call(raw.get)
        self.create = raw_call(raw.create)
        self.update = raw_call(raw.update)
        self.list_options = raw_call(raw.list_options)
        self.create_option = raw_call(raw.create_option)
        self.update_option = raw_call(raw.update_option)
