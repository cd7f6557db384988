"""``client.webhooks``: subscriptions to events, and their deliveries."""

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
        Webhook,
        WebhookDelivery,
        WebhookSecretRotation,
        WebhookWithSecret,
    )

    from ..._ids import (
        WebhookId,
    )
from ..._paging import CURSOR_PAGE
from ._base import _AsyncResource, _given, _none, raw_call, raw_page


def _subscription(subscription: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(subscription, str):
        return {"event_type": subscription, "filter": None}
    return {"filter": None, **subscription}  # no filter: every event of the type


class AsyncWebhooks(_AsyncResource):
    """``client.webhooks``: subscriptions to events, and their deliveries."""

    @property
    def with_raw_response(self) -> AsyncWebhooksRaw:
        """The same calls, each answering the ``RawResponse`` (status, headers, request id,
        ``parse()``); a paginated one answers its first page's."""
        return AsyncWebhooksRaw(self._raw_copy())

    def list(self, *, page_size: int = CURSOR_PAGE, max_items: int | None = None) -> AsyncPaginator[Webhook]:
        return self._cursor_pages(operations.LIST_WEBHOOKS, page_size=page_size, max_items=max_items)

    async def get(self, webhook_id: WebhookId) -> Webhook:
        webhook_id = path_id(webhook_id, "webhook_id")
        return await self._call(operations.GET_WEBHOOK, webhook_id)

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
        return await self._call(operations.CREATE_WEBHOOK, body=body, idempotency_key=_given(idempotency_key))

    async def update(
        self,
        webhook_id: WebhookId,
        *,
        target_url: str = NOT_GIVEN,
        subscriptions: Sequence[Mapping[str, Any] | str] = NOT_GIVEN,
        api_version: str = NOT_GIVEN,
        status: str = NOT_GIVEN,
        idempotency_key: str = NOT_GIVEN,
    ) -> Webhook:
        """Change what is given: ``target_url``, ``subscriptions`` (as ``create`` takes
        them), ``api_version`` or ``status``."""
        webhook_id = path_id(webhook_id, "webhook_id")
        every = subscriptions if subscriptions is NOT_GIVEN else [_subscription(s) for s in subscriptions]
        fields = {
            "target_url": target_url,
            "subscriptions": every,
            "api_version": api_version,
            "status": status,
        }
        body = build_body(models.WebhookUpdateRequest, fields)
        return await self._call(
            operations.UPDATE_WEBHOOK, webhook_id, body=body, idempotency_key=_given(idempotency_key)
        )

    async def delete(self, webhook_id: WebhookId, *, idempotency_key: str = NOT_GIVEN) -> None:
        webhook_id = path_id(webhook_id, "webhook_id")
        await self._call(
            operations.DELETE_WEBHOOK, webhook_id, idempotency_key=_given(idempotency_key), cast=_none
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
            operations.ROTATE_WEBHOOK_SECRET,
            webhook_id,
            body=body,
            idempotency_key=_given(idempotency_key),
        )

    async def test(self, webhook_id: WebhookId) -> WebhookDelivery:
        """Queue a test event to the webhook's URL; the delivery it created."""
        webhook_id = path_id(webhook_id, "webhook_id")
        return await self._call(operations.TEST_WEBHOOK, webhook_id)

    def deliveries(
        self, webhook_id: WebhookId, *, page_size: int = CURSOR_PAGE, max_items: int | None = None
    ) -> AsyncPaginator[WebhookDelivery]:
        webhook_id = path_id(webhook_id, "webhook_id")
        return self._cursor_pages(
            operations.LIST_WEBHOOK_DELIVERIES, webhook_id, page_size=page_size, max_items=max_items
        )


class AsyncWebhooksRaw:
    """``webhooks.with_raw_response``: AsyncWebhooks's calls, answering ``RawResponse``s."""

    def __init__(self, raw: AsyncWebhooks) -> None:
        self.list = raw_page(raw.list)
        self.get = raw_call(raw.get)
        self.create = raw_call(raw.create)
        self.update = raw_call(raw.update)
        self.delete = raw_call(raw.delete)
        self.rotate_secret = raw_call(raw.rotate_secret)
        self.test = raw_call(raw.test)
        self.deliveries = raw_page(raw.deliveries)
