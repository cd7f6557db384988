"""Checked by mypy (make typecheck), never run: what ``with_raw_response`` calls are typed as."""

from __future__ import annotations

from typing import assert_type

from crm_client.models import Task, Webhook

import overlay
from overlay import RawResponse
from overlay._records import Record


def sync_calls(crm: overlay.Client, record: Record) -> None:
    people = crm.records("people").with_raw_response
    assert_type(people.get(record.id), RawResponse[Record])
    assert_type(people.create({"name": "Ada"}), RawResponse[Record])
    assert_type(people.query(page_size=2), RawResponse[list[Record]])
    assert_type(people.delete(record.id), RawResponse[None])
    assert_type(crm.webhooks.with_raw_response.list().parse(), list[Webhook])


async def async_calls(crm: overlay.AsyncClient, record: Record) -> None:
    people = crm.records("people").with_raw_response
    assert_type(await people.get(record.id), RawResponse[Record])
    assert_type(await people.query(page_size=2), RawResponse[list[Record]])
    assert_type((await crm.tasks.with_raw_response.list()).parse(), list[Task])
