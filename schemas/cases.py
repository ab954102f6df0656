"""A case: the workflow's input, its live state (a query), and the API's views of the read model."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from schemas.auth import DEFAULT_TENANT
from schemas.channels import Channel
from schemas.incidents import IncidentIn, IncidentKind, IncidentSource
from schemas.messages import DeliveryStatus
from schemas.money import Money
from schemas.policy import RecoveryPolicy
from schemas.progress import CaseOutcome, CaseStatus, CaseStep
from schemas.refunds import RefundRoute, RefundStatus
from schemas.replies import IntentKind, RefundDestinationKind
from schemas.sla import Priority, SlaSnapshot
from sla.clock import SlaState


class CaseInput(BaseModel):
    """The workflow's input: the incident as validated at intake, plus the policy snapshot."""

    case_id: str
    reference: str = Field(description="Short reference the customer can quote; also matches replies to cases.")
    incident: IncidentIn
    policy: RecoveryPolicy
    opened_at: datetime
    owner: str | None = None
    priority: Priority = Priority.normal
    opted_out: list[Channel] = Field(default_factory=list, description="Channels the customer has said STOP to.")
    tenant: str = DEFAULT_TENANT
    money_event: str | None = Field(default=None, description="What this case pays back once (the refund "
                                    "ledger's key); None in cases opened before the ledger.")


class Verification(BaseModel):
    confirmed: bool
    against_record: bool = Field(default=False, description="Checked against our own till record; otherwise the "
                                 "amount is the reporter's word, and large ones wait for a supervisor.")
    amount: Money | None = Field(default=None, description="The verified amount (may differ from the report).")
    detail: str


class ContactAttempt(BaseModel):
    channel: Channel
    status: DeliveryStatus
    at: datetime


class LiveState(BaseModel):
    """What the workflow itself knows right now (the `state` query): the source of truth for a case."""

    case_id: str
    kind: IncidentKind
    status: CaseStatus
    step: CaseStep
    owner: str | None = None
    assigned_by: str | None = Field(default=None, description="Who handed the case to its owner last.")
    opted_out: list[Channel] = Field(default_factory=list)
    contact_attempts: list[ContactAttempt] = Field(default_factory=list)
    sla: SlaSnapshot | None = None
    expecting: IntentKind | None = Field(default=None, description="The kind of answer the case waits for.")
    waiting_until: datetime | None = Field(default=None, description="When the current wait ends.")
    verified_amount: Money | None = None
    refund_destination: RefundDestinationKind | None = None
    awaiting_hand_payment: bool = Field(default=False, description="The provider refused: the owner or a "
                                        "supervisor pays by hand and confirms (POST /cases/{id}/manual-refund).")
    paid_in_case: str | None = Field(default=None, description="Another case already paid this money event.")
    satisfaction: int | None = None
    outcome: CaseOutcome | None = None


class MessageView(BaseModel):
    id: int
    direction: str
    channel: Channel
    to_address: str | None
    body: str
    status: DeliveryStatus | None
    created_at: datetime


class RefundView(BaseModel):
    """A ledger entry of the case whose money moved: paid by the provider or by hand (who, which reference)."""

    id: int
    amount: Money
    destination: RefundDestinationKind
    status: RefundStatus
    route: RefundRoute
    provider_ref: str | None
    reference: str | None = Field(default=None, description="A hand payment's own reference (bank transfer ...).")
    recorded_by: str | None = Field(default=None, description="Who confirmed a hand payment.")
    created_at: datetime
    settled_at: datetime | None


class TimelineEntryView(BaseModel):
    at: datetime
    step: CaseStep
    actor: str
    note: str


class CaseSummary(BaseModel):
    id: str
    external_id: str
    kind: IncidentKind
    source: IncidentSource
    status: CaseStatus
    step: CaseStep
    outcome: CaseOutcome | None
    amount: Money | None
    store: str | None
    owner: str | None
    linked_to: str | None = Field(default=None, description="Another report of the same money event: the case "
                                  "that handles it. This one pays nothing and does not contact the customer.")
    priority: Priority
    sla_state: SlaState | None = Field(description="The worst of the case's SLA clocks, as last recorded.")
    sla_due_at: datetime | None = Field(description="The nearest open SLA deadline.")
    opened_at: datetime
    first_contact_at: datetime | None
    refunded_at: datetime | None
    closed_at: datetime | None
    satisfaction: int | None
    recovered: bool | None = Field(default=None, description="Null while the case is open. True when it closed "
                                   "`recovered` or `arranged` with a named owner: a case nobody owns is not recovered "
                                   "until someone does (the figures count it as `recovered_without_owner`).")


class CaseDetail(CaseSummary):
    reference: str
    customer_name: str
    messages: list[MessageView]
    refunds: list[RefundView]
    live: LiveState | None = Field(description="The workflow's own state; null if it could not be asked now.")


class CasePage(BaseModel):
    items: list[CaseSummary]
    total: int
    limit: int
    offset: int


class OpenedCase(BaseModel):
    """`POST /incidents` answer: 201 when this call opened the case, 200 when it already existed."""

    case_id: str
    created: bool
    linked_to: str | None = Field(default=None, description="The case already handling this money event.")
    links: dict[str, str]


class TransactionVerdict(BaseModel):
    """`POST /transactions` answer: what the engine found, and the case it opened, if any."""

    transaction_id: str
    correct_total: Money
    charged: Money
    finding: str = Field(examples=["overcharge", "undercharge", "correct"])
    difference: Money
    case: OpenedCase | None
