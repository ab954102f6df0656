"""The message preview on the case page: what the customer would receive next, as the API's preview route renders
it (their language, the channel, the workflow's facts, signed by the owner), with the quality check's verdict.
The form is `_preview.html`, included on the case page; the answer is a page of its own, read only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import SettingsDep, TemporalDep
from api.errors import invalid_field
from api.routes import previews
from console.api_calls import reasons, through_api
from console.session import PATH, ViewerDep
from console.templating import templates
from messages.preview import PREVIEWED_CHANNELS
from messages.quality import DECLARED
from schemas.channels import Channel

router = APIRouter(prefix=f"{PATH}/cases")


def message_templates(kind: str) -> list[str]:
    """The templates a case of `kind` may send: its own kind's and the common ones."""
    return sorted(name for name in DECLARED if name.split("/")[0] in (kind, "common"))


templates.env.globals.update(message_templates=message_templates, previewed_channels=PREVIEWED_CHANNELS)


@router.get("/{case_id}/preview", response_class=HTMLResponse, include_in_schema=False)
async def preview_page(case_id: str, request: Request, person: ViewerDep, settings: SettingsDep,
                       temporal: TemporalDep, template: Annotated[str, Query(max_length=100)] = "",
                       channel: Annotated[str, Query(max_length=10)] = "") -> Response:
    shown, refused = None, []
    try:
        shown = await through_api(previews.preview_message, person.principal, case_id=case_id, settings=settings,
                                  temporal=temporal, template=template, channel=_channel(channel))
    except HTTPException as error:
        if error.status_code == 404:
            raise
        refused = reasons(error)
    return templates.TemplateResponse(request, "preview.html", {"person": person, "case_id": case_id,
                                                                "preview": shown, "refused": refused})


def _channel(asked: str) -> Channel | None:
    """None (the plan's first channel) when none is asked; a channel that is none of ours is refused as the API
    refuses it, not previewed on another one without a word (a hand-edited or stale link)."""
    if not asked:
        return None
    if asked not in set(Channel):
        raise invalid_field("query", "channel", "enum", f"'{asked}' is no channel: one of "
                            f"{', '.join(PREVIEWED_CHANNELS)}, or none for the one the case would use")
    return Channel(asked)
