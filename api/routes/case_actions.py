"""What people do to a case besides reading it: an agent's personal reply, a supervisor's approval and
priority, closing or cancelling it. Each is handed to the case's workflow (a signal), which records it on the
timeline. Internal notes go straight onto the timeline: they change nothing in the case."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field, StrictBool
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client
from temporalio.service import RPCError

from api.auth import AgentDep, IntegratorOrSupervisorDep, StaffAgentDep, SupervisorDep
from api.case_access import load_visible_case
from api.deps import SettingsDep, TemporalDep
from intake.personal import missing_from_reply
from intake.replies import live_state
from schemas.auth import Scope
from schemas.cases import LiveState, RefundView
from schemas.inputs import SingleLine
from schemas.progress import CaseOutcome, CaseStatus, CaseStep
from schemas.refunds import RefundRoute
from schemas.replies import RefundDestinationKind
from schemas.sla import Priority
from schemas.steps import (
    Decision,
    PersonalReply,
    PriorityChange,
    StaffAction,
    StopKind,
    StopRequest,
    decision_refusal,
)
from settings import Settings
from store import refunds as refund_ledger
from store.cases import add_note_entry, add_timeline_entry, summary_of
from store.db import session_for
from store.tables import CaseRow, RefundRow
from workflows.registry import staff_actions

router = APIRouter(prefix="/cases", tags=["case actions"])


class ResponseIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000, description="The reply as the customer will read it.")
    agent_name: SingleLine = Field(description="The name the reply is signed with.")


class ManualRefundIn(BaseModel):
    reference: str = Field(min_length=3, max_length=200, description="The payment's own reference (bank transfer "
                           "id, receipt number), kept in the refund ledger; with `paid_by` provider, the provider's "
                           "refund id.", examples=["NDEA-2026-11-30-0042"])
    paid_by: RefundRoute = Field(default=RefundRoute.by_hand, description="`provider` when a refund that got no "
                                 "answer in time turns out, at the provider, to have been paid after all.")


class ApprovalIn(BaseModel):
    decision: Literal["approve", "reject"]
    reason: str = Field(min_length=3, max_length=500)


class CloseIn(BaseModel):
    outcome: Literal[CaseOutcome.resolved_by_hand, CaseOutcome.duplicate, CaseOutcome.not_a_failure]
    reason: str = Field(min_length=3, max_length=500, description="Why: shown on the case's timeline.")


class CancelIn(BaseModel):
    reason: str = Field(min_length=3, max_length=500, description="Why: shown on the case's timeline.")


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000, pattern=r"\S", description="For staff only; never sent.")


class PriorityIn(BaseModel):
    priority: Priority | None = None
    public: StrictBool = Field(default=False, description="The case has gone public: at least the public priority.")
    reason: str = Field(min_length=3, max_length=500)


@router.post("/{case_id}/responses", status_code=status.HTTP_202_ACCEPTED)
async def respond(case_id: str, response: ResponseIn, settings: SettingsDep, temporal: TemporalDep,
                  agent: AgentDep) -> dict[str, str]:
    """An agent's personal reply. Refused (422, saying what is missing) unless it names the customer, states a
    fact of this case and carries the agent's name."""
    case = await load_visible_case(settings, case_id, agent)
    require_action(case, StaffAction.personal_reply)
    if missing := missing_from_reply(response.text, response.agent_name, case):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [
            {"loc": ["body", "text"], "type": "not_personal", "msg": f"not sent: {reason}"} for reason in missing])
    await _signal(temporal, case_id, "personal_reply",
                  PersonalReply(text=response.text, agent_name=response.agent_name, sent_by=agent.id))
    return {"case_id": case_id, "status": "sending"}


@router.post("/{case_id}/manual-refund", status_code=status.HTTP_202_ACCEPTED, response_model=RefundView,
             responses={409: {"description": "The case is not waiting for a payment by hand (says what it waits for)."},
                        403: {"description": "Only the case's owner or a supervisor records a payment by hand."}})
