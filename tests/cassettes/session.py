"""The scripted session the cassettes hold, and how it is recorded and replayed.

``make cassettes`` runs ``session()`` against a fresh, seeded sandbox and records every
HTTP exchange; the tests replay it offline. Recordings keep no Authorization header, no
idempotency keys, no webhook secret, and name the server ``http://sandbox.test``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import vcr

import overlay

HERE = Path(__file__).resolve().parent
CASSETTE = HERE / "session.yaml"
HOST = "http://sandbox.test"
SECRET = re.compile(r"whsec_[A-Za-z0-9+/=_-]+")
SCRUBBED_SECRET = "whsec_c2NydWJiZWQ="


def _scrub_request(request: Any) -> Any:
    request.uri = re.sub(r"^http://127\.0\.0\.1:\d+", HOST, request.uri)
    return request


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    body = response["content"] if "content" in response else response["body"]["string"]
    text = body.decode() if isinstance(body, bytes) else body
    text = SECRET.sub(SCRUBBED_SECRET, text)
    response["headers"] = {k: v for k, v in response["headers"].items() if k.lower() != "date"}
    if "content" in response:
        response["content"] = text
    else:
        response["body"]["string"] = text.encode()
    return response


def recorder(record_mode: str) -> vcr.VCR:
    return vcr.VCR(
        record_mode=record_mode,
        match_on=["method", "path", "query", "body"],
        filter_headers=["authorization", "idempotency-key", "host"],
        before_record_request=_scrub_request,
        before_record_response=_scrub_response,
        decode_compressed_response=True,
    )


def session(crm: overlay.Client) -> dict[str, Any]:
    """A tour of the API through the client; returns what it saw, for the replay to compare."""
    people = crm.records("people")
    seen: dict[str, Any] = {"objects": sorted(o.api_slug for o in crm.objects.list())}
    grace = people.create({"name": {"first_name": "Grace", "last_name": "Brewster"}, "job_title": "Admiral"})
    seen["created"] = grace["name"]
    seen["updated"] = people.update(grace.id, {"email_addresses": ["grace@navy.example"]}).first(
        "email_addresses"
    )
    query = people.query(sorts=[{"attribute": "name", "direction": "asc"}], include=["company"], page_size=2)
    everyone = query.to_list()
    assert isinstance(everyone, overlay.RecordList)  # records come as one (typed list[Record])
    seen["names"] = everyone.pluck("name")
    seen["companies"] = sorted(
        {p["company"]["name"] for p in everyone if isinstance(p.first("company"), overlay.Record)}
    )
    crm.notes.create(parent_object="people", parent_record_id=grace.id, title="Met", content="At the dock.")
    seen["notes"] = [n.title for n in crm.notes.list(parent_object="people", parent_record_id=grace.id)]
    hook = crm.webhooks.create(
        target_url="https://hooks.example/crm", subscriptions=[{"event_type": "record.created"}]
    )
    seen["webhook_secret_shape"] = hook.secret.startswith("whsec_")
    try:
        people.create({"name": "Typo", "emial_addresses": ["typo@example.com"]})
    except overlay.BadRequestError as error:
        seen["error"] = [error.status, error.code, error.suggestion]
    people.delete(grace.id)
    return seen


def expected() -> dict[str, Any]:
    result: dict[str, Any] = json.loads((HERE / "session.json").read_text())
    return result
