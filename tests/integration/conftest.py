"""A live sandbox on loopback per test, and an httpx client authenticated against it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from crm_sandbox import SandboxConfig
from crm_sandbox.server import SandboxServer

Start = Callable[..., tuple[SandboxServer, httpx.Client]]


@pytest.fixture
def start_sandbox() -> Iterator[Start]:
    """Start sandboxes with any config; all are stopped after the test."""
    running: list[tuple[SandboxServer, httpx.Client]] = []

    def start(**config: Any) -> tuple[SandboxServer, httpx.Client]:
        config.setdefault("read_rate", None)
        config.setdefault("write_rate", None)
        server = SandboxServer(SandboxConfig(**config)).start()
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
