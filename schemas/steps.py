"""Activity names and the inputs of the case-store steps. Workflows call activities by these names,
so no workflow module imports an activity module (and with it a database driver)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from schemas.auth import DEFAULT_TENANT
from schemas.incidents import IncidentIn
from schemas.progress import CaseOutcome, CaseProgress
from schemas.sla import Priority


class ActivityName(StrEnum):
    verify_incident = "verify_incident"
    look_up_customer = "look_up_customer"
    send_message = "send_message"
    send_destination_code = "send_destination_code"
    check_destination_code = "check_destination_code"
    refund = "refund"
    refund_outcome_unknown = "refund_outcome_unknown"
    grant_compensation = "grant_compensation"
    record_case_event = "record_case_event"
    gather_access_records = "gather_access_records"
    close_case = "close_case"


class VerifyRequest(BaseModel):
    incident: IncidentIn
    progress: CaseProgress
    tenant: str = Field(default=DEFAULT_TENANT, description="Whose till records may verify the incident.")


class CloseRequest(BaseModel):
    outcome: CaseOutcome
    satisfaction: int | None = Field(default=None, ge=1, le=5)
    progress: CaseProgress


class CaseEvent(BaseModel):
    """Something the workflow decided that has no outside effect of its own: a line on the timeline, maybe
    a new owner, and maybe a notice to staff (an escalation)."""

    progress: CaseProgress
    entry_key: str
    owner: str | None = None
    assigned_by: str | None = Field(default=None, description="With `owner`: who handed the case over.")
    notify: str | None = Field(default=None, description="Staff address to tell, e.g. the supervisors.")


class Assignment(BaseModel):
    owner: str = Field(min_length=1, max_length=200, description="A staff account id, checked at the API.")
    reason: str = Field(min_length=3, max_length=500)
    assigned_by: str = Field(default="", max_length=200)


class LookupOutcome(StrEnum):
    found = "found"
    ambiguous = "ambiguous"
    not_found = "not_found"
    unavailable = "unavailable"  # the tenant's CRM did not answer within its configured tries


class LookupRequest(BaseModel):
    case_id: str
    name: str
    city: str | None = None
    purpose: str
    requested_by: str


class LookupResult(BaseModel):
    outcome: LookupOutcome
    matches: int
    phone: str | None = None
    email: str | None = None


class StaffAction(StrEnum):
    """What staff do to a case that only some workflow types take (assigning, priority, notes, closing, cancelling
    and the customer's replies every case takes). Each is granted by a capability a workflow type mixes in only
    where its story uses it (`workflows/capability.py`); the API refuses the others at once (409), before any
    signal."""

    personal_reply = "personal_reply"  # POST /cases/{id}/responses -> signal `personal_reply`
    approval = "approval"  # POST /cases/{id}/approvals -> signal `decide`
    hand_payment = "hand_payment"  # POST /cases/{id}/manual-refund -> signal `refund_paid_by_hand`
    findings = "findings"  # POST /cases/{id}/findings -> signal `record_findings`


class Decision(BaseModel):
    """A supervisor's decision on a refund or compensation that needed approval. `decided_by` is a staff account."""

    approved: bool
    reason: str = Field(min_length=3, max_length=500)
    decided_by: str = Field(min_length=1, max_length=200)


class PersonalReply(BaseModel):
    """An agent's personal answer to the customer, checked for being personal at the API."""

    text: str = Field(min_length=1, max_length=4000)
    agent_name: str = Field(min_length=1, max_length=200)
    sent_by: str = Field(max_length=200)


class PriorityChange(BaseModel):
    priority: Priority
    reason: str = Field(min_length=3, max_length=500)
    changed_by: str = Field(max_length=200)


class StopKind(StrEnum):
    close = "close"  # a person closes the case with an outcome
    cancel = "cancel"  # the integrator or a supervisor withdraws it; a customer already contacted is told


class StopRequest(BaseModel):
    """Stops a case at its next safe point: never halfway through paying (a refund in flight finishes and is
    recorded first), and a refund not yet started is not started."""

    kind: StopKind
    outcome: CaseOutcome
    reason: str = Field(min_length=3, max_length=500)
    requested_by: str = Field(max_length=200)


def decision_refusal(decision: Decision, owner: str | None, assigned_by: str | None, waiting: bool) -> str | None:
    """Why a decision may not count (None: it counts). Four eyes: the approver is neither the case's owner nor
    whoever handed it to its owner last (an owner could otherwise reassign the case away and approve it). The
    API answers 409 with this reason; the workflow applies the same rule to whatever reaches it."""
    if not waiting:
        return "the case is not waiting for an approval"
    if decision.decided_by == owner:
        return f"{decision.decided_by} owns the case and cannot decide on it (four eyes)"
    if decision.decided_by == assigned_by:
        return f"{decision.decided_by} reassigned the case last and cannot decide on it (four eyes)"
    return None
