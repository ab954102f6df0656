"""One case: its story (timeline), live step, SLA clocks, owner, refunds; contact details masked behind a Reveal
that asks for a purpose. The forms that act on it post to console/case_actions.py, which answers with `act`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client

from api.case_access import load_visible_case
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.routes import case_actions, cases, privacy
from console.api_calls import reasons, through_api
from console.session import PATH, ActingDep, Viewer, ViewerDep
from console.templating import templates
from privacy.masking import mask_email, mask_phone
from schemas.auth import Scope
from schemas.privacy import Revealed, RevealIn
from schemas.progress import CaseStatus
from schemas.sla import Priority
from schemas.steps import Decision, decision_refusal
from settings import Settings
from store.accounts import list_accounts

router = APIRouter(prefix=f"{PATH}/cases")
# The outcomes a person may close a case with, as the API's close route takes them.
CLOSING_OUTCOMES = list(get_args(case_actions.CloseIn.model_fields["outcome"].annotation))
DONE = {"reply": "Your reply is on its way to the customer.", "decision": "Your decision is recorded.",
        "answer": "The customer's answer is recorded on the case.", "note": "Your note is on the timeline.",
        "assign": "The case has a new owner.", "priority": "The priority is changed; the SLA deadlines follow.",
        "close": "The case closes at its next safe point.", "cancel": "The case is withdrawn at its next safe point.",
        "hand_payment": "The hand payment is confirmed; the case goes on."}


@dataclass(frozen=True)
class CaseView:
    """What it takes to show the case page again: who asks, about which case, and the app's connections."""

    request: Request
    person: Viewer
    case_id: str
    settings: Settings
    temporal: Client
    session: Session


async def viewing(case_id: str, request: Request, person: ViewerDep, settings: SettingsDep, temporal: TemporalDep,
                  session: SessionDep) -> CaseView:
    return CaseView(request, person, case_id, settings, temporal, session)


async def acting(case_id: str, request: Request, person: ActingDep, settings: SettingsDep, temporal: TemporalDep,
                 session: SessionDep) -> CaseView:
    """As `viewing`, for a form posted by the person (its CSRF token checked)."""
    return CaseView(request, person, case_id, settings, temporal, session)


ViewingDep = Annotated[CaseView, Depends(viewing)]
ActingOnDep = Annotated[CaseView, Depends(acting)]


def approval_refusal(person: Viewer, detail: Any) -> str | None:
    """Why this viewer gets no approve button (None: they get one): the four-eyes rule of the workflow itself,
    asked with the live owner and last assigner, and the scope the API's approval route demands."""
    if detail.live is None or detail.live.status != CaseStatus.waiting_on_approval:
        return None
    if not person.principal.may(Scope.cases_approve):
        return "Only a supervisor may decide on this case."
    probe = Decision(approved=True, reason="asking whether this viewer may decide", decided_by=person.principal.id)
    return decision_refusal(probe, detail.live.owner, detail.live.assigned_by, waiting=True)


async def render(view: CaseView, status_code: int = 200, **shown: Any) -> Response:
    person, case_id = view.person, view.case_id
    detail = await through_api(cases.get_case, person.principal, case_id=case_id, settings=view.settings,
                               temporal=view.temporal)
    timeline = await through_api(cases.get_timeline, person.principal, case_id=case_id, session=view.session)
    row = await load_visible_case(view.settings, case_id, person.principal)
    staff = await run_in_threadpool(list_accounts, view.session, person.principal.tenant)
    context = {"person": person, "case": detail, "timeline": timeline,
               "contact": {"phone": mask_phone(row.customer_phone), "email": mask_email(row.customer_email)},
               "waiting_on_approval": detail.live is not None and detail.live.status == CaseStatus.waiting_on_approval,
               "approval_refusal": approval_refusal(person, detail),
               "hand_payment_due": detail.live is not None and detail.live.awaiting_hand_payment,
               "staff": [account for account in staff if not account.disabled], "priorities": list(Priority),
               "outcomes": CLOSING_OUTCOMES,
               "done": DONE.get(view.request.query_params.get("done", "")), "errors": {}, "draft": {}, **shown}
    return templates.TemplateResponse(view.request, "case.html", context, status_code=status_code)


@router.get("/{case_id}", response_class=HTMLResponse, include_in_schema=False)
async def case_page(view: ViewingDep) -> Response:
    return await render(view)


@router.post("/{case_id}/reveal", response_class=HTMLResponse, include_in_schema=False)
async def reveal(view: ActingOnDep, purpose: Annotated[str, Form(max_length=500)] = "",
                 fields: Annotated[list[str], Form()] = []) -> Response:  # noqa: B006  (FastAPI copies it)
    """Shown once in this answer, never stored in the page's URL or a cookie; the read is on the record."""
    try:
        revealed: Revealed = await through_api(
            privacy.reveal_personal_data, view.person.principal, case_id=view.case_id, request=view.request,
            settings=view.settings, asked=RevealIn.model_validate({"fields": fields, "purpose": purpose}))
    except (HTTPException, ValidationError) as refused:
        return await _refused(view, "reveal", refused, {"purpose": purpose})
    response = await render(view, revealed=revealed)
    response.headers["Cache-Control"] = "no-store"
    return response


async def act(view: CaseView, form: str, action: Callable[[], Awaitable[None]], draft: dict[str, str]) -> Response:
    """Does `action` (an API route, with its input built inside so that bad input is a refusal too); then back to
    the case page saying it is done, or the case page again with the API's reasons beside the form, the person's
    draft kept, and the API's status code."""
    try:
        await action()
    except (HTTPException, ValidationError) as refused:
        return await _refused(view, form, refused, draft)
    return RedirectResponse(f"{PATH}/cases/{view.case_id}?done={form}", status_code=status.HTTP_303_SEE_OTHER)


async def _refused(view: CaseView, form: str, refused: HTTPException | ValidationError,
                   draft: dict[str, str]) -> Response:
    code = refused.status_code if isinstance(refused, HTTPException) else status.HTTP_422_UNPROCESSABLE_CONTENT
    return await render(view, status_code=code, errors={form: reasons(refused)}, draft={form: draft})
