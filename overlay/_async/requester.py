"""What a feature needs from a client: the one seam every request of a resource passes.

``AsyncClient`` implements it; resources, metadata and paginators type against it, so a
feature never reaches into the client's private parts, and a test can hand a feature any
object with these members.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import httpx

    from .._response import Cast
    from .metadata import AsyncMetadata


class AsyncRequester(Protocol):
    """Sends a generated endpoint's request through the transport stack."""

    @property
    def metadata(self) -> AsyncMetadata:
        """The workspace's schema, cached."""
        ...

    async def send(self, endpoint: ModuleType, *args: Any, **kwargs: Any) -> httpx.Response:
        """The endpoint's HTTP response; a failure to send is an overlay error."""
        ...

    async def fetch(
        self, endpoint: ModuleType, *args: Any, parse: bool = True, **kwargs: Any
    ) -> tuple[Any, httpx.Response]:
        """The endpoint's typed result (or, unless ``parse``, a page's ``data`` list) and its response;
        an error status is an ``APIStatusError``."""
        ...

    async def call(
        self, endpoint: ModuleType, *args: Any, cast: Cast[Any], raw: bool = False, **kwargs: Any
    ) -> Any:
        """``cast`` of the typed result, or the ``RawResponse`` when ``raw``."""
        ...
