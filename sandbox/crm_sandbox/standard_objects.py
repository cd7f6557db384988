"""The objects every workspace starts with (people, companies, deals) and their attributes."""

from __future__ import annotations

from typing import Any

from .catalog import Catalog
from .store import new_id, now

# slug -> (singular noun, plural noun, attributes as create_attribute takes them)
STANDARD_OBJECTS: dict[str, tuple[str, str, list[dict[str, Any]]]] = {
    "people": (
        "Person",
        "People",
        [
            {"api_slug": "name", "title": "Name", "type": "personal-name"},
            {
                "api_slug": "email_addresses",
                "title": "Email addresses",
                "type": "email-address",
                "is_unique": True,
                "is_multiselect": True,
            },
            {
                "api_slug": "phone_numbers",
                "title": "Phone numbers",
                "type": "phone-number",
                "is_multiselect": True,
            },
            {"api_slug": "job_title", "title": "Job title", "type": "text"},
            {
                "api_slug": "company",
                "title": "Company",
                "type": "record-reference",
                "config": {"record_reference": {"allowed_objects": ["companies"]}},
            },
            {"api_slug": "description", "title": "Description", "type": "text"},
        ],
    ),
    "companies": (
        "Company",
        "Companies",
        [
            {"api_slug": "name", "title": "Name", "type": "text"},
            {
                "api_slug": "domains",
                "title": "Domains",
                "type": "domain",
                "is_unique": True,
                "is_multiselect": True,
            },
            {"api_slug": "description", "title": "Description", "type": "text"},
            {"api_slug": "employee_count", "title": "Employees", "type": "number"},
            {
                "api_slug": "categories",
                "title": "Categories",
                "type": "select",
                "is_multiselect": True,
                "options": ["SaaS", "Hardware", "Services", "Finance"],
            },
        ],
    ),
    "deals": (
        "Deal",
        "Deals",
        [
            {"api_slug": "name", "title": "Deal name", "type": "text", "is_required": True},
            {
                "api_slug": "stage",
                "title": "Stage",
                "type": "status",
                "options": ["Lead", "In progress", "Won", "Lost"],
            },
            {
                "api_slug": "value",
                "title": "Deal value",
                "type": "currency",
                "config": {"currency": {"default_currency_code": "USD"}},
            },
            {"api_slug": "close_date", "title": "Close date", "type": "date"},
            {
                "api_slug": "associated_company",
                "title": "Company",
                "type": "record-reference",
                "config": {"record_reference": {"allowed_objects": ["companies"]}},
            },
            {
                "api_slug": "associated_people",
                "title": "People",
                "type": "record-reference",
                "is_multiselect": True,
                "config": {"record_reference": {"allowed_objects": ["people"]}},
            },
        ],
    ),
}


def seed_standard_objects(catalog: Catalog) -> None:
    """Create the standard objects and their system attributes, once per store."""
    store = catalog.store
    if store.meta("seeded") == "1":
        return
    for slug, (singular, plural, _) in STANDARD_OBJECTS.items():
        store.db.execute(
            "INSERT INTO objects VALUES (?, ?, ?, ?, ?)",
            (new_id(), slug, singular, plural, now()),
        )
    for slug, (_, _, attributes) in STANDARD_OBJECTS.items():
        object_id = catalog.object_row(slug)["id"]
        for attribute in attributes:
            catalog.create_attribute(object_id, "object", attribute, system=True)
    store.set_meta("seeded", "1")
