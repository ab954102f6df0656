"""A case without a named owner is not "recovered" until it has one: the customer made whole by a case nobody
answers for has nobody to reach about it. The figures (S6's share recovered) and the case view say so alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.routes.metrics import router as metrics_router
from metrics.summary import summarise
from schemas.progress import CaseOutcome, CaseStatus, CaseStep
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
