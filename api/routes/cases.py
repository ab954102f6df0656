from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client
from temporalio.service import RPCError

from api.auth import AgentDep, ReaderDep
from api.deps import SessionDep, SettingsDep, TemporalDep
from schemas.api import ReplyAccepted, ReplyIn
from schemas.auth import Principal
from schemas.cases import CaseDetail, CasePage, LiveState, TimelineEntryView
from schemas.incidents import IncidentKind
from schemas.progress import CaseStatus
from schemas.replies import CustomerReply, interpret_reply
from store import cases as case_store
from store.db import session_for
from store.replies import record_inbound
from store.tables import CaseRow

router = APIRouter(prefix="/cases", tags=["cases"])
QUERY_TIMEOUT = timedelta(seconds=2)


@router.get("", response_model=CasePage)
def list_cases(
    session: SessionDep,
    reader: ReaderDep,
    status_: Annotated[CaseStatus | None, Query(alias="status")] = None,
    kind: IncidentKind | None = None,
    opened_after: datetime | None = None,
    opened_before: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> CasePage:
    """Newest first, filtered by status, kind and opening time."""
    only_from = reader.id if reader.sees_only_own_cases else None
    rows, total = case_store.list_cases(session, integrator=only_from, status=status_, kind=kind,
                                        opened_after=opened_after, opened_before=opened_before,
                                        limit=limit, offset=offset)
    return CasePage(items=[case_store.summary_of(row) for row in rows], total=total, limit=limit, offset=offset)


@router.get("/{case_id}", response_model=CaseDetail)
async def get_case(case_id: str, settings: SettingsDep, temporal: TemporalDep, reader: ReaderDep) -> CaseDetail:
    """The read model's record of the case, with the workflow's own live state beside it."""

    def load() -> CaseDetail:
        with session_for(settings.database_url) as session:
            row = _visible_case(session.get(CaseRow, case_id), case_id, reader)
            return CaseDetail(**case_store.summary_of(row).model_dump(), reference=row.reference,
                              customer_name=row.customer_name,
                              messages=case_store.messages_of(session, case_id),
                              refunds=case_store.refunds_of(session, case_id), live=None)

    detail = await run_in_threadpool(load)
    detail.live = await _live_state(temporal, case_id)
    return detail


@router.get("/{case_id}/timeline", response_model=list[TimelineEntryView])
def get_timeline(case_id: str, session: SessionDep, reader: ReaderDep) -> list[TimelineEntryView]:
    _visible_case(session.get(CaseRow, case_id), case_id, reader)
    return case_store.timeline_of(session, case_id)


@router.post("/{case_id}/replies", status_code=status.HTTP_202_ACCEPTED, response_model=ReplyAccepted)
async def post_reply(
    case_id: str, reply: ReplyIn, settings: SettingsDep, temporal: TemporalDep, agent: AgentDep
) -> ReplyAccepted:
    """Records the customer's answer on the case, then hands it to the case's workflow."""

    def check() -> None:
        with session_for(settings.database_url) as session:
            _visible_case(session.get(CaseRow, case_id), case_id, agent)

    await run_in_threadpool(check)
    live = await _live_state(temporal, case_id)
    intent = reply.intent or interpret_reply(reply.text, live.expecting if live else None)

    def store() -> bool:
        with session_for(settings.database_url) as session:
            return record_inbound(session, case_id, reply, intent)

    if not await run_in_threadpool(store):
        return ReplyAccepted(case_id=case_id, intent=intent, delivered_to_workflow=False)
    handle = temporal.get_workflow_handle(case_id)
    try:
        await handle.signal("customer_replied", CustomerReply(channel=reply.channel, text=reply.text, intent=intent,
                                                             received_at=datetime.now(UTC)))
    except RPCError as error:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            f"the reply is recorded on the case, but its workflow no longer runs ({error.message})",
                            ) from error
    return ReplyAccepted(case_id=case_id, intent=intent, delivered_to_workflow=True)


async def _live_state(temporal: Client, case_id: str) -> LiveState | None:
    """Asks the workflow itself; None when the case has no running workflow to ask right now."""
    handle = temporal.get_workflow_handle(case_id)
    try:
        return await handle.query("state", result_type=LiveState,
                                  rpc_timeout=QUERY_TIMEOUT)
    except Exception:  # noqa: BLE001  (no worker, no workflow, or timed out: the read model still answers)
        return None


def _visible_case(row: CaseRow | None, case_id: str, principal: Principal) -> CaseRow:
    """An integrator's key sees only the cases it opened; others' cases are as if they did not exist."""
    if row is None or (principal.sees_only_own_cases and row.integrator != principal.id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no case {case_id}")
    return row
