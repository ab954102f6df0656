"""`GET /cases/{id}/messages/preview`: the message a case's customer would receive next, for staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from starlette.concurrency import run_in_threadpool

from api.auth import require_by_kind
from api.case_access import load_visible_case
from api.deps import SettingsDep, TemporalDep
from api.errors import invalid_field
from intake.replies import QUERY_TIMEOUT
from messages.preview import PREVIEWED_CHANNELS, preview, unknown_template
from schemas.auth import Principal, Scope
from schemas.channels import Channel
from schemas.messages import MessagePreview, NextMessageFacts
from store.accounts import signed_by_owner
from store.db import session_for

router = APIRouter(prefix="/cases", tags=["cases"])
# Staff only: an integrator's system has no use for the texts, and people read them as the customer would.
StaffReaderDep = Annotated[Principal, Depends(require_by_kind(person=Scope.cases_read, integrator=None))]


@router.get("/{case_id}/messages/preview", response_model=MessagePreview)
async def preview_message(
    case_id: str, settings: SettingsDep, temporal: TemporalDep, staff: StaffReaderDep,
    template: Annotated[str, Query(max_length=100, examples=["overcharge/thank_you"],
                                   description="`common/...` or one of the case's own kind's templates.")],
    channel: Annotated[Channel | None, Query(description="sms, voice or email; default: the channel the contact "
                                             "plan would try first.")] = None,
) -> MessagePreview:
    """The message `template` as this case's customer would receive it next: their language, the channel, the
    facts the workflow holds now, signed by the owner; with the recovery-quality check's verdict."""
    row = await load_visible_case(settings, case_id, staff)
    if (why := unknown_template(template, row.kind)) is not None:
        raise invalid_field("query", "template", "unknown_template", why)
    if channel is not None and channel not in PREVIEWED_CHANNELS:
        raise invalid_field("query", "channel", "not_a_customer_channel", f"{channel} carries no message of ours")
    try:
        next_message = await temporal.get_workflow_handle(case_id).query(
            "message_facts", result_type=NextMessageFacts, rpc_timeout=QUERY_TIMEOUT)
    except Exception as error:  # noqa: BLE001  (no worker, an old worker without the query, a removed workflow)
        raise HTTPException(status.HTTP_409_CONFLICT, "the case's workflow could not be asked for its facts "
                            f"right now ({type(error).__name__})") from error

    def signed() -> NextMessageFacts:
        with session_for(settings.database_url) as session:
            facts = signed_by_owner(session, staff.tenant, next_message.facts)
        return next_message.model_copy(update={"facts": facts})

    return preview(template, channel, await run_in_threadpool(signed))
