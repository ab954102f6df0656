"""Policy numbers, as typed configuration. A case carries a snapshot of the policy it was opened under,
so a policy change never alters a running case's history (and replays stay deterministic)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field

from schemas.money import Money
from schemas.replies import RefundDestinationKind


class RecoveryPolicy(BaseModel):
    reply_timeout: timedelta = Field(default=timedelta(days=2), description="How long to wait for an answer.")
    default_refund_destination: RefundDestinationKind = RefundDestinationKind.original_card
    follow_up_delay: timedelta = Field(default=timedelta(days=3), description="From refund to follow-up.")
    satisfaction_timeout: timedelta = timedelta(days=7)
    undercharge_write_off_below: dict[str, int] = Field(
        default_factory=lambda: {"EUR": 2000, "SEK": 20000, "USD": 2000},
        description="Per currency, in minor units. Undercharges below it are absorbed silently; "
        "currencies not listed are always absorbed (the customer is never chased when in doubt).",
    )

    def writes_off(self, undercharge: Money) -> bool:
        limit = self.undercharge_write_off_below.get(undercharge.currency)
        return limit is None or undercharge.amount_minor < limit
