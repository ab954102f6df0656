"""S6, "how is it measured?": the JSON summary of recovery performance over a period (`GET /metrics/summary`).

Every figure counts the cases *opened* in [opened_from, opened_to), so a period's numbers do not change meaning
as its cases close later; they only fill in. Durations are in seconds from the case's opening.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class DurationStats(BaseModel):
    """One milestone's distribution over the cases that reached it (the others are not in `count`)."""

    count: int = Field(description="Cases that reached the milestone.")
    median_seconds: float | None = Field(description="Null when no case reached it.")
    p90_seconds: float | None = Field(description="Linear interpolation between the closest ranks.")


class SatisfactionStats(BaseModel):
    """The customer's answer to the follow-up question, 1 (not at all) to 5 (completely satisfied)."""

    responses: int
    average: float | None = Field(description="Null when nobody answered.")
    distribution: dict[int, int] = Field(description="Answers per score; every score 1-5 is present.",
                                         examples=[{1: 0, 2: 0, 3: 1, 4: 0, 5: 1}])


class RecoveryStats(BaseModel):
    """Of the closed cases, how many ended with the customer made whole.

    `share` = cases closed `recovered` / cases closed with a confirmed failure (all closed cases but
    `not_confirmed`, where verification found nothing to recover, and `linked`, a second report of a money
    event another case handles). A rejected approval (`not_approved`) counts as not recovered. A till
    undercharge that is written off counts as a failure not recovered for the customer: the customer lost
    nothing, and `outcomes` shows it.  A case closed `recovered` or `arranged` without a named owner is not
    recovered until it has one: `outcomes` counts it as `recovered_without_owner`, a confirmed failure not (yet)
    recovered.
    """

    closed: int
    recovered: int
    share: float | None = Field(description="Null when no closed case had a confirmed failure.")
    outcomes: dict[str, int] = Field(description="Closed cases per outcome.", examples=[{"recovered": 2}])


class SlaCompliance(BaseModel):
    """Cases that had a reply deadline, and how many of them met it."""

    with_deadline: int
    breached: int
    compliance: float | None = Field(description="Share of cases with a deadline that did not breach it.")


class CaseStats(BaseModel):
    """Everything S6 asks, for one group of cases."""

    opened: int = Field(description="Cases opened in the period.")
    closed: int = Field(description="Of those, closed by now.")
    time_to_first_contact: DurationStats = Field(description="Opening to the first message that reached them.")
    time_to_refund: DurationStats
    time_to_close: DurationStats
    satisfaction: SatisfactionStats
    recovery: RecoveryStats
    sla: SlaCompliance | None = Field(description="Null until the read model records SLA deadlines.")


class MajorIncidentFigures(BaseModel):
    """S7: one major incident's reach. Shares are of the child cases opened (linked customers are counted in the
    case they already had)."""

    id: str
    title: str
    status: str
    declared_at: datetime
    affected: int
    opened: int
    reached_share: float
    refunded_share: float
    seconds_to_last_reached: float | None = Field(description="From the declaration to the last customer reached "
                                                  "so far; none before the first.")


class MetricsSummary(BaseModel):
    """The period's cases overall and grouped three ways.

    `by_channel` groups by the channel of the case's first outbound message (the first attempt to reach the
    customer, answered or not); cases never contacted are under `"none"`.
    """

    opened_from: datetime
    opened_to: datetime
    overall: CaseStats
    by_kind: dict[str, CaseStats] = Field(description="Per workflow type (incident kind).")
    by_channel: dict[str, CaseStats]
    by_source: dict[str, CaseStats]
    major_incidents: list[MajorIncidentFigures] = Field(default_factory=list,
                                                        description="Major incidents declared in the period (S7).")
