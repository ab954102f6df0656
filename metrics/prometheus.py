"""`GET /metrics`: the read model's recovery figures in Prometheus' text format, computed at scrape time.

The API runs as several replicas and the worker is another process, so no process holds the true totals in
memory; the database does. A scrape asks it with three or four grouped queries (cases by state, milestone
histograms bucketed by the database, money by currency), so every replica answers with the same series and
the scrape transfers a few rows per (kind, source), not a row per case. Counters are totals over all time:
they only grow as cases open and close, which is what `rate()` and `increase()` expect.
The Temporal SDK's own worker metrics are served by the worker process (see `metrics/temporal_sdk.py`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString
from sqlalchemy import CTE, Row, Table, case, func
from sqlalchemy.sql.elements import ColumnElement, Label
from sqlmodel import Session, select

from metrics.major_incidents import major_incident_families
from metrics.read_model import CaseScope, milestone_seconds
from metrics.sla import sla_breaches_by_kind_and_source
from schemas.metrics import MajorIncidentFigures
from schemas.progress import CaseStatus
from store.cases import failing_starts, outcome_counted
from store.refunds import SETTLED
from store.tables import CaseRow, CompensationRow, RefundRow

_MINUTE, _HOUR, _DAY = 60, 3600, 86400
# From a text within seconds of the till's report to a follow-up closed weeks later.
SECONDS_BUCKETS = (1, 5, 15, 30, _MINUTE, 5 * _MINUTE, 15 * _MINUTE, 30 * _MINUTE, _HOUR, 4 * _HOUR, 8 * _HOUR,
                   _DAY, 2 * _DAY, 5 * _DAY, 7 * _DAY, 14 * _DAY, 30 * _DAY)
CASE_LABELS = ["kind", "source"]


@dataclass(frozen=True)
class _Histogram:
    """One histogram: its buckets are counted by the database, then read back into a metric family."""

    metric: str
    help: str
    column: str  # in the per-case facts of `_case_query`
    buckets: Sequence[float]

    @property
    def _names(self) -> list[str]:
        """Its result columns in `_case_query`: one per bucket (cumulative), then the count, then the sum."""
        return [*(f"{self.column}_le_{i}" for i in range(len(self.buckets))), f"{self.column}_count",
                f"{self.column}_sum"]

    def sql_columns(self, value: ColumnElement) -> list[Label]:
        counts = [func.sum(case((value <= bound, 1), else_=0)) for bound in self.buckets]
        expressions = [*counts, func.count(value), func.coalesce(func.sum(value), 0)]
        return [expression.label(name) for expression, name in zip(expressions, self._names, strict=True)]

    def family(self, rows: Sequence[Row]) -> HistogramMetricFamily:
        totals: dict[tuple[str, str], Counter] = defaultdict(Counter)
        for row in rows:  # the rows are split by status, outcome and owner too: add up per (kind, source)
            totals[row.kind, row.source].update({name: row._mapping[name] for name in self._names})
        family = HistogramMetricFamily(self.metric, self.help, labels=CASE_LABELS)
        for labels, values in sorted(totals.items()):
            *cumulative, count, total = (values[name] for name in self._names)
            buckets = [(floatToGoString(bound), n) for bound, n in zip(self.buckets, cumulative, strict=True)]
            family.add_metric(list(labels), [*buckets, ("+Inf", count)], sum_value=total)
        return family


HISTOGRAMS = (
    _Histogram("recovery_time_to_first_contact_seconds", "Seconds from opening to the first message that reached "
               "the customer.", "time_to_first_contact", SECONDS_BUCKETS),
    _Histogram("recovery_time_to_refund_seconds", "Seconds from opening to the refund.", "time_to_refund",
               SECONDS_BUCKETS),
    _Histogram("recovery_time_to_close_seconds", "Seconds from opening to closing.", "time_to_close", SECONDS_BUCKETS),
    _Histogram("recovery_satisfaction_score", "The customer's answer to the follow-up question, 1 to 5.",
               "satisfaction", (1, 2, 3, 4, 5)),
)


def exposition(session: Session, scope: CaseScope, majors: list[MajorIncidentFigures] | None = None) -> bytes:
    """The text a scrape gets. A registry of its own per scrape: nothing is kept between scrapes."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ReadModelCollector(session, scope, majors))
    return generate_latest(registry)


