"""``client.metadata``: objects, attributes and select options, fetched once and kept a while."""

from __future__ import annotations

import builtins
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from .._dsl.check import check, check_includes, check_sorts, objects_of, option_lookups
from .._dsl.expr import Expr
from .._errors import CRMError, InvalidArgumentError
from .._metadata_core import AttributeInfo, Names, TTLCache, first_unknown, hint, nearest

if TYPE_CHECKING:
    from crm_client.models import Attribute, Object, SelectOption


class _ObjectReads(Protocol):
    """Where the schema's objects come from (``client.objects``)."""

    async def list(self) -> builtins.list[Object]: ...


class _AttributeReads(Protocol):
    """Where the schema's attributes and options come from (``client.attributes``)."""

    async def list(self, object: str, *, show_archived: bool = ...) -> builtins.list[Attribute]: ...

    async def list_options(self, object: str, attribute: str) -> builtins.list[SelectOption]: ...


class AsyncMetadata:
    """The workspace's schema, cached for ``metadata_ttl`` seconds (shared by copies of the client).

    ``refresh()`` forgets it all (or one object's part); the client forgets what its own
    writes to objects, attributes and options change.
    """

    def __init__(self, cache: TTLCache, objects: _ObjectReads, attributes: _AttributeReads) -> None:
        self._cache = cache
        self._objects = objects
        self._attributes = attributes

    async def _cached(self, key: tuple[str, ...], load: Callable[[], Awaitable[Any]]) -> Any:
        value = self._cache.get(key)
        if value is None:
            value = await load()
            self._cache.put(key, value)
        return value

    async def objects(self) -> dict[str, Object]:
        """Every object, by slug."""
        found: dict[str, Object] = await self._cached(("objects",), self._load_objects)
        return found

    async def _load_objects(self) -> dict[str, Object]:
        return {o.api_slug: o for o in await self._objects.list()}

    async def attributes(self, object: str) -> dict[str, Attribute]:
        """The attributes of one object, by slug (archived ones included)."""
        found: dict[str, Attribute] = await self._cached(
            ("attributes", object), lambda: self._load_attributes(object)
        )
        return found

    async def _load_attributes(self, object: str) -> dict[str, Attribute]:
        return {a.api_slug: a for a in await self._attributes.list(object, show_archived=True)}

    async def options(self, object: str, attribute: str) -> dict[str, SelectOption]:
        """The options of a select or status attribute, by title."""
        key = ("options", object, attribute)
        found: dict[str, SelectOption] = await self._cached(
            key, lambda: self._load_options(object, attribute)
        )
        return found

    async def _load_options(self, object: str, attribute: str) -> dict[str, SelectOption]:
        return {o.title: o for o in await self._attributes.list_options(object, attribute)}

    async def attribute_infos(self, object: str) -> dict[str, AttributeInfo]:
        """What validation, the importer and the exporter need of an object's live
        (not archived) attributes, by slug."""
        found: dict[str, AttributeInfo] = {}
        for slug, attribute in (await self.attributes(object)).items():
            if attribute.is_archived:
                continue
            kind = str(attribute.type_)
            config = attribute.config
            currency = getattr(config, "currency", None)
            reference = getattr(config, "record_reference", None)
            options = tuple(await self.options(object, slug)) if kind in ("select", "status") else ()
            found[slug] = AttributeInfo(
                slug=slug,
                title=attribute.title,
                type=kind,
                multiselect=attribute.is_multiselect,
                unique=attribute.is_unique,
                required=attribute.is_required,
                writable=attribute.is_writable,
                options=options,
                default_currency=getattr(currency, "default_currency_code", None),
                targets=tuple(getattr(reference, "allowed_objects", None) or ()),
            )
        return found

    def refresh(self, object: str | None = None) -> None:
        """Forget the cached schema: all of it, or what belongs to one object."""
        if object is None:
            self._cache.drop()
        else:
            self._cache.drop("objects")
            self._cache.drop("attributes", object)
            self._cache.drop("options", object)

    async def _known_objects(self, object: str) -> dict[str, Object]:
        objects = await self.objects()
        if object not in objects:
            raise InvalidArgumentError(f"Unknown object {object!r}.{hint(object, objects, 'Objects')}")
        return objects

    async def _types(self, object: str) -> dict[str, str]:
        return {a.api_slug: str(a.type_) for a in (await self.attributes(object)).values()}

    async def schema(self, object: str) -> dict[str, str]:
        """The type of each attribute of ``object``, by slug (``InvalidArgumentError`` if no such object)."""
        await self._known_objects(object)
        return await self._types(object)

    async def check_query(
        self, object: str, sorts: Sequence[Mapping[str, Any]] | None, include: Sequence[str]
    ) -> None:
        """Refuse sorts and ``include`` slugs that do not fit the schema of ``object``
        (reads nothing when there are none)."""
        if sorts or include:
            schema = await self.schema(object)
            check_sorts(sorts or (), object, schema)
            check_includes(include, object, schema)

    async def check_filter(self, object: str, expr: Expr) -> Expr:
        """``expr`` checked against the schema of ``object`` (and of the objects its paths reach),
        with its values coerced; an ``InvalidArgumentError`` says what does not fit."""
        objects = await self._known_objects(object)
        schemas: dict[str, dict[str, str]] = {}
        for slug in sorted(objects_of(expr, object) & set(objects)):
            schemas[slug] = await self._types(slug)
        options: dict[tuple[str, str], list[str]] = {}
        for slug, attribute in sorted(option_lookups(expr, object, schemas)):
            options[slug, attribute] = list(await self.options(slug, attribute))
        return check(expr, object, schemas, options, list(objects))

    async def suggest(self, code: str, names: Names) -> str | None:
        """The known slug nearest to the unknown one an error is about; ``None`` if unsure."""
        try:
            objects = await self.objects()
            if names.object is None:
                return None
            if names.object not in objects:
                return nearest(names.object, objects)
            if code == "unknown_attribute":
                return first_unknown(names.attributes, await self.attributes(names.object))
            if code == "unknown_select_option":
                attributes = await self.attributes(names.object)
                for slug, titles in names.options.items():
                    attribute = attributes.get(slug)
                    if attribute is not None and str(attribute.type_) in ("select", "status"):
                        hit = first_unknown(titles, await self.options(names.object, slug))
                        if hit is not None:
                            return hit
        except CRMError:  # a suggestion is a courtesy; the original error matters more
            return None
        return None
