"""What people do to a case from its page, each through the API's own route (console/api_calls.py): the same
permission, the same validation, the same refusals. The route's input model is built inside the action, so a
form that does not fit it is refused beside the form like any other refusal."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form
from fastapi.responses import Response

from api.routes import case_actions, cases
from console.api_calls import through_api
from console.case_page import ActingOnDep, act
from console.session import PATH
from schemas.api import AssignmentIn, ReplyIn
from schemas.channels import Channel

router = APIRouter(prefix=f"{PATH}/cases")
Text = Annotated[str, Form(max_length=4000)]
Reason = Annotated[str, Form(max_length=500)]


@router.post("/{case_id}/reply", include_in_schema=False)
async def personal_reply(view: ActingOnDep, text: Text = "", agent_name: Reason = "") -> Response:
    async def send() -> None:
        await through_api(case_actions.respond, view.person.principal, case_id=view.case_id, settings=view.settings,
                          temporal=view.temporal, response=case_actions.ResponseIn(text=text, agent_name=agent_name))

    return await act(view, "reply", send, {"text": text, "agent_name": agent_name})


@router.post("/{case_id}/answer", include_in_schema=False)
async def customer_answer(view: ActingOnDep, text: Text = "") -> Response:
    """What the customer said on the phone, as the agent heard it; the case reads it as it reads a text."""
    async def record() -> None:
        await through_api(cases.post_reply, view.person.principal, case_id=view.case_id, settings=view.settings,
                          temporal=view.temporal, reply=ReplyIn(channel=Channel.agent, text=text))

    return await act(view, "answer", record, {"text": text})


@router.post("/{case_id}/decision", include_in_schema=False)
async def decision(view: ActingOnDep, choice: Annotated[Literal["approve", "reject"], Form(alias="decision")],
                   reason: Reason = "") -> Response:
    async def decide() -> None:
        await through_api(case_actions.decide, view.person.principal, case_id=view.case_id, settings=view.settings,
                          temporal=view.temporal, approval=case_actions.ApprovalIn(decision=choice, reason=reason))

    return await act(view, "decision", decide, {"reason": reason})


@router.post("/{case_id}/note", include_in_schema=False)
async def note(view: ActingOnDep, text: Text = "") -> Response:
    async def write() -> None:
        await through_api(case_actions.add_note, view.person.principal, case_id=view.case_id, settings=view.settings,
                          note=case_actions.NoteIn(text=text))

    return await act(view, "note", write, {"text": text})


@router.post("/{case_id}/assign", include_in_schema=False)
async def assign(view: ActingOnDep, owner: Reason = "", reason: Reason = "") -> Response:
    async def hand_over() -> None:
        await through_api(cases.assign, view.person.principal, case_id=view.case_id, settings=view.settings,
                          temporal=view.temporal, assignment=AssignmentIn(owner=owner, reason=reason))

    return await act(view, "assign", hand_over, {"owner": owner, "reason": reason})


@router.post("/{case_id}/priority", include_in_schema=False)
async def priority(view: ActingOnDep, reason: Reason = "", level: Reason = "",
                   public: Annotated[bool, Form()] = False) -> Response:
    """`level` blank keeps the priority (with `public`: at least the public one)."""
    async def change() -> None:
        await through_api(case_actions.change_priority, view.person.principal, case_id=view.case_id,
                          settings=view.settings, temporal=view.temporal, change=case_actions.PriorityIn.model_validate(
                              {"priority": level or None, "public": public, "reason": reason}))

    return await act(view, "priority", change, {"reason": reason})


@router.post("/{case_id}/close", include_in_schema=False)
async def close(view: ActingOnDep, outcome: Reason = "", reason: Reason = "") -> Response:
    async def stop() -> None:
        await through_api(case_actions.close_case, view.person.principal, case_id=view.case_id,
                          settings=view.settings, temporal=view.temporal,
                          close=case_actions.CloseIn.model_validate({"outcome": outcome, "reason": reason}))

    return await act(view, "close", stop, {"reason": reason})


@router.post("/{case_id}/cancel", include_in_schema=False)
async def cancel(view: ActingOnDep, reason: Reason = "") -> Response:
    async def withdraw() -> None:
        await through_api(case_actions.cancel_case, view.person.principal, case_id=view.case_id,
                          settings=view.settings, temporal=view.temporal, cancel=case_actions.CancelIn(reason=reason))

    return await act(view, "cancel", withdraw, {"reason": reason})


@router.post("/{case_id}/hand-payment", include_in_schema=False)
async def hand_payment(view: ActingOnDep, reference: Reason = "", paid_by: Reason = "by_hand") -> Response:
    """The owner paid by hand a refund the provider refused or did not answer in time, with the payment's own
    reference; or found at the provider that it was paid after all (`paid_by` provider, its refund id). The case
    goes on."""
    async def confirm() -> None:
        await through_api(case_actions.confirm_manual_refund, view.person.principal, case_id=view.case_id,
                          settings=view.settings, temporal=view.temporal,
                          payment=case_actions.ManualRefundIn.model_validate(
                              {"reference": reference, "paid_by": paid_by}))

    return await act(view, "hand_payment", confirm, {"reference": reference, "paid_by": paid_by})
