"""Sample data for `crm sandbox --seed-data`: a few companies, people and deals."""

from __future__ import annotations

from .catalog import Catalog
from .records import Records
from .store import Store

SYSTEM = ("system", None)

COMPANIES = [
    {
        "name": "Analytical Engines",
        "domains": ["analytical.example"],
        "employee_count": 42,
        "categories": ["Hardware"],
    },
    {
        "name": "Cobol Works",
        "domains": ["cobol.example"],
        "employee_count": 120,
        "categories": ["Services"],
    },
    {
        "name": "Orbit Labs",
        "domains": ["orbit.example"],
        "employee_count": 15,
        "categories": ["SaaS"],
    },
]
PEOPLE = [
    ("Ada", "Lovelace", "ada@analytical.example", "Analyst", 0),
    ("Charles", "Babbage", "charles@analytical.example", "Founder", 0),
    ("Grace", "Hopper", "grace@cobol.example", "Rear Admiral", 1),
    ("Katherine", "Johnson", "katherine@orbit.example", "Mathematician", 2),
]


def seed_sample_data(store: Store, catalog: Catalog) -> None:
    companies = Records(store, catalog, "companies")
    company_ids = [companies.create(c, SYSTEM)["id"]["record_id"] for c in COMPANIES]
    people = Records(store, catalog, "people")
    for first, last, email, title, company in PEOPLE:
        people.create(
            {
                "name": {"first_name": first, "last_name": last},
                "email_addresses": [email],
                "job_title": title,
                "company": company_ids[company],
            },
            SYSTEM,
        )
    deals = Records(store, catalog, "deals")
    deals.create(
        {
            "name": "Engine order",
            "stage": "In progress",
            "value": {"amount_minor": 1250000},
            "associated_company": company_ids[0],
        },
        SYSTEM,
    )
