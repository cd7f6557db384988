"""The crm-sdk tour: `make demo`.

It shows the generated client's models at work on the API's JSON (typed values, what a
newer server's unknown values become, the error for a body that does not fit), then
starts the sandbox and uses ``overlay.Client`` on it: queries, pages, included records,
errors that suggest a fix, retries under injected faults, bulk writes, the async client,
a webhook delivery received, verified and dispatched, the workspace mirrored into SQLite
and followed through the change feed, an import and an export, the same code against
a workspace pinned to an older API version, and worker processes sharing one token's limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from crm_client.models import (
    CurrencyValue,
    EmailAddressValue,
    PersonalNameValue,
    RecordListResponse,
    SelectValue,
)
from crm_client.types import UnknownVariant
from crm_sandbox import Chaos

import overlay
from overlay import F, cli, webhooks

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

    print("\nNext: `make test` runs the suite; `make bench` measures the client against raw httpx.")


def sandbox_step() -> None:
    step("4. The client against the sandbox (the same API on loopback, over real HTTP)")
    with overlay.Sandbox(seed_data=True) as sb:
        print(f"sandbox at {sb.url} (run your own with `crm sandbox --seed-data`)")
        crm = sb.client
        people = crm.records("people")
        query = people.query(
            {"email_addresses": {"email_domain": "analytical.example"}},
            sorts=[{"attribute": "name", "field": "last_name", "direction": "asc"}],
            include=["company"],
        )
        for person in query:
            company = person.first("company")
            works_at = company["name"] if isinstance(company, overlay.Record) else "-"
            print(f"- {person['name']:<16} {person.first('email_addresses'):<28} at {works_at}")
        everyone = people.query(page_size=2).to_list()
        print(f"every person, 2 per page: {everyone.pluck('name')}")

        alan = people.create({"name": "Alan Turing", "email_addresses": ["alan@bletchley.example"]})
        print(f"created {alan['name']} ({alan.id}, request {alan.request_id})")
        for values in (
            {"name": "Alan again", "email_addresses": ["alan@bletchley.example"]},
            {"name": "Typo", "emial_addresses": ["typo@example.com"]},
        ):
            try:
                people.create(values)
            except overlay.APIStatusError as exc:
                print(f"{type(exc).__name__}: {exc}")

    step("5. Queries: expressions, text, checks before sending")
    with overlay.Sandbox(seed_data=True) as sb:
        people = sb.client.records("people")
        query = people.where(F.company.via("companies").name.starts_with("Analytical")).order_by("-name")
        print(f"{query}\n  -> {query.pluck('name')}")
        text = "email_addresses.email_domain $= '.example' and not name ~ 'ada'"
        print(f"where({text!r}).count() -> {people.where(text).count()}")
        deals = sb.client.records("deals").where().aggregate("count", "sum(value)", group_by="stage")
        print(f"deals by stage: {deals}")
        for mistake in ("nmae ~ 'ada'", "name > 3", "name ~ 'ada' and"):
            try:
                people.where(mistake).first()
            except overlay.InvalidArgumentError as exc:
                print(f"{type(exc).__name__}: {exc}")

    step("6. Retries and idempotency keys under faults")
    chaos = Chaos(error_rate=0.2, commit_drop_rate=0.1, drop_rate=0.05, seed=11)
    with overlay.Sandbox(chaos=chaos) as sb, sb.connect(max_retries=6) as crm:
        print("the sandbox now fails 20% of requests and loses 10% of responses after committing")
        for i in range(10):
            crm.records("companies").create({"name": f"Resilient {i}"})
        landed = crm.records("companies").query({"name": {"$starts_with": "Resilient"}}).to_list()
        twins = len(landed) - len(set(landed.pluck("name")))
        print(f"10 creates sent: {len(landed)} companies exist, {twins} duplicated")

    step("7. Bulk writes: each item once per run, resumable, counted as it happened")
    with (
        overlay.Sandbox(write_rate=50) as sb,
        sb.connect() as crm,
        tempfile.TemporaryDirectory() as tmp,
    ):
        rows = [{"name": f"Supplier {i:04d}", "domains": [f"supplier{i}.example"]} for i in range(3000)]
        rows[42] = {"name": "Broken", "domains": ["not a domain !!"]}
        journal = Path(tmp) / "suppliers.journal"
        report = crm.bulk.create("companies", rows, key="domains", journal=journal, progress=True, total=3000)
        print(report)
        for error in report.errors:
            print(f"  item {error.index} (key {error.key!r}): {error.code}: {error.message}")
        resumed = crm.bulk.create("companies", rows, key="domains", journal=journal)
        print(f"the same run again, from its journal ({resumed.run_id}): {resumed.skipped} skipped, "
              f"{resumed.created} created, {resumed.failed} failed")  # fmt: skip
        [changed] = crm.records("companies").where(F.name == "Supplier 0007").to_list()
        crm.records("companies").update(changed.id, {"name": "Renamed by a person"})
        again = crm.bulk.upsert("companies", rows, matching_attribute="domains")
        print(f"a new run, an upsert on the unique domains (it never duplicates):\n  {again}")
        suppliers = crm.records("companies").where("name ^= 'Supplier'").count()
        restored = crm.records("companies").get(changed.id)["name"]
        print(f"{suppliers} suppliers; the one a person renamed is {restored} again")
        print("(a new run of bulk.create without its journal creates again: upsert is the call to re-run)")

    step("8. The same client, async: each company's people, queried concurrently")
    with overlay.Sandbox(seed_data=True) as sb:
        for line in asyncio.run(companies_async(sb)):
            print(f"- {line}")

    webhooks_step()
    mirror_step()
    import_export_step()
    versions_step()
    workers_step()


def versions_step() -> None:
    step("12. API versions: code of the latest version against a workspace pinned to 2025-01-01")
    import datetime as dt

    import httpx

    from overlay import migrations

    with overlay.Sandbox() as sb, sb.connect(api_version="2025-01-01") as crm:
        deadline = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
        task = crm.tasks.create(content="Send the proposal", deadline_at=deadline)
        print(f"the code wrote deadline_at and reads back {task.deadline_at.isoformat()}")
        headers = {"Authorization": f"Bearer {sb.token}", "CRM-Version": "2025-01-01"}
        held = httpx.get(f"{sb.url}/v2/tasks/{task.id.task_id}", headers=headers).json()["data"]
        print(f"what the 2025-01-01 API holds: due_date={held['due_date']!r}")
        try:
            crm.records("people").get("00000000-0000-4000-8000-000000000000")
        except overlay.NotFoundError as exc:
            print(f"an old-style error, read as the latest: {type(exc).__name__} {exc.status} {exc.code}")
        yen = {"currency": {"default_currency_code": "JPY"}}
        crm.attributes.create("deals", title="Budget", api_slug="budget", type="currency", config=yen)
        deal = crm.records("deals").create({"name": "Tokyo office", "budget": 150_000})
        url = f"{sb.url}/v2/objects/deals/records/{deal.id}"
        old = httpx.get(url, headers=headers).json()["data"]["values"]["budget"][0]
        minor = deal.values("budget")[0].amount_minor
        print(f"150000 yen (no cents): amount_minor={minor} to the code, "
              f"currency_value={old['currency_value']:g} in the 2025-01-01 API")  # fmt: skip
    event = {"event_type": "list_entry_created", "id": {}, "actor": {"type": "system", "id": None}}
    body = {"webhook_id": "w", "events": [event]}
    latest = migrations.upgrade(body, "WebhookDeliveryBody", from_version="2025-01-01")
    print(f"a stored 2025-01-01 event upgraded: {event['event_type']} → {latest['events'][0]['event_type']}")
    print("the changelog, newest first:")
    for line in migrations.changelog().splitlines()[2:9]:
        print(f"  {line}")
    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
        code = Path("sync.py")
        code.write_text('hook = crm.webhooks.create(target_url=URL, subscriptions=["task_created"])\n'
                        "print(task.due_date, note.parent_object)\n")  # fmt: skip
        print(f"$ crm migrate-code {code} --from 2025-01-01 --diff   (code written for 2025-01-01)")
        with contextlib.redirect_stderr(sys.stdout):
            cli.main(["migrate-code", str(code), "--from", "2025-01-01", "--diff"])


def import_export_step() -> None:
    step("11. Import a CSV (checked first), query it, export it")
    import tempfile

    source = Path(__file__).parent / "data" / "contacts.csv"
    with overlay.Sandbox(seed_data=True) as sb, sb.connect() as crm, tempfile.TemporaryDirectory() as out:
        dry = crm.import_file(source, "people", match="email_addresses", dry_run=True)
        print("dry run, nothing written:", dry)
        print("mapped by header:", ", ".join(f"{c} → {a}" for c, a in dry.mapping.items()))
        errors = Path(out) / "contacts.errors.csv"
        report = crm.import_file(source, "people", match="email_addresses", error_file=errors, progress=True)
        print(report)
        print("the error file, ready to fix and import again:")
        for line in errors.read_text().splitlines()[:2]:
            print(f"  {line}")
        grace = (
            crm.records("people").where("email_addresses = 'grace@cobol.example'").include("company").first()
        )
        if grace is not None:
            print(f"{grace['name']} works at {grace['company']['name']} ({grace.first('job_title')})")
        for name in ("people.csv", "people.parquet"):
            exported = (
                crm.records("people")
                .where("email_addresses.email_domain $= '.example'")
                .export(Path(out) / name, columns=["record_id", "name", "email_addresses", "job_title"])
            )
            print(exported)
        lines = (Path(out) / "people.csv").read_text().splitlines()
        shown = [lines[0], *(line for line in lines if "Turing" in line)]
        print("  " + "\n  ".join(shown) + "    <- a formula, escaped for spreadsheets")


def webhooks_step() -> None:
    step("9. Webhooks: a real delivery from the sandbox, verified and dispatched")
    from crm_sandbox.server import LoopbackServer

    router = webhooks.Router()
    handled: list[str] = []

    @router.on("record.created", "note.*")
    def show(event: Any, delivery: webhooks.Delivery) -> None:
        handled.append(webhooks.event_type(event))
        named = {k: v for k, v in event.id.to_dict().items() if k != "workspace_id"}
        print(f"- {delivery.message_id}: {type(event).__name__} {named}")

    with overlay.Sandbox() as sb, LoopbackServer(router, quiet=True) as receiver:
        crm = sb.client
        hook = crm.webhooks.create(target_url=receiver.url, subscriptions=["record.created", "note.created"])
        router.set_secrets([hook.secret])
        shown = "secret" in repr(hook).replace("WithSecret", "")
        print(
            f"a router listens at {receiver.url}; the webhook's secret was shown once (in its repr: {shown})"
        )
        person = crm.records("people").create({"name": "Grace Hopper"})
        crm.notes.create(parent_object="people", parent_record_id=person.id, title="Met", content="COBOL")
        deadline = time.monotonic() + 10
        while len(handled) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        forged = webhooks.sign(b'{"webhook_id": "x", "events": []}', "whsec_" + "Zm9yZ2Vk" * 4)
        try:
            webhooks.verify(b'{"webhook_id": "x", "events": []}', forged, [hook.secret])
        except webhooks.WebhookVerificationError as exc:
            print(f"a forged delivery: {type(exc).__name__}: {exc}")
        for attempt in crm.webhooks.deliveries(hook.id.webhook_id):
            outcome = f"{attempt.status.value} ({attempt.response_status_code})"
            print(f"  the API's log: {attempt.message_id} attempt {attempt.attempt}: {outcome}")


def mirror_step() -> None:
    step("10. The workspace in SQLite, kept in step by the change feed (deletes included)")
    import sqlite3
    import threading

    from overlay.mirror import Mirror

    with overlay.Sandbox(seed_data=True) as sb, tempfile.TemporaryDirectory() as folder:
        crm, path = sb.client, Path(folder) / "crm.db"
        db = sqlite3.connect(path)
        with Mirror(crm, f"sqlite:///{path}") as mirror:
            print(mirror.run().summary())
            tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            print(f"tables: {', '.join(tables)}")
            stop = threading.Event()
            follower = threading.Thread(target=mirror.follow, kwargs={"wait": 1, "stop": stop.is_set})
            follower.start()
            people = crm.records("people")
            ada = people.where("name = 'Ada Lovelace'").first()
            assert ada is not None
            people.update(ada.id, {"job_title": "Countess of Lovelace"})
            gone = people.create({"name": "Briefly Here", "email_addresses": ["brief@example.com"]})
            people.delete(gone.id)

            def row(sql: str) -> Any:
                return db.execute(sql).fetchall()

            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and row("SELECT COUNT(*) FROM _crm_mirror_log") != [(3,)]:
                time.sleep(0.02)
            stop.set()
            follower.join()
            print("followed:", row(f"SELECT name_full, job_title FROM people WHERE record_id = '{ada.id}'"))
            print("deleted: ", row(f"SELECT COUNT(*) FROM people WHERE record_id = '{gone.id}'"), "rows left")
            for sequence, kind in row("SELECT sequence, event_type FROM _crm_mirror_log ORDER BY sequence"):
                print(f"  applied event {sequence}: {kind}")
            print(mirror.verify(repair=False).summary())
        db.close()


def workers_step() -> None:
    step("13. Many workers, one token: each pacing alone, then sharing the limit through Redis")
    import shutil
    import warnings

    import workers  # examples/workers.py

    if shutil.which("redis-server") is not None:
        with workers.local_redis() as redis_url:
            for label, shared in (("each pacing alone", ""), ("sharing one limit", redis_url)):
                with overlay.Sandbox(read_rate=None, write_rate=20) as sb:
                    print(f"4 workers, {label}: {workers.run(sb, shared, 4, 20, 20.0)}")
    else:
        print("(no redis-server here: apt-get install redis-server to see 4 processes share one limit)")
    with overlay.Sandbox(write_rate=20) as sb, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        limit = overlay.RedisRateLimit("redis://127.0.0.1:1/0", timeout=0.2)  # nothing listens there
        with sb.connect(rate_limit=limit) as crm:
            made = [crm.records("companies").create({"name": f"Paced alone {i}"}) for i in range(3)]
        print(f"Redis away: {len(made)} companies created all the same; the client warned once")
        print("(a RuntimeWarning, and the same line on the overlay logger, on stderr):")
        print(f"  {caught[0].message}")


async def companies_async(sb: overlay.Sandbox) -> list[str]:
    async with sb.connect_async() as crm:
        companies = [c async for c in crm.records("companies").query()]
        staff = await asyncio.gather(
            *(crm.records("people").query({"company": c.id}).to_list() for c in companies)
        )
        return [f"{c['name']}: {', '.join(s.pluck('name'))}" for c, s in zip(companies, staff, strict=True)]


if __name__ == "__main__":
    main()
