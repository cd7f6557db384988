"""Webhook verification throughput, against raw ``hmac`` + ``compare_digest`` on the same
deliveries, and against the standardwebhooks library.

Each timed call verifies 2,000 one-event deliveries (the sandbox sends one event per
message) with distinct message ids. The raw baseline reads the three headers, computes the
HMAC and compares it. The target applies to the same work done by ``Verifier`` (header
lookup, the timestamp window, the signature, and the ``Delivery`` it returns); the default
replay store, which the raw loop has no counterpart for, is reported beside it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import standardwebhooks
from _harness import Result, cpu_times

from overlay import webhooks

SECRET = "whsec_" + base64.b64encode(b"bench secret, 24 bytes!!").decode()
COUNT = 2000


def deliveries() -> list[tuple[bytes, dict[str, str]]]:
    now = int(time.time())
    out = []
    for n in range(COUNT):
        event = {
            "event_type": "record.updated",
            "id": {
                "workspace_id": "6b3c1f2e-0d7a-4f55-9a1e-1c2b3d4e5f60",
                "object_id": f"obj-{n}",
                "record_id": f"rec-{n}",
            },
            "attribute_id": "0e2d7f5a-3c1b-4a9e-8d6f-2b4c6e8a0f13",
            "actor": {"type": "api-token", "id": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"},
        }
        body = json.dumps({"webhook_id": "2a4c6e8f-0b2d-4f6a-8c1e-9d3f5b7a1c36", "events": [event]}).encode()
        out.append((body, webhooks.sign(body, SECRET, message_id=f"msg_{n:08d}", timestamp=now)))
    return out


def run() -> list[Result]:
    batch = deliveries()
    key = webhooks.decode_secret(SECRET)
    reference = standardwebhooks.Webhook(SECRET)

    def raw() -> None:
        for body, headers in batch:
            content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
            expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest())
            if not hmac.compare_digest(expected, headers["webhook-signature"][3:].encode()):
                raise AssertionError("raw baseline rejected a genuine delivery")

    def ours() -> None:
        verifier = webhooks.Verifier([SECRET])  # a fresh replay store: every id is new
        for body, headers in batch:
            verifier.verify(body, headers)

    def ours_without_replay_store() -> None:
        verifier = webhooks.Verifier([SECRET], seen=None)
        for body, headers in batch:
            verifier.verify(body, headers)

    def library() -> None:
        for body, headers in batch:
            reference.verify(body, headers, json_parse=False)

    timings = cpu_times(
        {"raw": raw, "ours": ours, "no_store": ours_without_replay_store, "standardwebhooks": library},
        rounds=31,
    )
    times = timings.best
    per = {name: t / COUNT * 1e6 for name, t in times.items()}
    spread = {name: timings.ratio(name, "raw")[1] for name in ("ours", "no_store", "standardwebhooks")}
    size = len(batch[0][0])
    return [
        Result(
            "webhook_verify_throughput",
            times["raw"] / times["no_store"],
            0.9,
            "raw hmac + compare_digest",
            better="higher",
            detail=f"{per['no_store']:.1f} us vs {per['raw']:.1f} us CPU per delivery ({size}-byte body)",
            spread=spread["no_store"],
        ),
        Result(
            "webhook_verify_with_replay_store",
            times["raw"] / times["ours"],
            None,
            "raw hmac + compare_digest",
            better="higher",
            detail=f"{per['ours']:.1f} us per delivery: verify()'s default, which also stores the id",
            spread=spread["ours"],
        ),
        Result(
            "webhook_verify_vs_standardwebhooks",
            times["standardwebhooks"] / times["ours"],
            None,
            "standardwebhooks 1.1.0 verify",
            better="higher",
            detail=f"standardwebhooks {per['standardwebhooks']:.1f} us per delivery",
            spread=spread["standardwebhooks"],
        ),
    ]


if __name__ == "__main__":
    for result in run():
        print(f"{result.name}: {result.ratio:.2f} ({result.detail})")
