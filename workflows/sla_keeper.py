"""A case's promises, as the workflow keeps them: one pausable clock per target, the escalation level each
has reached, and when the next escalation falls due. Pure and deterministic: the workflow passes `now` in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.incidents import IncidentKind
    from schemas.sla import Priority, SlaPolicy, SlaSnapshot, SlaTargets, SlaView
    from sla.clock import SlaClock, SlaState

CLOCKS = ("first_reply", "resolution")


class Level:
    """Escalation levels, in the order they fall due."""

    owner_warned = 1
    supervisor = 2
    above_supervisor = 3


@dataclass
class Escalation:
    clock: str
    level: int
    due: datetime


@dataclass
class SlaKeeper:
    policy: SlaPolicy
    kind: IncidentKind
    priority: Priority
    started_at: datetime
    clocks: dict[str, SlaClock] = field(default_factory=dict)
    met: dict[str, datetime] = field(default_factory=dict)
    reached: dict[str, int] = field(default_factory=dict)
    version: int = 0  # bumped on every change, so a waiting watcher knows to look again

    def __post_init__(self) -> None:
        self._apply(self.policy.targets_for(self.kind, self.priority))

    def set_priority(self, priority: Priority) -> None:
        """Recomputes every open deadline from the same start and pauses, with the new priority's targets."""
        self.priority = priority
        self._apply(self.policy.targets_for(self.kind, priority))

    def pause(self, now: datetime) -> None:
        self._each_open(lambda clock: clock.pause(now))

    def resume(self, now: datetime) -> None:
        self._each_open(lambda clock: clock.resume(now))

    def meet(self, name: str, now: datetime) -> None:
        if name in self.clocks and name not in self.met:
            self.met[name] = now
            self.version += 1

    def next_escalation(self) -> Escalation | None:
        """The earliest escalation not yet made, among clocks still running."""
        shares = {Level.owner_warned: self.policy.warn_owner_at, Level.supervisor: 1.0,
                  Level.above_supervisor: self.policy.further_escalation_at}
        upcoming = []
        for name, clock in self.clocks.items():
            level = self.reached.get(name, 0) + 1
            if name in self.met or level not in shares:
                continue
            due = clock.instant_at_share(shares[level])
            if due is not None:
                upcoming.append(Escalation(name, level, due))
        return min(upcoming, key=lambda escalation: escalation.due, default=None)

    def escalated(self, escalation: Escalation) -> None:
        self.reached[escalation.clock] = escalation.level
        self.version += 1

    def snapshot(self, now: datetime) -> SlaSnapshot:
        return SlaSnapshot(priority=self.priority,
                           clocks=[SlaView(name=name, deadline=clock.deadline, state=self._state(name, now),
                                           met_at=self.met.get(name))
                                   for name, clock in self.clocks.items()])

    def _state(self, name: str, now: datetime) -> SlaState:
        clock = self.clocks[name]
        at = self.met.get(name, now)
        state = clock.state(at, at_risk_share=self.policy.warn_owner_at)
        return SlaState.on_track if name in self.met and state is not SlaState.breached else state

    def _apply(self, targets: SlaTargets) -> None:
        for name in CLOCKS:
            target = getattr(targets, name)
            if target is None:
                self.clocks.pop(name, None)
                continue
            pauses = self.clocks[name].pauses if name in self.clocks else ()
            self.clocks[name] = SlaClock(started_at=self.started_at, target=target, calendar=self.policy.calendar,
                                         pauses=pauses)
        self.version += 1

    def _each_open(self, change) -> None:
        for name, clock in list(self.clocks.items()):
            if name not in self.met:
                self.clocks[name] = change(clock)
        self.version += 1
