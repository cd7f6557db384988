"""The crm-sdk tour: `make demo`.

It shows the generated client's models at work on the API's JSON (typed values, what a
newer server's unknown values become, the error for a body that does not fit), then
starts the sandbox and talks to it over HTTP.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from crm_client import AuthenticatedClient
from crm_client.api.records import create_record, query_records
from crm_client.models import (
    CurrencyValue,
    EmailAddressValue,
    Error,
    PersonalNameValue,
    RecordListResponse,
    RecordQueryRequest,
    RecordWriteRequest,
    SelectValue,
)
from crm_client.types import UnknownVariant

import overlay

DATA = Path(__file__).parent / "data" / "people_page.json"


def step(title: str) -> None:
    print(f"\n== {title}")


def describe(value: Any) -> str:
    if isinstance(value, PersonalNameValue):
        return value.full_name
    if isinstance(value, EmailAddressValue):
        return f"{value.email_address} (domain {value.email_domain})"
    if isinstance(value, CurrencyValue):
        return f"{value.amount_minor / 100:,.2f} {value.currency_code}"
    if isinstance(value, SelectValue):
        return f"option {value.option.title!r}"
    if isinstance(value, UnknownVariant):
        return f"type {value.type!r} unknown here; kept: {', '.join(value.data)}"
    return repr(getattr(value, "value", value))


def main() -> None:
    print(f"crm-sdk {overlay.__version__}: a tour of the typed client")
    body = DATA.read_bytes()

    step("1. A query page, parsed into typed models")
    start = time.perf_counter()
    page = overlay.parse(RecordListResponse, body)
    elapsed = (time.perf_counter() - start) * 1e3
    print(f"parsed {len(page.data)} records ({len(body):,} bytes) in {elapsed:.2f} ms")
    for record in page.data:
        print(f"- record {record.id.record_id} created {record.created_at:%Y-%m-%d}")
        for slug, values in record.values.additional_properties.items():
            shown = ", ".join(describe(v) for v in values)
            kinds = "/".join(type(v).__name__ for v in values)
            print(f"    {slug:<16} {kinds:<20} {shown}")

    step("2. A server newer than this client")
    raw = json.loads(body)["data"][2]["values"]["office"][0]
    office = page.data[2].values["office"][0]
    print(f"attribute_type {raw['attribute_type']!r} is not in this client's spec;")
    print(f"it parsed as {type(office).__name__} and serialises back unchanged:")
    print(f"  to_dict() == original JSON: {office.to_dict() == raw}")
    actor = page.data[1].values["rating"][0].created_by_actor
    print(f"an enum value it does not know is kept too: actor type {actor.type_!r},")
    print(f"  is_known={actor.type_.is_known}, to_dict()={actor.to_dict()}")

    step("3. A body that does not fit gets a clear error")
    broken = json.loads(body)
    del broken["data"][0]["values"]["name"][0]["full_name"]
    try:
        overlay.parse(RecordListResponse, broken, request_id="req_tour_1")
    except overlay.CRMError as exc:
        print(f"{type(exc).__name__}: {exc}")

    sandbox_step()

    print("\nNext: `make test` runs the suite; `make bench` measures the parse against json.loads.")


def sandbox_step() -> None:
    step("4. The sandbox: the same API on loopback, over real HTTP")
    with overlay.Sandbox(seed_data=True) as sb:
        print(f"sandbox at {sb.url} (run your own with `crm sandbox --seed-data`)")
        client = AuthenticatedClient(base_url=sb.url, token=sb.token)

        query = RecordQueryRequest.from_dict(
            {
                "filter": {"email_addresses": {"email_domain": "analytical.example"}},
                "sorts": [{"attribute": "name", "field": "last_name", "direction": "asc"}],
            }
        )
        response = query_records.sync_detailed("people", client=client, body=query)
        assert isinstance(response.parsed, RecordListResponse)
        found = [describe(r.values["name"][0]) for r in response.parsed.data]
        print(
            f"people @analytical.example, by last name: {found} (request {response.headers['x-request-id']})"
        )

        body = RecordWriteRequest.from_dict(
            {"data": {"values": {"name": "Alan Turing", "email_addresses": ["alan@bletchley.example"]}}}
        )
        created = create_record.sync_detailed("people", client=client, body=body)
        again = create_record.sync_detailed("people", client=client, body=body)
        print(
            f"created Alan Turing: HTTP {created.status_code.value}; the same email again: "
            f"HTTP {again.status_code.value}"
        )
        if isinstance(again.parsed, Error):
            print(f"  {again.parsed.code}: {again.parsed.message}")

        typo = RecordQueryRequest.from_dict({"filter": {"emial_addresses": "x"}})
        bad = query_records.sync_detailed("people", client=client, body=typo)
        if isinstance(bad.parsed, Error):
            print(f"a typo in a filter: HTTP {bad.status_code.value} {bad.parsed.code}: {bad.parsed.message}")


if __name__ == "__main__":
    main()
