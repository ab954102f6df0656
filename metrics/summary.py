"""The S6 summary: per workflow type, first-contact channel and source, over the cases opened in a period.

Two queries over the period's cases. Counts (opened, closed, outcomes, CSAT scores) are grouped by the
database: a few hundred rows at most, whatever the volume. Medians and p90s cannot be computed portably in
SQL, so the milestone durations come back as plain seconds (computed by the database, three floats and three
short labels per case: some MB for 100k cases) and are ranked here.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Row, Subquery, case, func, or_
from sqlmodel import Session, select

from metrics.read_model import MILESTONES, CaseScope, GroupKey, milestone_seconds
from metrics.sla import sla_compliance_by_group
from schemas.metrics import CaseStats, DurationStats, MetricsSummary, RecoveryStats, SatisfactionStats, SlaCompliance
from schemas.progress import CaseOutcome, CaseStatus
from store.cases import outcome_counted
from store.tables import CaseRow, MessageRow

GROUPINGS = ("kind", "channel", "source")
OVERALL: GroupKey = ("overall", "all")
NO_CHANNEL = "none"  # the case has had no outbound message (yet), e.g. an undercharge written off in silence
SCORES = range(1, 6)


def summarise(session: Session, opened_from: datetime, opened_to: datetime, tenant: str | None = None,
              integrator: str | None = None) -> MetricsSummary:
    """The summary of the cases opened in [opened_from, opened_to): of one tenant's cases, and of one
    integrator's when given."""
    scope = CaseScope(tenant=tenant, integrator=integrator, opened_from=opened_from, opened_to=opened_to)
    facts = _case_facts(scope)
    tallies: dict[GroupKey, _Tally] = defaultdict(_Tally)
    for row in session.exec(_counts(facts)):
        for key in _group_keys(row):
            tallies[key].count(row)
    for fine_group, seconds in _durations_by_fine_group(session, facts).items():
        for key in _group_keys(fine_group):
            tallies[key].time(seconds)
    sla = sla_compliance_by_group(session, scope)
    stats = {key: tally.stats(sla.get(key)) for key, tally in sorted(tallies.items())}
    groups = {f"by_{grouping}": {value: stats[(name, value)] for name, value in stats if name == grouping}
              for grouping in GROUPINGS}
    overall = stats.get(OVERALL) or _Tally().stats(sla.get(OVERALL))
    return MetricsSummary(opened_from=opened_from, opened_to=opened_to, overall=overall, **groups)


def _case_facts(scope: CaseScope) -> Subquery:
    """One row per case in scope: its groups, state, score, and seconds to each milestone."""
    first_channel = (
        select(MessageRow.channel).where(MessageRow.case_id == CaseRow.id, MessageRow.direction == "out")
        .order_by(MessageRow.id).limit(1).correlate(CaseRow).scalar_subquery()
    )  # one look-up per case on the messages' case_id index
    return select(
        CaseRow.kind, CaseRow.source, func.coalesce(first_channel, NO_CHANNEL).label("channel"),
        CaseRow.status, CaseRow.outcome, case((CaseRow.owner.is_(None), 0), else_=1).label("owned"),
        CaseRow.satisfaction, *milestone_seconds(),
    ).where(*scope.conditions()).subquery("facts")


def _counts(facts: Subquery):
    dimensions = [facts.c.kind, facts.c.channel, facts.c.source, facts.c.status, facts.c.outcome, facts.c.owned,
                  facts.c.satisfaction]
    return select(*dimensions, func.count().label("cases")).group_by(*dimensions)


def _durations_by_fine_group(session: Session, facts: Subquery) -> dict[_FineGroup, dict[str, list[float]]]:
    """Seconds to each milestone, listed per (kind, channel, source): one dict look-up per case here, and the
    coarser groups then take whole lists, rather than every case being appended to four groups."""
    reached_any = or_(*(facts.c[name].is_not(None) for name in MILESTONES))
    query = select(facts.c.kind, facts.c.channel, facts.c.source, *(facts.c[name] for name in MILESTONES)
                   ).where(reached_any)
    by_group: dict[_FineGroup, dict[str, list[float]]] = defaultdict(lambda: {name: [] for name in MILESTONES})
    for kind, channel, source, *seconds in session.exec(query):
        lists = by_group[_FineGroup(kind, channel, source)]
        for values, value in zip(lists.values(), seconds, strict=True):
            if value is not None:
                values.append(value)
    return by_group


class _FineGroup(NamedTuple):
    kind: str
    channel: str
    source: str


def _group_keys(row: Row | _FineGroup) -> Iterator[GroupKey]:
    """The groups a row of cases belongs to: all cases, its kind, its channel, its source."""
    yield OVERALL
    for grouping in GROUPINGS:
        yield grouping, getattr(row, grouping)


@dataclass
class _Tally:
    """One group's running totals: first from the grouped counts, then from the lists of durations."""

    opened: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # closed cases only
    scores: Counter[int] = field(default_factory=Counter)
    seconds: dict[str, list[float]] = field(default_factory=lambda: {name: [] for name in MILESTONES})

    def count(self, row: Row) -> None:
        self.opened += row.cases
        if row.status == CaseStatus.closed:
            self.outcomes[_outcome(row)] += row.cases
        if row.satisfaction is not None:
            self.scores[row.satisfaction] += row.cases

    def time(self, seconds: dict[str, list[float]]) -> None:
        for name, values in seconds.items():
            self.seconds[name].extend(values)

    def stats(self, sla: SlaCompliance | None) -> CaseStats:
        durations = {name: _duration_stats(values) for name, values in self.seconds.items()}
        return CaseStats(opened=self.opened, closed=sum(self.outcomes.values()), **durations,
                         satisfaction=_satisfaction(self.scores), recovery=_recovery(self.outcomes), sla=sla)


def _outcome(row: Row) -> str:
    return outcome_counted(row.status, row.outcome, bool(row.owned))


def _duration_stats(values: list[float]) -> DurationStats:
    if not values:
        return DurationStats(count=0, median_seconds=None, p90_seconds=None)
    ranked = sorted(values)
    return DurationStats(count=len(ranked), median_seconds=round(percentile(ranked, 0.5), 3),
                         p90_seconds=round(percentile(ranked, 0.9), 3))


def percentile(ranked: Sequence[float], share: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default): the p90 of two values lies between them,
    rather than jumping to the larger, so small groups do not report their worst case as their p90."""
    position = (len(ranked) - 1) * share
    below = math.floor(position)
    above = min(below + 1, len(ranked) - 1)
    return ranked[below] + (ranked[above] - ranked[below]) * (position - below)


def _satisfaction(scores: Counter[int]) -> SatisfactionStats:
    responses = sum(scores.values())
    average = round(sum(score * n for score, n in scores.items()) / responses, 2) if responses else None
    return SatisfactionStats(responses=responses, average=average,
                             distribution={score: scores[score] for score in SCORES})


def _recovery(outcomes: Counter[str]) -> RecoveryStats:
    """Share recovered among closed cases with a confirmed failure; see `RecoveryStats` for why."""
    recovered = outcomes[CaseOutcome.recovered] + outcomes[CaseOutcome.arranged]
    # Not a failure of ours to recover: nothing was wrong, or another case handles the same money event.
    confirmed = sum(outcomes.values()) - outcomes[CaseOutcome.not_confirmed] - outcomes[CaseOutcome.linked]
    return RecoveryStats(closed=sum(outcomes.values()), recovered=recovered,
                         share=round(recovered / confirmed, 4) if confirmed else None,
                         outcomes=dict(sorted(outcomes.items())))
