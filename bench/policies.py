"""The recovery policies the bench opens cases under. Quiet hours are off: the bench runs at any hour."""

from __future__ import annotations

from datetime import time, timedelta

from schemas.policy import ContactPolicy, RecoveryPolicy

# A Temporal timer of zero may be skipped or fire differently; 1 ms is a real timer (and the bare baseline
# of the end-to-end figure uses the same durations).
TINY = timedelta(milliseconds=1)
NO_QUIET_HOURS = ContactPolicy(quiet_hours_start=time(0, 0), quiet_hours_end=time(0, 0))


def instant() -> RecoveryPolicy:
    """Nobody answers and nothing waits: ask, refund to the card by policy, thank, follow up, close."""
    return RecoveryPolicy(reply_timeout=TINY, follow_up_delay=TINY, satisfaction_timeout=TINY, contact=NO_QUIET_HOURS)


def waiting() -> RecoveryPolicy:
    """The customer has a day to answer: the case sits on its reply timer (the memory phase)."""
    return RecoveryPolicy(reply_timeout=timedelta(days=1), contact=NO_QUIET_HOURS)


def story() -> RecoveryPolicy:
    """The customer answers both questions; only the follow-up delay is cut short (the history phase)."""
    return RecoveryPolicy(reply_timeout=timedelta(hours=1), follow_up_delay=TINY,
                          satisfaction_timeout=timedelta(hours=1), contact=NO_QUIET_HOURS)
