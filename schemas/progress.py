"""How far a case has come: carried by every step activity so the read model moves in the same write."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from schemas.sla import SlaSnapshot


class CaseStatus(StrEnum):
    open = "open"
    waiting_on_customer = "waiting_on_customer"
    needs_attention = "needs_attention"  # with its owner: a person must act (e.g. contact by hand)
    waiting_on_approval = "waiting_on_approval"  # a supervisor must decide on a refund or compensation
    closed = "closed"


class CaseStep(StrEnum):
    intake = "intake"
    triage = "triage"
    acknowledge = "acknowledge"
    verify = "verify"
    investigate = "investigate"  # a person looks into what happened (S5)
    look_up = "look_up"
    contact = "contact"
    personal_reply = "personal_reply"
    approval = "approval"
    refund = "refund"
    compensation = "compensation"
    thank_you = "thank_you"
    follow_up = "follow_up"
    write_off = "write_off"
    close = "close"
    note = "note"  # a person's internal note on the timeline (staff only, never sent)


class CaseOutcome(StrEnum):
    recovered = "recovered"  # the customer got their money back
    written_off = "written_off"  # the till's mistake, absorbed by the company
    customer_informed = "customer_informed"  # an undercharge above the limit, told without asking to pay
    arranged = "arranged"  # a failure not about money, put right another way (the product found at another store)
    not_confirmed = "not_confirmed"  # verification found no error
    unresolved = "unresolved"  # nobody could reach the customer; the owner closed it by hand
    # Closed by a person (POST /cases/{id}/close) or cancelled (POST /cases/{id}/cancel):
    resolved_by_hand = "resolved_by_hand"  # a person put it right outside the workflow
    duplicate = "duplicate"  # another case recovers the same failure
    not_a_failure = "not_a_failure"  # on a closer look, nothing went wrong
    cancelled = "cancelled"  # the integrator or a supervisor withdrew it
    not_approved = "not_approved"  # a supervisor rejected the refund or goodwill: not recovered
    linked = "linked"  # another report of a money event that another case handles


class CaseProgress(BaseModel):
    """The read-model update an activity applies together with its own write, plus one timeline line."""

    case_id: str
    step: CaseStep
    status: CaseStatus = CaseStatus.open
    note: str
    sla: SlaSnapshot | None = None
    seq: int = Field(default=0, ge=0, description="The workflow's count of read-model writes: a write older than "
                                                 "the one already applied moves nothing back (0: unordered).")
