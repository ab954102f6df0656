"""Recovery figures (S6) for supervisors: the API's own summary (`GET /metrics/summary`) over a chosen period,
as a table, bar charts per type, channel and source drawn as server-rendered SVG (nothing to load: share
recovered, SLA compliance, and time to first contact, refund and close as median and p90), and the table as CSV."""

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
from schemas.metrics import CaseStats, DurationStats, MetricsSummary

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


@dataclass(frozen=True)
class Bar:
    """One group's bar: `lengths` are fractions of the chart's width, each drawn over the one before (a duration's
    p90, then its median in a darker colour); `label` is the value in words, beside the bar and in its name."""

    name: str
    lengths: tuple[float, ...]
    label: str


@dataclass(frozen=True)
class Chart:
    """`measure` and `per` are translated apart ("Time to refund", "per channel"): the title is both."""

    measure: str
    per: str
    bars: list[Bar]
    durations: bool = False  # median over p90: the legend says which is which


def share_chart(measure: str, per: str, values: list[tuple[str, float | None]]) -> Chart:
    return Chart(measure, per, [Bar(name, () if value is None else (value,), share(value)) for name, value in values])


def duration_chart(measure: str, per: str, values: list[tuple[str, DurationStats]]) -> Chart:
    """Median and p90 per group, on one scale: the longest p90 of the chart fills the width."""
    longest = max((stats.p90_seconds or stats.median_seconds or 0 for _, stats in values), default=0) or 1
    return Chart(measure, per, [Bar(name, tuple(seconds / longest for seconds in (stats.p90_seconds,
                                                                                  stats.median_seconds)
                                                if seconds is not None),
                                    f"{duration(stats.median_seconds)} / {duration(stats.p90_seconds)}")
                                for name, stats in values], durations=True)


CHARTED_DURATIONS = (("time_to_first_contact", "Time to first contact"), ("time_to_refund", "Time to refund"),
                     ("time_to_close", "Time to close"))


def chart_sections(summary: MetricsSummary) -> list[tuple[str, list[Chart]]]:
    """Per type, per first-contact channel and per source: share recovered, SLA compliance, and the three
    durations (median and p90), each a bar per group."""
    sections = []
    for heading, grouped in (("Per type", summary.by_kind), ("Per channel", summary.by_channel),
                             ("Per source", summary.by_source)):
        ordered, per = sorted(grouped.items()), heading.lower()
        sections.append((heading, [
            share_chart("Share recovered", per, [(name, stats.recovery.share) for name, stats in ordered]),
            share_chart("SLA compliance", per, [(name, stats.sla.compliance if stats.sla else None)
                                                for name, stats in ordered]),
            *(duration_chart(measure, per, [(name, getattr(stats, field)) for name, stats in ordered])
              for field, measure in CHARTED_DURATIONS)]))
    return sections


async def _summary(session: SessionDep, person: ViewerDep, period: Period) -> MetricsSummary:
    opened_from, opened_to = period.instants()
    return await through_api(metrics.metrics_summary, person.principal, session=session,
                             opened_from=opened_from, opened_to=opened_to)


@router.get("/figures", response_class=HTMLResponse, include_in_schema=False)
async def figures(request: Request, session: SessionDep, person: ViewerDep, start: FilterDay | None = None,
                  end: FilterDay | None = None) -> Response:
    period = Period.of(start, end)
    summary = await _summary(session, person, period)
    return templates.TemplateResponse(request, "figures.html", {
        "person": person, "period": period, "columns": COLUMNS, "rows": groups(summary), "cells": cells,
        "chart_sections": chart_sections(summary),
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
