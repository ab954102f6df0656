"""A major incident: one failure (a till's wrong price over a weekend, an outage) that failed many customers, and
the contracts of the parent workflow that opens one ordinary recovery case per affected customer."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from schemas.auth import Principal
from schemas.directory import RejectedRow
from schemas.incidents import Customer, ExternalId, IncidentKind, ShortText
from schemas.inputs import WholeNumber
from schemas.money import MAX_MINOR_UNITS, Money

# The kinds of recovery a major incident can give each customer: money back on a sale, or a complaint-style
# apology with goodwill; an undercharge pays nobody and data misuse is one person's.
RecoveryKind = Literal[IncidentKind.overcharge, IncidentKind.duplicate_purchase, IncidentKind.complaint]


class WrongPrice(BaseModel):
    """What the till did wrong: it sold `product` at its own price where `correct_unit_price_minor` was right. Each
    sale's overcharge is computed from the sale's own lines (quantity times the difference)."""

    product: ShortText
    correct_unit_price_minor: WholeNumber = Field(ge=0, le=MAX_MINOR_UNITS)


class AffectedIn(BaseModel):
    """One row of an uploaded list of affected customers (the integrator knows them; the engine's records do not)."""

    store: ShortText
    transaction_ref: ExternalId
    customer: Customer
    amount: Money


_WINDOW_RULE = "window_end must be after window_start"
_ONE_WAY_RULE = "give exactly one of wrong_price (the engine finds the sales) or affected (a list)"
# Rules across fields that the OpenAPI document cannot state; a 422 names them (the fuzz test reads them here).
MAJOR_INCIDENT_RULES = (_WINDOW_RULE, _ONE_WAY_RULE)


class MajorIncidentIn(BaseModel):
    """`POST /major-incidents`: what went wrong, where and when, the recovery for each affected customer, and who
    is affected: found by the engine in the till records it holds (`wrong_price`), or the list given (`affected`)."""

    title: ShortText = Field(description="What went wrong, as staff will see it.", examples=["Till price of coffee"])
    description: str = Field(min_length=1, max_length=4000, description="Told to each child case's timeline.")
    recovery: RecoveryKind = IncidentKind.overcharge
    stores: list[ShortText] = Field(min_length=1, max_length=100)
    window_start: AwareDatetime
    window_end: AwareDatetime
    wrong_price: WrongPrice | None = None
    affected: list[dict] | None = Field(default=None, max_length=20_000, description="Rows of `AffectedIn`; each "
                                        "is validated on its own and the ones refused are reported.")

    @model_validator(mode="after")
    def _one_way_to_find_the_affected(self) -> MajorIncidentIn:
        if self.window_end <= self.window_start:
            raise ValueError(_WINDOW_RULE)
        if (self.wrong_price is None) == (self.affected is None):
            raise ValueError(_ONE_WAY_RULE)
        return self


class MajorStatus(StrEnum):
    awaiting_approval = "awaiting_approval"  # declared; no customer is contacted before a supervisor approves
    fanning_out = "fanning_out"
    paused = "paused"
    all_opened = "all_opened"  # every child case is open; they run on their own
    closed = "closed"
    cancelled = "cancelled"


class ChildState(StrEnum):
    pending = "pending"  # not opened yet
    opening = "opening"  # its case id is named, the case may not exist yet: a retried step opens it again
    opened = "opened"  # a case of its own, started
    linked = "linked"  # the sale already had a case: linked to it, never contacted or paid twice
    held = "held"  # above the approved cap per child: left to a person
    withdrawn = "withdrawn"  # the parent was closed or cancelled before it was opened


class Approval(BaseModel):
    approved_by: str
    cap: Money = Field(description="The most any one child case may pay.")


class Steering(StrEnum):
    pause = "pause"
    resume = "resume"


class FanOut(BaseModel):
    """The parent workflow's input, and what it carries across continue-as-new: the cursor (the next affected
    row's number) and the earliest time the next case may be opened (the carrier's pace survives the new run)."""

    major_id: str
    tenant: str
    declared_by: Principal
    affected: int
    texts_per_second: float = Field(gt=0)
    batch: int = Field(ge=1)
    in_flight: int = Field(ge=1)
    batches_per_run: int = Field(ge=1)
    next_seq: int = 0
    not_before: datetime | None = None
    approval: Approval | None = None
    approved: bool = Field(default=False, description="The approval is recorded: the fan-out may open children.")
    paused: bool = False


class OpenBatch(BaseModel):
    major_id: str
    declared_by: Principal
    first_seq: int
    count: int
    texts_per_second: float
    in_flight: int
    not_before: datetime | None
    cap: Money


class BatchOpened(BaseModel):
    opened: int
    next_not_before: datetime


class StopChildren(BaseModel):
    major_id: str
    kind: Literal["close", "cancel"]
    reason: str
    requested_by: str


class Progress(BaseModel):
    affected: int = 0
    opened: int = 0
    linked: int = 0
    held: int = 0
    contacted: int = 0
    reached: int = 0
    refunded: int = 0
    closed: int = 0
    failed: int = 0
    withdrawn: int = 0


class MajorIncidentView(BaseModel):
    id: str
    title: str
    recovery: str
    status: MajorStatus
    declared_by: str
    declared_at: datetime
    approved_by: str | None
    cap: Money | None
    progress: Progress
    rejected: list[RejectedRow] = Field(default_factory=list, description="Rows of the uploaded list refused.")
    last_reached_at: datetime | None = None


class ChildMessage(BaseModel):
    """A message to every open child ("we found the cause; your refund is on its way"), personalised per case:
    `{name}`, `{amount}` and `{reference}` are filled in from each case, and each is checked like any agent's reply."""

    text: str = Field(min_length=1, max_length=4000)
    agent_name: ShortText
    sent_by: str = ""


class MessageChildren(BaseModel):
    major_id: str
    message: ChildMessage
    texts_per_second: float | None = Field(default=None, gt=0, description="The incident's pace (the fan-out's); "
                                           "None in messages queued before it was carried: the policy's now.")


class StatusChange(BaseModel):
    major_id: str
    status: MajorStatus
    approval: Approval | None = None


class StopReport(BaseModel):
    """What closing or cancelling the parent did: children stopped, customers never contacted, and the rest
    (already reached: their cases go on to their end, or, on a cancel, stop before any payment)."""

    stopped: int
    withdrawn: int
    left_running: int


class MajorActivity(StrEnum):
    open_batch = "major_open_batch"
    record_status = "major_record_status"
    stop_children = "major_stop_children"
    message_children = "major_message_children"