class ReadModelCollector:
    """A prometheus_client collector whose `collect` queries the read model (on the scraping request's session)."""

    def __init__(self, session: Session, scope: CaseScope, majors: list[MajorIncidentFigures] | None = None) -> None:
        self._session, self._scope, self._majors = session, scope, majors or []

    def collect(self) -> Iterator[Metric]:
        case_rows = self._session.exec(_case_query(self._scope)).all()
        yield from _case_families(case_rows)
        yield from _sla_families(sla_breaches_by_kind_and_source(self._session, self._scope),
                                 {(row.kind, row.source) for row in case_rows})
        yield from (histogram.family(case_rows) for histogram in HISTOGRAMS)
        refunds = RefundRow.__table__
        yield from _money_families(self._session, refunds, "refund", self._scope,
                                   refunds.c.status.in_(SETTLED))  # by the provider or by hand; not refused
        yield from _money_families(self._session, CompensationRow.__table__, "compensation", self._scope)
        yield GaugeMetricFamily("recovery_cases_start_failing", "Cases recorded whose workflow could not be started "
                                "(their input no longer opens, or Temporal refused that start): each names why in "
                                "start_error and is tried again later; an operator should look.",
                                value=failing_starts(self._session, self._scope.conditions()))
        yield from major_incident_families(self._majors)


def _case_query(scope: CaseScope):
    """One scan of the cases: per (kind, source, status, outcome), the count and, for each histogram, its
    cumulative bucket counts, count and sum, all counted by the database."""
    # MATERIALIZED: each duration is computed once per case, not once per bucket (SQLite would inline it).
    facts: CTE = select(CaseRow.kind, CaseRow.source, CaseRow.status, CaseRow.outcome, CaseRow.satisfaction,
                        case((CaseRow.owner.is_(None), 0), else_=1).label("owned"),
                        *milestone_seconds()).where(*scope.conditions()).cte("facts").prefix_with("MATERIALIZED")
    columns = [column for histogram in HISTOGRAMS for column in histogram.sql_columns(facts.c[histogram.column])]
    groups = [facts.c.kind, facts.c.source, facts.c.status, facts.c.outcome, facts.c.owned]
    return select(*groups, func.count().label("cases"), *columns).group_by(*groups)


def _case_families(rows: Sequence[Row]) -> Iterator[Metric]:
    opened, closed, open_now = Counter(), Counter(), Counter()
    for row in rows:
        opened[row.kind, row.source] += row.cases
        if row.status == CaseStatus.closed:
            closed[row.kind, row.source, outcome_counted(row.status, row.outcome, bool(row.owned))] += row.cases
        else:
            open_now[row.kind, row.source, row.status] += row.cases
    yield _family(CounterMetricFamily("recovery_cases_opened", "Cases opened, by workflow type (kind) and source.",
                                      labels=CASE_LABELS), opened)
    yield _family(CounterMetricFamily("recovery_cases_closed", "Cases closed, by kind, source and outcome.",
                                      labels=[*CASE_LABELS, "outcome"]), closed)
    yield _family(GaugeMetricFamily("recovery_cases_open", "Cases not closed yet, by kind, source and status.",
                                    labels=[*CASE_LABELS, "status"]), open_now)


def _sla_families(breaches: dict[tuple[str, str], int] | None, groups: set[tuple[str, str]]) -> Iterator[Metric]:
    """Zero breaches per group while SLAs are not tracked, with `recovery_sla_tracked 0` saying why."""
    tracked = GaugeMetricFamily("recovery_sla_tracked", "1 when case rows record SLA deadlines; 0 means the SLA "
                                "breach counts are not measured yet and read 0.", value=int(breaches is not None))
    yield tracked
    counts = {group: 0 for group in groups} | (breaches or {})
    yield _family(CounterMetricFamily("recovery_sla_breaches", "Cases that broke their SLA, by kind and source "
                                      "(0 while recovery_sla_tracked is 0).", labels=CASE_LABELS), counts)


def _family(family: CounterMetricFamily | GaugeMetricFamily, values: Mapping[tuple[str, ...], int]) -> Metric:
    for labels, value in sorted(values.items()):
        family.add_metric(list(labels), value)
    return family


def _money_families(session: Session, table: Table, noun: str, scope: CaseScope, *where) -> Iterator[Metric]:
    """Count and sum of a money table (refunds, compensations), per currency, in minor units (cents for EUR)."""
    rows = session.exec(
        select(table.c.currency, func.count().label("n"), func.sum(table.c.amount_minor).label("minor"))
        .where(*scope.covers_case(table.c.case_id), *where).group_by(table.c.currency)
    ).all()
    count = CounterMetricFamily(f"recovery_{noun}s", f"{noun.capitalize()}s made, by currency.", labels=["currency"])
    amount = CounterMetricFamily(f"recovery_{noun}_amount_minor_units",
                                 f"Sum of {noun}s in the currency's minor unit (cents for EUR).", labels=["currency"])
    for row in rows:
        count.add_metric([row.currency], row.n)
        amount.add_metric([row.currency], row.minor)
    yield count
    yield amount