async def confirm_manual_refund(case_id: str, payment: ManualRefundIn, settings: SettingsDep, temporal: TemporalDep,
                                agent: AgentDep) -> RefundView:
    """The owner (or a supervisor) records paying by hand a refund the payment provider refused or did not answer
    in time (or, for the latter, the provider's refund id found at the provider). Accepted only while the case waits
    for exactly that; it goes into the refund ledger (amount, who, when, reference) like any refund, so no automatic
    refund can follow, and the case goes on. A second confirmation is 409, and still wakes the case if the first
    one's signal was lost."""
    case = await load_visible_case(settings, case_id, agent)
    if agent.id != case.owner and not agent.may(Scope.cases_approve):  # before saying what the case can do
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            "only the case's owner or a supervisor records a payment by hand")
    require_action(case, StaffAction.hand_payment)
    live = await live_state(temporal, case_id)
    if live is None or not live.awaiting_hand_payment:
        raise HTTPException(status.HTTP_409_CONFLICT, f"the case is not waiting for a refund by hand: "
                                                      f"{waiting_for(live, case)}")

    def record() -> tuple[RefundView | RefundRow | None, bool]:
        with session_for(settings.database_url) as session:
            owed = live.verified_amount or summary_of(case).amount
            destination = live.refund_destination or RefundDestinationKind.original_card
            if refund_ledger.record_hand_payment(session, case_id, agent.id, payment.reference, owed,
                                                 destination, payment.paid_by) is None:
                return refund_ledger.settled_refund(session, case_id), False
            return refund_ledger.refunds_of(session, case_id)[-1], True

    entry, recorded = await run_in_threadpool(record)
    if entry is not None:  # the money moved (by this confirmation, an earlier one, or the provider's late answer)
        await _signal(temporal, case_id, "refund_paid_by_hand", agent.id)  # the case waits for it: it goes on
    if not recorded:
        raise HTTPException(status.HTTP_409_CONFLICT, "the refund is already recorded in the ledger" + (
            f" ({entry.route}, {entry.reference or entry.provider_ref}): the case goes on" if entry else ""))
    return entry


@router.post("/{case_id}/approvals", status_code=status.HTTP_202_ACCEPTED)
async def decide(case_id: str, approval: ApprovalIn, settings: SettingsDep, temporal: TemporalDep,
                 supervisor: SupervisorDep) -> dict[str, str]:
    """A supervisor's decision on a refund or compensation above the policy's threshold. Four eyes: neither the
    case's owner nor whoever reassigned it last may decide (409, as for a case not waiting for a decision; the
    refusal goes on the timeline too). The rule is the workflow's own, checked here against its live state."""
    require_action(await load_visible_case(settings, case_id, supervisor), StaffAction.approval)
    decision = Decision(approved=approval.decision == "approve", reason=approval.reason, decided_by=supervisor.id)
    live = await live_state(temporal, case_id)
    if live is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "the case's workflow does not answer: no decision taken")
    refusal = decision_refusal(decision, live.owner, live.assigned_by, live.status == CaseStatus.waiting_on_approval)
    if refusal is not None:
        await run_in_threadpool(_record_refusal, settings, case_id, supervisor.id, refusal)
        raise HTTPException(status.HTTP_409_CONFLICT, refusal)
    await _signal(temporal, case_id, "decide", decision)
    return {"case_id": case_id, "decision": approval.decision}


def _record_refusal(settings: Settings, case_id: str, decided_by: str, refusal: str) -> None:
    """As the workflow writes a refusal that reaches it, so the timeline shows every refused decision."""
    with session_for(settings.database_url) as session:
        add_timeline_entry(session, case_id, f"{case_id}:approval:refused-at-api:{uuid.uuid4().hex}",
                           CaseStep.approval, decided_by, f"decision by {decided_by} refused: {refusal}")
        session.commit()


