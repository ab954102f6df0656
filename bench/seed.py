"""A read model with a year of cases in it (d): rows straight into `cases`, in one executemany, with a spread
of statuses, kinds, integrators and opening times like a busy chain's. Seeded, so every run reads the same."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from bench.incidents import TENANT
from store.db import engine_for
from store.tables import CaseRow

SEED_INTEGRATOR_COUNT = 6
STATUSES = {"closed": 0.78, "waiting_on_customer": 0.12, "open": 0.07, "needs_attention": 0.03}
KINDS = {"overcharge": 0.6, "undercharge": 0.3, "duplicate_purchase": 0.1}
SOURCES = ["till", "web_shop", "contact_centre", "feedback_form", "social_media", "transaction_monitor"]
BATCH = 10_000


def seed_cases(database_url: str, count: int, now: datetime) -> list[str]:
    """Returns the new case ids. Older cases are mostly closed, as they would be."""
    chooser = random.Random(6)
    rows = [_row(chooser, number, now) for number in range(count)]
    with engine_for(database_url).begin() as connection:
        for start in range(0, len(rows), BATCH):
            connection.execute(CaseRow.__table__.insert(), rows[start:start + BATCH])
    return [row["id"] for row in rows]


def _row(chooser: random.Random, number: int, now: datetime) -> dict[str, Any]:
    opened_at = now - timedelta(days=365 * chooser.random() ** 2, seconds=chooser.randrange(86_400))
    status = _pick(chooser, STATUSES) if now - opened_at < timedelta(days=14) else "closed"
    closed = status == "closed"
    return {
        "id": f"case-seed{number:019d}", "reference": f"S{number:07d}", "tenant": TENANT,
        "integrator": f"seed-integrator-{number % SEED_INTEGRATOR_COUNT}", "external_id": f"seed-{number}",
        "kind": _pick(chooser, KINDS), "source": chooser.choice(SOURCES), "status": status,
        "step": "close" if closed else chooser.choice(["verify", "contact", "refund", "follow_up"]),
        "outcome": "recovered" if closed else None, "owner": f"agent.{chooser.randrange(40)}",
        "customer_name": f"Customer {number}", "customer_phone": f"+35850{number:07d}", "customer_email": None,
        "store": f"Store {chooser.randrange(120)}", "amount_minor": chooser.randrange(10, 50_000), "currency": "EUR",
        "transaction_ref": f"T-seed-{number}", "opened_at": opened_at,
        "first_contact_at": opened_at + timedelta(seconds=chooser.randrange(1, 60)),
        "refunded_at": opened_at + timedelta(hours=chooser.randrange(1, 48)) if closed else None,
        "closed_at": opened_at + timedelta(days=chooser.randrange(2, 10)) if closed else None,
        "satisfaction": chooser.randrange(1, 6) if closed else None, "updated_at": now,
    }


def _pick(chooser: random.Random, weights: dict[str, float]) -> str:
    return chooser.choices(list(weights), weights=list(weights.values()))[0]
