"""Policy numbers, as typed configuration. A case carries a snapshot of the policy it was opened under,
so a policy change never alters a running case's history (and replays stay deterministic)."""

from __future__ import annotations

from datetime import time, timedelta

from pydantic import BaseModel, Field

from kinds import added_kinds
from schemas.channels import Channel
from schemas.compensation import GoodwillPolicy
from schemas.incidents import IncidentKind
from schemas.money import Money
from schemas.privacy import PrivacyPolicy
from schemas.replies import RefundDestinationKind
from schemas.sla import SlaPolicy


class ContactPolicy(BaseModel):
    """How the engine reaches a customer: which channels in which order, how often, and when not."""

    order: dict[IncidentKind, list[Channel]] = Field(default_factory=lambda: {
        IncidentKind.overcharge: [Channel.sms, Channel.email, Channel.voice],
        IncidentKind.undercharge: [Channel.sms, Channel.email],
        IncidentKind.duplicate_purchase: [Channel.voice, Channel.sms, Channel.email],
        IncidentKind.data_misuse: [Channel.email, Channel.sms],  # a written answer, with a list in it
        **{IncidentKind(kind.name): kind.contact_order for kind in added_kinds()},
    })
    attempts: dict[Channel, int] = Field(default_factory=lambda: {Channel.voice: 2, Channel.sms: 1, Channel.email: 1})
    attempt_spacing: timedelta = Field(default=timedelta(minutes=30), description="Between two calls that rang out.")
    call_outcome_wait: timedelta = Field(default=timedelta(minutes=5),
                                         description="How long a placed call may take to report answered or not.")
    carrier_give_up_after: timedelta = Field(
        default=timedelta(minutes=30), gt=timedelta(0),
        description="A carrier failing transiently (down, throttling) is retried with backoff this long; then the "
                    "plan moves to the next channel. Permanent refusals move on at once.")
    quiet_hours_start: time = Field(default=time(21, 0), description="Equal start and end: no quiet hours.")
    quiet_hours_end: time = time(8, 0)

    def channels_for(self, kind: IncidentKind) -> list[Channel]:
        return self.order.get(kind, [Channel.sms, Channel.email])


class MajorIncidentPolicy(BaseModel):
    """How fast a major incident reaches its customers: the carriers' limit is texts per second per sender, and
    each child case texts its customer once when it opens."""

    texts_per_second: float = Field(default=50.0, gt=0, le=1000, description="Child cases opened per second at most.")
    batch: int = Field(default=10, ge=1, le=500, description="Children per fan-out step: a pause takes effect "
                       "after the step in flight, so a step lasts well under a second (batch / texts_per_second).")
    in_flight: int = Field(default=8, ge=1, le=100, description="Child case starts in flight at once within a step.")
    batches_per_run: int = Field(default=200, ge=1, description="Steps before the parent continues as new, which "
                                 "keeps its history bounded whatever the number of customers.")


class RecoveryPolicy(BaseModel):
    phone_region: str = Field(default="FI", pattern=r"^[A-Z]{2}$",
                              description="Region for phone numbers written without a country code (040 ...).")
    reply_timeout: timedelta = Field(default=timedelta(days=2), description="How long to wait for an answer.")
    default_refund_destination: RefundDestinationKind = RefundDestinationKind.original_card
    follow_up_delay: timedelta = Field(default=timedelta(days=3), description="From refund to follow-up.")
    follow_up_delays: dict[IncidentKind, timedelta] = Field(
        default_factory=lambda: {IncidentKind(kind.name): kind.follow_up_delay for kind in added_kinds()},
        description="Per kind, where it differs from `follow_up_delay` (a product picked up is asked about sooner).")
    satisfaction_timeout: timedelta = timedelta(days=7)
    undercharge_write_off_below: dict[str, int] = Field(
        default_factory=lambda: {"EUR": 2000, "SEK": 20000, "USD": 2000},
        description="Per currency, in minor units. Undercharges below it are absorbed silently; "
        "currencies not listed are always absorbed (the customer is never chased when in doubt).",
    )
    contact: ContactPolicy = Field(default_factory=ContactPolicy)
    triage_owner: str | None = Field(default="duty.manager",
                                     description="Owner of a case whose incident names none; None leaves it unowned.")
    unowned_limit: timedelta = Field(default=timedelta(minutes=30),
                                     description="A case without an owner this long escalates to a supervisor.")
    supervisor_address: str = Field(default="supervisors@example.com", description="Where escalations are sent.")
    management_address: str = Field(default="head.of.service@example.com",
                                    description="The level above supervisors, for promises broken well past due.")
    staff_email_domain: str = Field(default="example.com",
                                    description="Only where an owner has no account: its id @<this>.")
    sla: SlaPolicy = Field(default_factory=SlaPolicy)
    approval_above: dict[str, int] = Field(
        default_factory=lambda: {"EUR": 2500, "SEK": 25000, "USD": 2500},
        description="Per currency, in minor units: a refund plus compensation above it waits for a supervisor. "
        "Currencies not listed always wait.")
    approval_ceiling: dict[str, int] = Field(
        default_factory=lambda: {"EUR": 50000, "SEK": 500000, "USD": 50000, "HUF": 20000000},
        description="Per currency, in minor units: a refund above it waits for a supervisor even when a till record "
        "confirms it (the record may come from the same integrator that reports the case). Currencies not listed "
        "always wait.")
    refund_give_up_after: timedelta = Field(
        default=timedelta(hours=6), description="A refund the provider has not answered in this time (retried, "
        "queue time included) goes to the owner with its outcome unknown: check the provider before paying by hand.")
    approval_timeout: timedelta = Field(default=timedelta(hours=4),
                                        description="A decision not made in this time escalates.")
    goodwill: dict[IncidentKind, GoodwillPolicy] = Field(default_factory=lambda: {
        IncidentKind.complaint: GoodwillPolicy()})
    low_satisfaction: int = Field(default=2, ge=1, le=5, description="A score at or below this reopens the case.")
    privacy: PrivacyPolicy = Field(default_factory=PrivacyPolicy)

    def follow_up_delay_for(self, kind: IncidentKind) -> timedelta:
        return self.follow_up_delays.get(kind, self.follow_up_delay)

    def needs_approval(self, amounts: list[Money]) -> bool:
        """Amounts add up per currency; any currency over its limit (or without one) needs a supervisor."""
        return _over(self.approval_above, amounts)

    def above_ceiling(self, amounts: list[Money]) -> bool:
        """Over the hard ceiling (`approval_ceiling`): a supervisor approves whatever record confirms it."""
        return _over(self.approval_ceiling, amounts)

    def owner_address(self, owner: str | None) -> str:
        """The address the workflow names for the owner's warning (kept so recorded histories replay); the notice
        activity sends it to the owning account's email instead (activities/case_store.py)."""
        if owner is None:
            return self.supervisor_address
        return owner if "@" in owner else f"{owner}@{self.staff_email_domain}"

    def writes_off(self, undercharge: Money) -> bool:
        limit = self.undercharge_write_off_below.get(undercharge.currency)
        return limit is None or undercharge.amount_minor < limit


def _over(limits: dict[str, int], amounts: list[Money]) -> bool:
    """Amounts add up per currency; any currency over its limit (or without one) is over."""
    totals: dict[str, int] = {}
    for amount in amounts:
        totals[amount.currency] = totals.get(amount.currency, 0) + amount.amount_minor
    return any(currency not in limits or total > limits[currency] for currency, total in totals.items())
