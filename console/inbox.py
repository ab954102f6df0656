"""Unmatched replies: customers' messages that matched no open case, as the API lists them (masked), for an agent
to place by hand. Read only for now: the API has no route yet to attach one to a case (docs/console.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import SessionDep
from api.routes import inbound
from console.api_calls import through_api
from console.session import PATH, ViewerDep
from console.templating import templates

router = APIRouter(prefix=PATH)


@router.get("/inbox", response_class=HTMLResponse, include_in_schema=False)
async def inbox(request: Request, session: SessionDep, person: ViewerDep) -> Response:
    messages = await through_api(inbound.unmatched_replies, person.principal, session=session, limit=100)
    return templates.TemplateResponse(request, "inbox.html", {"person": person, "messages": messages})
