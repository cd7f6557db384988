"""A realistic 500-record query page: ten attributes per record, of mixed types."""

from __future__ import annotations

import json
import random

WORKSPACE = "6b3c1f2e-0d7a-4f55-9a1e-1c2b3d4e5f60"
OBJECT = "0e2d7f5a-3c1b-4a9e-8d6f-2b4c6e8a0f13"


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def _meta(rng: random.Random, attribute_type: str) -> dict[str, object]:
    return {
        "attribute_type": attribute_type,
        "active_from": f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T09:{rng.randint(10, 59)}"
        ":00.123000+00:00",
        "active_until": None,
        "created_by_actor": {"type": "api-token", "id": _uuid(rng)},
    }


def record(rng: random.Random, i: int) -> dict[str, object]:
    first, last = f"First{i}", f"Last{i}"
    option = {
        "id": {
            "workspace_id": WORKSPACE,
            "object_id": OBJECT,
            "attribute_id": _uuid(rng),
            "option_id": _uuid(rng),
        },
        "title": rng.choice(["Lead", "Customer", "Partner"]),
        "is_archived": False,
    }
    values = {
        "name": [
            {
                **_meta(rng, "personal-name"),
                "first_name": first,
                "last_name": last,
                "full_name": f"{first} {last}",
            }
        ],
        "email_addresses": [
            {
                **_meta(rng, "email-address"),
                "email_address": f"p{i}@acme{i % 50}.example",
                "original_email_address": f"p{i}@acme{i % 50}.example",
                "email_domain": f"acme{i % 50}.example",
                "email_root_domain": f"acme{i % 50}.example",
                "email_local_specifier": f"p{i}",
            }
        ],
        "job_title": [{**_meta(rng, "text"), "value": "Head of Engineering"}],
        "age": [{**_meta(rng, "number"), "value": rng.randint(20, 70)}],
        "is_vip": [{**_meta(rng, "checkbox"), "value": rng.random() < 0.1}],
        "deal_value": [
            {
                **_meta(rng, "currency"),
                "amount_minor": rng.randint(0, 10**8),
                "currency_code": "EUR",
            }
        ],
        "birthday": [
            {
                **_meta(rng, "date"),
                "value": f"19{rng.randint(50, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            }
        ],
        "stage": [{**_meta(rng, "select"), "option": option}],
        "company": [
            {
                **_meta(rng, "record-reference"),
                "target_object": "companies",
                "target_record_id": _uuid(rng),
            }
        ],
        "rating": [{**_meta(rng, "rating"), "value": rng.randint(0, 5)}],
    }
    return {
        "id": {"workspace_id": WORKSPACE, "object_id": OBJECT, "record_id": _uuid(rng)},
        "created_at": "2026-03-02T09:15:00.123000+00:00",
        "values": values,
    }


def query_page_bytes(n: int = 500, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    return json.dumps({"data": [record(rng, i) for i in range(n)]}).encode()
