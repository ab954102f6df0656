"""A case without a named owner is not "recovered" until it has one: the customer made whole by a case nobody
answers for has nobody to reach about it. The figures (S6's share recovered) and the case view say so alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.routes.metrics import router as metrics_router
from metrics.prometheus import exposition
from metrics.read_model import CaseScope
from metrics.summary import summarise
from schemas.progress import CaseOutcome, CaseStatus, CaseStep
from store.cases import summary_of
from store.db import session_for
from store.tables import CaseRow
from tests.harness import TENANT, Stack

pytestmark = pytest.mark.both_databases  # the read model's behaviour on SQLite and PostgreSQL alike

NOW = datetime.now(UTC)


def closed_case(name: str, outcome: CaseOutcome, owner: str | None) -> CaseRow:
    return CaseRow(id=f"case-owner-{name}", reference=name.upper()[:8], tenant=TENANT, integrator="till-01",
                   external_id=name, kind="overcharge", source="transaction_monitor", status=CaseStatus.closed,
                   step=CaseStep.close, outcome=outcome, owner=owner, customer_name="Maija Meikäläinen",
                   opened_at=NOW - timedelta(hours=1), closed_at=NOW)


def closed_cases() -> list[CaseRow]:
    return [closed_case("owned", CaseOutcome.recovered, "duty.manager"),
            closed_case("nobody", CaseOutcome.recovered, None),
            closed_case("rejected", CaseOutcome.not_approved, "duty.manager")]


async def test_a_case_recovered_without_an_owner_counts_as_not_recovered_in_the_figures_and_the_view(stack: Stack):
    stack.app.include_router(metrics_router)
    with session_for(stack.settings.database_url) as session:
        session.add_all(closed_cases())
        session.commit()
        figures = summarise(session, NOW - timedelta(days=1), NOW + timedelta(days=1), tenant=TENANT).overall.recovery
    assert (figures.closed, figures.recovered, figures.share) == (3, 1, round(1 / 3, 4))
    assert figures.outcomes == {"not_approved": 1, "recovered": 1, "recovered_without_owner": 1}
    assert (await stack.api.get("/metrics/summary")).json()["overall"]["recovery"] == figures.model_dump()

    views = {name: (await stack.api.get(f"/cases/case-owner-{name}")).json() for name in ("owned", "nobody")}
    assert [(view["outcome"], view["owner"], view["recovered"]) for view in views.values()] == [
        ("recovered", "duty.manager", True), ("recovered", None, False)]
    listed = (await stack.api.get("/cases", params={"status": "closed"})).json()["items"]
    assert {item["id"]: item["recovered"] for item in listed} == {
        "case-owner-owned": True, "case-owner-nobody": False, "case-owner-rejected": False}


async def test_recovered_means_owned_alike_in_the_view_the_summary_and_prometheus(stack: Stack):
    """One rule: closed recovered or arranged, with an owner (review M4). Prometheus used to count an unowned
    case as recovered, and the summary an unowned arranged one."""
    rows = [closed_case("arr-owned", CaseOutcome.arranged, "duty.manager"),
            closed_case("arr-nobody", CaseOutcome.arranged, None),
            closed_case("rec-nobody", CaseOutcome.recovered, None)]
    for row in rows:
        row.tenant = "tenant-owned-rule"
    with session_for(stack.settings.database_url) as session:
        session.add_all(rows)
        session.commit()
        figures = summarise(session, NOW - timedelta(days=1), NOW + timedelta(days=1),
                            tenant="tenant-owned-rule").overall.recovery
        text = exposition(session, CaseScope(tenant="tenant-owned-rule")).decode()
    assert (figures.recovered, figures.outcomes) == (1, {"arranged": 1, "recovered_without_owner": 2})
    assert [summary_of(row).recovered for row in rows] == [True, False, False]
    closed = {line.split('outcome="')[1].split('"')[0]: float(line.rsplit(" ", 1)[1])
              for line in text.splitlines() if line.startswith("recovery_cases_closed_total{")}
    assert closed == {"arranged": 1.0, "recovered_without_owner": 2.0}, text
