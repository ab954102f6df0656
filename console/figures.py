"""Recovery figures (S6) for supervisors: the API's own summary (`GET /metrics/summary`) over a chosen period,
as a table, a few bar charts drawn as server-rendered SVG (nothing to load), and the same table as CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, Response

from api.deps import SessionDep
from api.routes import metrics
from console.api_calls import through_api
from console.session import PATH, ViewerDep
from console.templating import templates
from schemas.inputs import FilterDay
from schemas.metrics import CaseStats, MetricsSummary

router = APIRouter(prefix=PATH)
COLUMNS = ["group", "opened", "closed", "first contact median", "first contact p90", "refund median", "refund p90",
           "close median", "close p90", "SLA compliance", "CSAT average", "CSAT answers", "share recovered"]


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive, as people say "1 to 30 November"

    @classmethod
    def of(cls, start: date | None, end: date | None) -> Period:
        end = end or datetime.now(UTC).date()
        start = start or end - timedelta(days=29)
        if start > end:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "from: must not be after to")
        return cls(start, end)

    def instants(self) -> tuple[datetime, datetime]:
        return datetime.combine(self.start, time(), UTC), datetime.combine(self.end + timedelta(days=1), time(), UTC)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


def cells(stats: CaseStats) -> list[str]:
    sla = stats.sla.compliance if stats.sla else None
    return [str(stats.opened), str(stats.closed),
            *(duration(getattr(stats, name).median_seconds if q == "median" else getattr(stats, name).p90_seconds)
              for name in ("time_to_first_contact", "time_to_refund", "time_to_close") for q in ("median", "p90")),
            share(sla), "—" if stats.satisfaction.average is None else f"{stats.satisfaction.average:.1f}",
            str(stats.satisfaction.responses), share(stats.recovery.share)]


def groups(summary: MetricsSummary) -> list[tuple[str, str, CaseStats]]:
    """(section, name, figures): all cases, then per type, per first-contact channel, per source."""
    rows = [("All cases", "all", summary.overall)]
    for section, grouped in (("Type", summary.by_kind), ("Channel", summary.by_channel),
                             ("Source", summary.by_source)):
        rows += [(section, name, stats) for name, stats in sorted(grouped.items())]
    return rows


async def _summary(session: SessionDep, person: ViewerDep, period: Period) -> MetricsSummary:
    opened_from, opened_to = period.instants()
    return await through_api(metrics.metrics_summary, person.principal, session=session,
                             opened_from=opened_from, opened_to=opened_to)


@router.get("/figures", response_class=HTMLResponse, include_in_schema=False)
async def figures(request: Request, session: SessionDep, person: ViewerDep, start: FilterDay | None = None,
                  end: FilterDay | None = None) -> Response:
    period = Period.of(start, end)
    summary = await _summary(session, person, period)
    by_kind = sorted(summary.by_kind.items())
    return templates.TemplateResponse(request, "figures.html", {
        "person": person, "period": period, "columns": COLUMNS, "rows": groups(summary), "cells": cells,
        "charts": [("Share recovered, per type", [(name, s.recovery.share) for name, s in by_kind]),
                   ("SLA compliance, per type", [(name, s.sla.compliance if s.sla else None) for name, s in by_kind])],
    })


@router.get("/figures.csv", include_in_schema=False)
async def figures_csv(session: SessionDep, person: ViewerDep, start: FilterDay | None = None,
                      end: FilterDay | None = None) -> Response:
    period = Period.of(start, end)
    summary = await _summary(session, person, period)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", *COLUMNS])
    for section, name, stats in groups(summary):
        writer.writerow([section, name, *cells(stats)])
    filename = f"recovery-figures-{period.start}-{period.end}.csv"
    return Response(out.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
