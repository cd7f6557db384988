"""A live sandbox on loopback per test (through ``overlay.Sandbox``), and a client of it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import overlay

Start = Callable[..., tuple[overlay.Sandbox, httpx.Client]]


@pytest.fixture
def start_sandbox() -> Iterator[Start]:
    """Start sandboxes with any config; all are stopped after the test."""
    running: list[tuple[overlay.Sandbox, httpx.Client]] = []

    def start(**config: Any) -> tuple[overlay.Sandbox, httpx.Client]:
        config.setdefault("read_rate", None)
        config.setdefault("write_rate", None)
        server = overlay.Sandbox(**config).start()
        client = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"})
        running.append((server, client))
        return server, client

    yield start
    for server, client in running:
        client.close()
        server.stop()


@pytest.fixture
def api(start_sandbox: Start) -> httpx.Client:
    """A client of a fresh sandbox holding the sample data."""
    return start_sandbox(seed_data=True)[1]


def create(api: httpx.Client, obj: str, values: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    response = api.post(f"/v2/objects/{obj}/records", json={"data": {"values": values}}, **kwargs)
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()["data"]
    return record


def query(api: httpx.Client, obj: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = api.post(f"/v2/objects/{obj}/records/query", json=body)
    assert response.status_code == 200, response.text
    records: list[dict[str, Any]] = response.json()["data"]
    return records


def names(records: list[dict[str, Any]]) -> list[str]:
    return [r["values"]["name"][0]["full_name"] for r in records]
