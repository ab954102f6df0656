"""The console's queue pages through the read model by keyset (store.cases.list_cases): every case exactly once,
in order, newest first or most urgent first, with a capped count; and what arrived since a place, on its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from bench.incidents import TENANT
from bench.seed import seed_cases
from store import cases as case_store
from store.db import engine_for, session_for
from store.tables import CaseRow

COUNT = 230
PAGE = 50


def pages(database_url: str, key, **order) -> list[CaseRow]:
    """Every page in turn, each starting after the last row of the one before."""
    seen, after = [], None
    while True:
        with session_for(database_url) as session:
            rows, total = case_store.list_cases(
                session, tenant=TENANT, integrator=None, status=None, kind=None, owner=None, opened_after=None,
                opened_before=None, limit=PAGE, offset=0, after=after, count_up_to=100, **order)
        assert total == 101, "the count stops past its cap"
        seen += rows
        if len(rows) < PAGE:
            return seen
        after = (key(rows[-1]), rows[-1].id)


@pytest.mark.both_databases
def test_pages_by_keyset_newest_or_most_urgent_first(database_url: str):
    now = datetime.now(UTC)
    engine_for(database_url)
    ids = seed_cases(database_url, COUNT, now)
    due = {case_id: now + timedelta(minutes=(number * 37) % 500) for number, case_id in enumerate(ids[:120])}
    with engine_for(database_url).begin() as connection:
        for case_id, deadline in due.items():
            connection.execute(update(CaseRow).where(CaseRow.id == case_id).values(sla_due_at=deadline))

    newest = pages(database_url, lambda row: row.opened_at, newest_first=True)
    assert [row.id for row in newest] == [row.id for row in sorted(newest, key=lambda r: (r.opened_at, r.id),
                                                                    reverse=True)]
    assert sorted(row.id for row in newest) == sorted(ids), "every case once"

    urgent = pages(database_url, lambda row: row.sla_due_at, most_urgent=True)
    assert [row.id for row in urgent] == sorted(due, key=lambda case_id: (due[case_id], case_id)), \
        "only cases with a deadline, the nearest first, each once"

    third = newest[2]
    with session_for(database_url) as session:
        arrived, _ = case_store.list_cases(
            session, tenant=TENANT, integrator=None, status=None, kind=None, owner=None, opened_after=None,
            opened_before=None, limit=PAGE, offset=0, newer_than=(third.opened_at, third.id))
    assert [row.id for row in arrived] == [row.id for row in newest[:2]]