@router.post("/{case_id}/priority", status_code=status.HTTP_202_ACCEPTED)
async def change_priority(case_id: str, change: PriorityIn, settings: SettingsDep, temporal: TemporalDep,
                          supervisor: SupervisorDep) -> dict[str, str]:
    """Changes the case's priority (or marks it public); every open SLA deadline is recomputed."""
    case = await load_visible_case(settings, case_id, supervisor)
    priority = change.priority or Priority(case.priority)
    if change.public and priority is Priority.normal:
        priority = Priority.high
    await _signal(temporal, case_id, "set_priority",
                  PriorityChange(priority=priority, reason=change.reason, changed_by=supervisor.id))
    return {"case_id": case_id, "priority": priority}


@router.post("/{case_id}/close", status_code=status.HTTP_202_ACCEPTED)
async def close_case(case_id: str, close: CloseIn, settings: SettingsDep, temporal: TemporalDep,
                     agent: StaffAgentDep) -> dict[str, str]:
    """Closes the case by hand with an outcome, at its next safe point (a refund in flight finishes first)."""
    await load_visible_case(settings, case_id, agent)
    await _signal(temporal, case_id, "stop", StopRequest(kind=StopKind.close, outcome=close.outcome,
                                                         reason=close.reason, requested_by=agent.id))
    return {"case_id": case_id, "status": "closing"}


@router.post("/{case_id}/cancel", status_code=status.HTTP_202_ACCEPTED)
async def cancel_case(case_id: str, cancel: CancelIn, settings: SettingsDep, temporal: TemporalDep,
                      principal: IntegratorOrSupervisorDep) -> dict[str, str]:
    """Withdraws the case: for the integrator who opened it, or a supervisor. It stops at its next safe point:
    a refund in flight finishes and is recorded, one not started is not started; a customer already contacted
    is told."""
    await load_visible_case(settings, case_id, principal)
    await _signal(temporal, case_id, "stop", StopRequest(kind=StopKind.cancel, outcome=CaseOutcome.cancelled,
                                                         reason=cancel.reason, requested_by=principal.id))
    return {"case_id": case_id, "status": "cancelling"}


@router.post("/{case_id}/notes", status_code=status.HTTP_201_CREATED)
async def add_note(case_id: str, note: NoteIn, settings: SettingsDep, agent: StaffAgentDep) -> dict[str, str]:
    """An internal note on the timeline: staff see it, the integrator does not, the customer never does."""
    await load_visible_case(settings, case_id, agent)

    def write() -> None:
        with session_for(settings.database_url) as session:
            add_note_entry(session, case_id, agent.id, note.text)
            session.commit()

    await run_in_threadpool(write)
    return {"case_id": case_id, "status": "noted"}


async def _signal(temporal: Client, case_id: str, name: str, payload: BaseModel | str) -> None:
    try:
        await temporal.get_workflow_handle(case_id).signal(name, payload)
    except RPCError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, f"the case no longer runs ({error.message})") from error


_ACTION_WORDS = {StaffAction.personal_reply: "personal reply", StaffAction.approval: "approval",
                 StaffAction.hand_payment: "refund paid by hand", StaffAction.findings: "findings"}


def require_action(case: CaseRow, action: StaffAction) -> None:
    """409 at once when the case's workflow type has no step that takes `action` (an undercharge is never
    approved nor paid by hand): nothing is signalled, so nothing waits in the workflow unread."""
    if action not in staff_actions(case.kind):
        raise HTTPException(status.HTTP_409_CONFLICT, f"a case of kind {case.kind} takes no {_ACTION_WORDS[action]}: "
                            f"its workflow type has no such step (it takes: {_taken(case.kind)})")


def _taken(kind: str) -> str:
    return ", ".join(sorted(staff_actions(kind))) or "none of these"


def waiting_for(live: LiveState | None, case: CaseRow) -> str:
    """What the case waits for now, in words, for a 409 that tells the caller what would be accepted."""
    if live is None:
        return f"its workflow does not run (the case is {case.status})"
    if live.expecting is not None:
        return f"it waits for the customer's answer ({live.expecting})"
    if live.status is CaseStatus.waiting_on_approval:
        return "it waits for a supervisor's approval"
    return f"it is at step {live.step} ({live.status})"
