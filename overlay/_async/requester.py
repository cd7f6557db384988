"""What a feature needs from a client: the one seam every request of a resource passes.

``AsyncClient`` implements it; resources, metadata and paginators type against it, so a
feature never reaches into the client's private parts, and a test can hand a feature any
object with these members.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import httpx
    from crm_client.operations import Operation

    from .._response import Cast
    from .metadata import AsyncMetadata


class AsyncRequester(Protocol):
    """Sends an operation's request through the transport stack."""

    @property
    def metadata(self) -> AsyncMetadata:
        """The workspace's schema, cached."""
        ...

    @property
    def api_version(self) -> str:
        """The API version the requests are sent at."""
        ...

    async def send(self, operation: Operation, *args: Any, **kwargs: Any) -> httpx.Response:
        """The operation's HTTP response; a failure to send is an overlay error."""
        ...

    async def fetch(
        self, operation: Operation, *args: Any, parse: bool = True, **kwargs: Any
    ) -> tuple[Any, httpx.Response]:
        """The operation's typed result (or, unless ``parse``, a page's ``data`` list) and its response;
        an error status is an ``APIStatusError``."""
        ...

    async def call(
        self, operation: Operation, *args: Any, cast: Cast[Any], raw: bool = False, **kwargs: Any
    ) -> Any:
        """``cast`` of the typed result, or the ``RawResponse`` when ``raw``."""
        ...
