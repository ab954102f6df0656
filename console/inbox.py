"""Unmatched replies: customers' messages that matched no open case, as the API lists them (masked), each with a
form to attach it to a case by its reference: the API's own attach route, with its rules (tenant, role, a closed
or ambiguous case refused, never twice, and the workflow's proof before any bank account is paid)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.case_access import visible_case
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.routes import inbound
from console.api_calls import reasons, through_api
from console.session import PATH, ActingDep, Viewer, ViewerDep
from console.templating import templates
from store.tables import CaseRow

router = APIRouter(prefix=PATH)


@router.get("/inbox", response_class=HTMLResponse, include_in_schema=False)
async def inbox(request: Request, session: SessionDep, person: ViewerDep,
                attached: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    """`attached`: the case a reply was just attached to (shown only if it is one this person may see)."""
    def attached_case() -> CaseRow | None:
        try:
            return visible_case(session.get(CaseRow, attached), attached, person.principal) if attached else None
        except HTTPException:
            return None

    return await _render(request, session, person, attached=await run_in_threadpool(attached_case))


@router.post("/inbox/{message_id}/attach", response_class=HTMLResponse, include_in_schema=False)
async def attach(request: Request, message_id: inbound.MessageId, session: SessionDep, settings: SettingsDep,
                 temporal: TemporalDep, person: ActingDep,
                 case: Annotated[str, Form(max_length=200)] = "") -> Response:
    try:
        accepted = await through_api(inbound.attach_unmatched_reply, person.principal, message_id=message_id,
                                     attach=inbound.AttachIn(case=case), settings=settings, temporal=temporal)
    except (HTTPException, ValidationError) as refused:
        code = refused.status_code if isinstance(refused, HTTPException) else status.HTTP_422_UNPROCESSABLE_CONTENT
        return await _render(request, session, person, status_code=code, errors={message_id: reasons(refused)},
                             draft={message_id: case})
    return RedirectResponse(f"{PATH}/inbox?attached={accepted.case_id}", status_code=status.HTTP_303_SEE_OTHER)


async def _render(request: Request, session: SessionDep, person: Viewer, status_code: int = 200,
                  **shown: Any) -> Response:
    messages = await through_api(inbound.unmatched_replies, person.principal, session=session, limit=100)
    context = {"person": person, "messages": messages, "errors": {}, "draft": {}, "attached": None, **shown}
    return templates.TemplateResponse(request, "inbox.html", context, status_code=status_code)
