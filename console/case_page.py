"""One case: its story (timeline), live step, SLA clocks, owner, refunds; contact details masked behind a Reveal
that asks for a purpose; and the actions an agent or supervisor takes, each through the API's own route."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.case_access import load_visible_case
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.routes import case_actions, cases, privacy
from console.api_calls import reasons, through_api
from console.session import PATH, ActingDep, Viewer, ViewerDep
from console.templating import locale_of, templates
from privacy.masking import mask_email, mask_phone
from schemas.auth import Scope
from schemas.privacy import Revealed, RevealIn
from schemas.progress import CaseStatus
from schemas.steps import Decision, decision_refusal

router = APIRouter(prefix=f"{PATH}/cases")
DONE = {"reply": "Your reply is on its way to the customer.", "decision": "Your decision is recorded."}


def approval_refusal(person: Viewer, detail: Any) -> str | None:
    """Why this viewer gets no approve button (None: they get one): the four-eyes rule of the workflow itself,
    asked with the live owner and last assigner, and the scope the API's approval route demands."""
    if detail.live is None or detail.live.status != CaseStatus.waiting_on_approval:
        return None
    if not person.principal.may(Scope.cases_approve):
        return "Only a supervisor may decide on this case."
    probe = Decision(approved=True, reason="asking whether this viewer may decide", decided_by=person.principal.id)
    return decision_refusal(probe, detail.live.owner, detail.live.assigned_by, waiting=True)


async def render(request: Request, person: Viewer, case_id: str, settings: SettingsDep, temporal: TemporalDep,
                 session: SessionDep, status_code: int = 200, **shown: Any) -> Response:
    detail = await through_api(cases.get_case, person.principal, case_id=case_id, settings=settings,
                               temporal=temporal)
    timeline = await through_api(cases.get_timeline, person.principal, case_id=case_id, session=session)
    row = await load_visible_case(settings, case_id, person.principal)
    context = {"person": person, "case": detail, "timeline": timeline, "locale": locale_of(request),
               "contact": {"phone": mask_phone(row.customer_phone), "email": mask_email(row.customer_email)},
               "waiting_on_approval": detail.live is not None and detail.live.status == CaseStatus.waiting_on_approval,
               "approval_refusal": approval_refusal(person, detail),
               "done": DONE.get(request.query_params.get("done", "")), "errors": {}, "draft": {}, **shown}
    return templates.TemplateResponse(request, "case.html", context, status_code=status_code)


@router.get("/{case_id}", response_class=HTMLResponse, include_in_schema=False)
async def case_page(case_id: str, request: Request, person: ViewerDep, settings: SettingsDep,
                    temporal: TemporalDep, session: SessionDep) -> Response:
    return await render(request, person, case_id, settings, temporal, session)


@router.post("/{case_id}/reveal", response_class=HTMLResponse, include_in_schema=False)
async def reveal(case_id: str, request: Request, person: ActingDep, settings: SettingsDep, temporal: TemporalDep,
                 session: SessionDep, purpose: Annotated[str, Form(max_length=500)] = "",
                 fields: Annotated[list[str], Form()] = []) -> Response:  # noqa: B006  (FastAPI copies it)
    """Shown once in this answer, never stored in the page's URL or a cookie; the read is on the record."""
    try:
        revealed: Revealed = await through_api(privacy.reveal_personal_data, person.principal, case_id=case_id,
                                               asked=RevealIn.model_validate({"fields": fields, "purpose": purpose}),
                                               request=request, settings=settings)
    except (HTTPException, ValidationError) as refused:
        return await _refused(request, person, case_id, settings, temporal, session, "reveal", refused,
                              {"purpose": purpose})
    response = await render(request, person, case_id, settings, temporal, session, revealed=revealed)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/{case_id}/reply", include_in_schema=False)
async def personal_reply(case_id: str, request: Request, person: ActingDep, settings: SettingsDep,
                         temporal: TemporalDep, session: SessionDep, text: Annotated[str, Form(max_length=4000)] = "",
                         agent_name: Annotated[str, Form(max_length=200)] = "") -> Response:
    try:
        response = case_actions.ResponseIn(text=text, agent_name=agent_name)
        await through_api(case_actions.respond, person.principal, case_id=case_id, response=response,
                          settings=settings, temporal=temporal)
    except (HTTPException, ValidationError) as refused:
        return await _refused(request, person, case_id, settings, temporal, session, "reply", refused,
                              {"text": text, "agent_name": agent_name})
    return RedirectResponse(f"{PATH}/cases/{case_id}?done=reply", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/{case_id}/decision", include_in_schema=False)
async def decision(case_id: str, request: Request, person: ActingDep, settings: SettingsDep, temporal: TemporalDep,
                   session: SessionDep, choice: Annotated[Literal["approve", "reject"], Form(alias="decision")],
                   reason: Annotated[str, Form(max_length=500)] = "") -> Response:
    try:
        approval = case_actions.ApprovalIn(decision=choice, reason=reason)
        await through_api(case_actions.decide, person.principal, case_id=case_id, approval=approval,
                          settings=settings, temporal=temporal)
    except (HTTPException, ValidationError) as refused:
        return await _refused(request, person, case_id, settings, temporal, session, "decision", refused,
                              {"reason": reason})
    return RedirectResponse(f"{PATH}/cases/{case_id}?done=decision", status_code=status.HTTP_303_SEE_OTHER)


async def _refused(request: Request, person: Viewer, case_id: str, settings: SettingsDep, temporal: TemporalDep,
                   session: SessionDep, form: str, refused: HTTPException | ValidationError,
                   draft: dict[str, str]) -> Response:
    """The case page again, the API's reasons beside the form and the person's draft kept; the API's status."""
    code = refused.status_code if isinstance(refused, HTTPException) else status.HTTP_422_UNPROCESSABLE_CONTENT
    return await render(request, person, case_id, settings, temporal, session, status_code=code,
                        errors={form: reasons(refused)}, draft={form: draft})
