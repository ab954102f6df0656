"""Service-level promises: targets per workflow type and priority, on a business calendar."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field

from kinds import added_kinds
from schemas.incidents import IncidentKind, IncidentSource
from sla.calendar import BusinessCalendar
from sla.clock import SlaState


class Priority(StrEnum):
    normal = "normal"
    high = "high"  # public (social media, or marked public by a supervisor): tighter targets
    urgent = "urgent"


class SlaTargets(BaseModel):
    """Business time allowed (in opening hours of the calendar). Acknowledgement is automatic and wall-clock."""

    acknowledge: timedelta = timedelta(minutes=1)
    first_reply: timedelta | None = Field(default=None, description="A person's personal reply.")
    resolution: timedelta | None = None


def _complaint_targets() -> dict[Priority, SlaTargets]:
    # S4's operators promise a personal reply within five business days (8 h days); public cases get half a day.
    return {Priority.normal: SlaTargets(first_reply=timedelta(hours=40), resolution=timedelta(hours=80)),
            Priority.high: SlaTargets(first_reply=timedelta(hours=4), resolution=timedelta(hours=24)),
            Priority.urgent: SlaTargets(first_reply=timedelta(hours=1), resolution=timedelta(hours=8))}


class SlaPolicy(BaseModel):
    calendar: BusinessCalendar = Field(default_factory=BusinessCalendar)
    targets: dict[IncidentKind, dict[Priority, SlaTargets]] = Field(
        default_factory=lambda: {IncidentKind.complaint: _complaint_targets(),
                                 **{IncidentKind(kind.name): kind.sla for kind in added_kinds() if kind.sla}},
        description="Kinds without targets have no SLA clock (their speed is still measured in /metrics).")
    public_sources: list[IncidentSource] = Field(default_factory=lambda: [IncidentSource.social_media])
    warn_owner_at: float = Field(default=0.75, gt=0, lt=1, description="Share of a target that warns the owner.")
    further_escalation_at: float = Field(default=1.5, gt=1, description="Share at which it goes above supervisors.")

    def targets_for(self, kind: IncidentKind, priority: Priority) -> SlaTargets:
        return self.targets.get(kind, {}).get(priority, SlaTargets())

    def priority_for(self, source: IncidentSource) -> Priority:
        return Priority.high if source in self.public_sources else Priority.normal


class SlaView(BaseModel):
    """One promise of a case as people see it: its deadline (None while paused) and state."""

    name: str
    deadline: datetime | None
    state: SlaState
    met_at: datetime | None = Field(default=None, description="When the promise was kept, if it has been.")


class SlaSnapshot(BaseModel):
    """What the read model keeps of a case's SLA, carried by every step activity."""

    priority: Priority
    clocks: list[SlaView] = Field(default_factory=list)

    @property
    def worst(self) -> SlaState | None:
        order = [SlaState.breached, SlaState.at_risk, SlaState.paused, SlaState.on_track]
        states = {clock.state for clock in self.clocks}
        return next((state for state in order if state in states), None)

    @property
    def next_deadline(self) -> datetime | None:
        deadlines = [clock.deadline for clock in self.clocks if clock.deadline is not None]
        return min(deadlines, default=None)
