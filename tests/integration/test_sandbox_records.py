"""Records in the sandbox behave like a production API's."""

from __future__ import annotations

import httpx

from .conftest import create, query


def test_patch_appends_multiselect_values_and_put_replaces_them(api: httpx.Client) -> None:
    record = create(api, "people", {"name": "Alan Turing", "email_addresses": ["alan@bletchley.example"]})
    url = f"/v2/objects/people/records/{record['id']['record_id']}"
    patched = api.patch(url, json={"data": {"values": {"email_addresses": ["turing@manchester.example"]}}})
    emails = [v["email_address"] for v in patched.json()["data"]["values"]["email_addresses"]]
    assert emails == ["alan@bletchley.example", "turing@manchester.example"]
    replaced = api.put(url, json={"data": {"values": {"email_addresses": ["alan@princeton.example"]}}})
    emails = [v["email_address"] for v in replaced.json()["data"]["values"]["email_addresses"]]
    assert emails == ["alan@princeton.example"]


def test_value_history_keeps_replaced_values_with_their_active_window(api: httpx.Client) -> None:
    record = create(api, "people", {"name": "Alan Turing", "job_title": "Fellow"})
    url = f"/v2/objects/people/records/{record['id']['record_id']}"
    api.patch(url, json={"data": {"values": {"job_title": "Reader"}}})
    history = api.get(f"{url}/attributes/job_title/values", params={"show_historic": "true"}).json()["data"]
    assert [v["value"] for v in history] == ["Fellow", "Reader"]
    assert history[0]["active_until"] is not None and history[1]["active_until"] is None
    current = api.get(f"{url}/attributes/job_title/values").json()["data"]
    assert [v["value"] for v in current] == ["Reader"]


def test_a_unique_value_cannot_be_taken_twice(api: httpx.Client) -> None:
    response = api.post(
        "/v2/objects/people/records",
        json={"data": {"values": {"email_addresses": ["ada@analytical.example"]}}},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "uniqueness_conflict"


def test_upsert_creates_then_updates_by_the_matching_attribute(api: httpx.Client) -> None:
    body = {"data": {"values": {"email_addresses": ["new@person.example"], "job_title": "Intern"}}}
    params = {"matching_attribute": "email_addresses"}
    first = api.put("/v2/objects/people/records", params=params, json=body).json()["data"]
    body["data"]["values"]["job_title"] = "Engineer"
    second = api.put("/v2/objects/people/records", params=params, json=body).json()["data"]
    assert first["id"] == second["id"]
    assert second["values"]["job_title"][0]["value"] == "Engineer"


def test_a_required_attribute_must_be_given(api: httpx.Client) -> None:
    response = api.post("/v2/objects/deals/records", json={"data": {"values": {"stage": "Lead"}}})
    assert response.status_code == 400
    assert response.json()["code"] == "missing_required_attribute"
    assert "'name'" in response.json()["message"]


def test_an_unknown_attribute_gets_a_suggestion(api: httpx.Client) -> None:
    response = api.post(
        "/v2/objects/people/records", json={"data": {"values": {"emial_addresses": ["a@b.co"]}}}
    )
    assert response.status_code == 400
    assert "Did you mean 'email_addresses'?" in response.json()["message"]


def test_an_unknown_select_option_lists_the_options(api: httpx.Client) -> None:
    body = {"data": {"values": {"name": "Deal", "stage": "Wonn"}}}
    response = api.post("/v2/objects/deals/records", json=body)
    assert response.status_code == 400
    assert "Did you mean 'Won'?" in response.json()["message"]


def test_values_are_normalised(api: httpx.Client) -> None:
    record = create(
        api,
        "people",
        {
            "name": {"first_name": "Grace", "last_name": "Hopper"},
            "email_addresses": ["Grace@NAVY.Example"],
            "phone_numbers": [{"original_phone_number": "(202) 555-0143", "country_code": "US"}],
        },
    )
    values = record["values"]
    assert values["name"][0]["full_name"] == "Grace Hopper"
    assert values["email_addresses"][0]["email_domain"] == "navy.example"
    assert values["phone_numbers"][0]["phone_number"] == "+12025550143"


def test_deleting_a_record_removes_its_list_entries(api: httpx.Client) -> None:
    record = create(api, "people", {"name": "Temp Person"})
    record_id = record["id"]["record_id"]
    api.post(
        "/v2/lists", json={"data": {"name": "Pipeline", "api_slug": "pipeline", "parent_objects": ["people"]}}
    )
    entry = api.post(
        "/v2/lists/pipeline/entries",
        json={"data": {"parent_object": "people", "parent_record_id": record_id}},
    ).json()["data"]
    assert api.delete(f"/v2/objects/people/records/{record_id}").status_code == 204
    assert api.get(f"/v2/objects/people/records/{record_id}").status_code == 404
    assert api.get(f"/v2/lists/pipeline/entries/{entry['id']['entry_id']}").status_code == 404


def test_batch_reports_each_item_and_replays_keyed_items(api: httpx.Client) -> None:
    items = [
        {"operation": "create", "values": {"name": "Batch One"}, "idempotency_key": "item-1"},
        {"operation": "create", "values": {"nme": "typo"}},
        {
            "operation": "upsert",
            "matching_attribute": "email_addresses",
            "values": {"email_addresses": ["ada@analytical.example"], "job_title": "Countess"},
        },
    ]
    results = api.post("/v2/objects/people/records/batch", json={"data": {"items": items}}).json()["data"][
        "results"
    ]
    assert [r["status"] for r in results] == ["created", "failed", "updated"]
    assert "Did you mean 'name'?" in results[1]["error"]["message"]
    again = api.post("/v2/objects/people/records/batch", json={"data": {"items": items[:1]}}).json()["data"]
    assert again["results"][0]["replayed"] is True
    assert again["results"][0]["record"]["id"] == results[0]["record"]["id"]
    assert len(query(api, "people", {"filter": {"name": "Batch One"}})) == 1


def test_search_finds_records_across_objects(api: httpx.Client) -> None:
    results = api.post("/v2/objects/records/search", json={"query": "orbit"}).json()["data"]
    assert {(r["object"], r["record_text"]) for r in results} >= {("companies", "Orbit Labs")}


def test_notes_and_tasks_page_by_cursor(api: httpx.Client) -> None:
    record = create(api, "people", {"name": "Noted Person"})
    parent = {"object": "people", "record_id": record["id"]["record_id"]}
    for i in range(5):
        api.post("/v2/notes", json={"data": {"parent": parent, "title": f"n{i}", "content": "..."}})
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get("/v2/notes", params=params).json()
        seen += [n["title"] for n in page["data"]]
        cursor = page["pagination"]["next_cursor"]
        if cursor is None:
            break
    assert seen == ["n4", "n3", "n2", "n1", "n0"]
