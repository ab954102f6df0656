"""What people do to a case besides reading it: an agent's personal reply, a supervisor's approval and
priority. Each is handed to the case's workflow (a signal), which records it on the timeline."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field, StrictBool
from temporalio.client import Client
from temporalio.service import RPCError

from api.auth import AgentDep, SupervisorDep
from api.case_access import load_visible_case
from api.deps import SettingsDep, TemporalDep
from intake.personal import missing_from_reply
from schemas.inputs import SingleLine
from schemas.progress import CaseStatus
from schemas.sla import Priority
from schemas.steps import Decision, PersonalReply, PriorityChange

router = APIRouter(prefix="/cases", tags=["case actions"])


class ResponseIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000, description="The reply as the customer will read it.")
    agent_name: SingleLine = Field(description="The name the reply is signed with.")


class ApprovalIn(BaseModel):
    decision: Literal["approve", "reject"]
    reason: str = Field(min_length=3, max_length=500)


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
    if missing := missing_from_reply(response.text, response.agent_name, case):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [
            {"loc": ["body", "text"], "type": "not_personal", "msg": f"not sent: {reason}"} for reason in missing])
    await _signal(temporal, case_id, "personal_reply",
                  PersonalReply(text=response.text, agent_name=response.agent_name, sent_by=agent.id))
    return {"case_id": case_id, "status": "sending"}


@router.post("/{case_id}/manual-refund", status_code=status.HTTP_202_ACCEPTED)
async def confirm_manual_refund(case_id: str, settings: SettingsDep, temporal: TemporalDep,
                                agent: AgentDep) -> dict[str, str]:
    """The owner confirms paying by hand a refund the payment provider refused; the case then goes on."""
    await load_visible_case(settings, case_id, agent)
    await _signal(temporal, case_id, "refund_paid_by_hand", agent.id)
    return {"case_id": case_id, "status": "refund confirmed"}


@router.post("/{case_id}/approvals", status_code=status.HTTP_202_ACCEPTED)
async def decide(case_id: str, approval: ApprovalIn, settings: SettingsDep, temporal: TemporalDep,
                 supervisor: SupervisorDep) -> dict[str, str]:
    """A supervisor's decision on a refund or compensation above the policy's threshold. Four eyes: the case's
    own owner cannot approve it."""
    case = await load_visible_case(settings, case_id, supervisor)
    if case.owner == supervisor.id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the case owner cannot decide on their own case (four eyes)")
    if case.status != CaseStatus.waiting_on_approval:
        raise HTTPException(status.HTTP_409_CONFLICT, f"the case is not waiting for approval (it is {case.status})")
    await _signal(temporal, case_id, "decide", Decision(approved=approval.decision == "approve",
                                                        reason=approval.reason, decided_by=supervisor.id))
    return {"case_id": case_id, "decision": approval.decision}


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


async def _signal(temporal: Client, case_id: str, name: str, payload: BaseModel | str) -> None:
    try:
        await temporal.get_workflow_handle(case_id).signal(name, payload)
    except RPCError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, f"the case no longer runs ({error.message})") from error
