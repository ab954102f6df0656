"""An SLA clock: a target of business time that can be paused, e.g. while we wait on the customer.

The clock is plain data (a pydantic model), so a workflow keeps it in its state, returns it from a query and
hands it to activities. It never reads a clock: every question takes `now` (in a workflow, `workflow.now()`).
Shares of the target are exact (Fractions of integer microseconds), so "75 % of 8 business hours" is 6 hours to
the microsecond, and the instant at which a share is reached is exact as well, ready for a durable timer.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sla.calendar import BusinessCalendar, UtcDatetime, to_utc

_MICROSECOND = timedelta(microseconds=1)
AT_RISK_SHARE = Fraction(3, 4)


class SlaState(StrEnum):
    on_track = "on_track"
    at_risk = "at_risk"  # the at-risk share of the target is used: time to escalate
    breached = "breached"  # the deadline has passed; a breach stays a breach, paused or not
    paused = "paused"  # the clock stands still, e.g. while we wait on the customer


class Pause(BaseModel):
    """A stretch of time that does not count against the target; `end` is None while it lasts."""

    model_config = ConfigDict(frozen=True)

    start: UtcDatetime
    end: UtcDatetime | None = None


class SlaClock(BaseModel):
    """A business-time target from `started_at`, on `calendar`, minus the business time spent in `pauses`.

    A pause moves the deadline later by exactly the business time it covered: a pause over a night or a
    weekend moves it by nothing. Frozen: `pause` and `resume` return a new clock.
    """

    model_config = ConfigDict(frozen=True)

    started_at: UtcDatetime
    target: timedelta = Field(gt=timedelta(0), description="Business time allowed, e.g. 8 hours.")
    calendar: BusinessCalendar = Field(default_factory=BusinessCalendar)
    pauses: tuple[Pause, ...] = Field(default=(), description="In order, not overlapping; only the last open.")

    @model_validator(mode="after")
    def _pauses_in_order(self) -> SlaClock:
        running_since = self.started_at
        for i, pause in enumerate(self.pauses):
            if pause.start < running_since:
                raise ValueError(f"pause {i} starts before the clock started or before the previous pause ended")
            if pause.end is None and i < len(self.pauses) - 1:
                raise ValueError(f"pause {i} has no end, but is not the last")
            running_since = pause.end or pause.start
            if running_since < pause.start:
                raise ValueError(f"pause {i} ends before it starts")
        return self

    @property
    def paused_since(self) -> datetime | None:
        """The start of the pause that has not ended, if any."""
        last = self.pauses[-1] if self.pauses else None
        return last.start if last and last.end is None else None

    def pause(self, at: datetime) -> SlaClock:
        """The clock stopped at `at`; pausing a paused clock changes nothing."""
        if self.paused_since is not None:
            return self
        return self._with_pauses((*self.pauses, Pause(start=at)))

    def resume(self, at: datetime) -> SlaClock:
        """The clock running again from `at`; resuming a running clock changes nothing."""
        if self.paused_since is None:
            return self
        return self._with_pauses((*self.pauses[:-1], Pause(start=self.paused_since, end=at)))

    def used(self, now: datetime) -> timedelta:
        """Business time counted against the target from the start until `now`."""
        now = to_utc(now)
        spans = ((start, now if end is None else min(end, now)) for start, end in self._running_spans())
        return sum((self.calendar.business_time_between(start, end) for start, end in spans), timedelta(0))

    def remaining(self, now: datetime) -> timedelta:
        """Business time left until the deadline at `now` (the countdown); zero once it is used up."""
        return max(self.target - self.used(now), timedelta(0))

    def share_used(self, now: datetime) -> Fraction:
        """The exact share of the target used at `now`: 0 at the start, 1 at the deadline, more after."""
        return Fraction(self.used(now) // _MICROSECOND, self.target // _MICROSECOND)

    @property
    def deadline(self) -> datetime | None:
        """When the whole target is used (UTC); None while a pause that the deadline depends on lasts."""
        return self.instant_at_share(1)

    def instant_at_share(self, share: Fraction | float | int) -> datetime | None:
        """The earliest instant (UTC) at which `share` of the target is used, e.g. 0.75 for an escalation.

        None when that instant lies beyond a pause that has not ended: it is not known yet. The share of the
        target is rounded up to the microsecond, so at the instant returned at least that share is used.
        """
        remaining = timedelta(microseconds=math.ceil(_exact(share) * (self.target // _MICROSECOND)))
        for start, end in self._running_spans():
            if end is not None and remaining > (available := self.calendar.business_time_between(start, end)):
                remaining -= available
                continue
            return self.calendar.add_business_time(start, remaining)
        return None

    def state(self, now: datetime, at_risk_share: Fraction | float = AT_RISK_SHARE) -> SlaState:
        """Where the clock stands at `now`. Exactly at the deadline it is still at risk, not breached."""
        now = to_utc(now)
        deadline = self.deadline
        if deadline is not None and now > deadline:
            return SlaState.breached
        if self.paused_since is not None and self.paused_since <= now:
            return SlaState.paused
        at_risk = self.instant_at_share(at_risk_share)
        if at_risk is not None and now >= at_risk:
            return SlaState.at_risk
        return SlaState.on_track

    def _running_spans(self) -> Iterator[tuple[datetime, datetime | None]]:
        """The stretches in which the clock runs, in order; the last has no end unless a pause lasts."""
        start = self.started_at
        for pause in self.pauses:
            yield start, pause.start
            if pause.end is None:
                return
            start = pause.end
        yield start, None

    def _with_pauses(self, pauses: tuple[Pause, ...]) -> SlaClock:
        return SlaClock(started_at=self.started_at, target=self.target, calendar=self.calendar, pauses=pauses)


def _exact(share: Fraction | float | int) -> Fraction:
    """A share as an exact, non-negative Fraction. A float is read as the decimal it prints as, so 0.1 is one
    tenth rather than the binary number nearest to it."""
    exact = Fraction(repr(share)) if isinstance(share, float) else Fraction(share)
    if exact < 0:
        raise ValueError(f"a share of the target cannot be negative: {share}")
    return exact
