"""S6 over HTTP: `GET /metrics` for Prometheus, `GET /metrics/summary` for people. Both need `cases:read`
and count only the caller's tenant's cases; an integrator's key only the cases it opened, as everywhere else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response
from prometheus_client import CONTENT_TYPE_LATEST

from api.auth import ReaderDep
from api.case_access import only_from
from api.deps import SessionDep
from api.errors import invalid_field
from metrics.major_incidents import major_incident_figures
from metrics.prometheus import exposition
from metrics.read_model import CaseScope
from metrics.summary import summarise
from schemas.inputs import FilterInstant
from schemas.metrics import MetricsSummary

router = APIRouter(prefix="/metrics", tags=["metrics"])
DEFAULT_PERIOD = timedelta(days=30)


@router.get("", response_class=Response, responses={200: {"content": {"text/plain": {}},
                                                          "description": "Prometheus text exposition format."}})
def prometheus_metrics(session: SessionDep, reader: ReaderDep) -> Response:
    """Totals and histograms over the tenant's cases, computed from the database at scrape time (any replica
    answers)."""
    scope = CaseScope(tenant=reader.tenant, integrator=only_from(reader))
    return Response(exposition(session, scope, major_incident_figures(session, reader.tenant, only_from(reader))),
                    media_type=CONTENT_TYPE_LATEST)


@router.get("/summary", response_model=MetricsSummary)
def metrics_summary(
    session: SessionDep,
    reader: ReaderDep,
    opened_from: Annotated[FilterInstant | None, Query(description="Inclusive; default: 30 days earlier.")] = None,
    opened_to: Annotated[FilterInstant | None, Query(description="Exclusive; default: now.")] = None,
) -> MetricsSummary:
    """Time to first contact, refund and close, CSAT, share recovered and SLA compliance of the cases opened in
    [opened_from, opened_to), overall and per workflow type, first-contact channel and source; and the major
    incidents declared in that period: time to the last customer reached, share reached and refunded."""
    opened_to = opened_to or datetime.now(UTC)
    opened_from = opened_from or opened_to - DEFAULT_PERIOD
    if opened_from >= opened_to:
        raise invalid_field("query", "opened_from", "value_error", "opened_from must be before opened_to")
    summary = summarise(session, opened_from, opened_to, tenant=reader.tenant, integrator=only_from(reader))
    summary.major_incidents = major_incident_figures(session, reader.tenant, only_from(reader), opened_from,
                                                     opened_to)
    return summary

