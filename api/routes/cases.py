from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from starlette.concurrency import run_in_threadpool
from temporalio.service import RPCError

from api.auth import AgentDep, ReaderDep
from api.case_access import load_visible_case, only_from, visible_case
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.errors import invalid_field
from intake.replies import WorkflowGone, deliver_reply, live_state
from privacy.masking import masked_message, masked_timeline
from schemas.api import AssignmentIn, ReplyAccepted, ReplyIn
from schemas.auth import PrincipalKind
from schemas.cases import CaseDetail, CasePage, TimelineEntryView
from schemas.channels import Channel
from schemas.incidents import IncidentKind
from schemas.inputs import FilterInstant
from schemas.progress import CaseStatus
from schemas.sla import Priority
from schemas.steps import Assignment
from sla.clock import SlaState
from store import cases as case_store
from store import refunds as refund_ledger
from store.accounts import active_account
from store.db import session_for
from store.tables import CaseRow

router = APIRouter(prefix="/cases", tags=["cases"])


@router.get("", response_model=CasePage)
def list_cases(
    session: SessionDep,
    reader: ReaderDep,
    status_: Annotated[CaseStatus | None, Query(alias="status")] = None,
    kind: IncidentKind | None = None,
    owner: Annotated[str | None, Query(max_length=200)] = None,
    sla: Annotated[SlaState | None, Query(description="on_track, at_risk, breached or paused; nearest first")] = None,
    priority: Priority | None = None,
    opened_after: FilterInstant | None = None,
    opened_before: FilterInstant | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> CasePage:
    """Newest first, filtered by status, kind, owner, priority, SLA state and opening time."""
    rows, total = case_store.list_cases(session, tenant=reader.tenant, integrator=only_from(reader), status=status_,
                                        kind=kind, owner=owner,
                                        sla_state=sla, priority=priority,
                                        opened_after=opened_after, opened_before=opened_before,
                                        limit=limit, offset=offset)
    return CasePage(items=[case_store.summary_of(row) for row in rows], total=total, limit=limit, offset=offset)


@router.get("/{case_id}", response_model=CaseDetail)
async def get_case(case_id: str, settings: SettingsDep, temporal: TemporalDep, reader: ReaderDep) -> CaseDetail:
    """The read model's record of the case, with the workflow's own live state beside it. Phone numbers, emails
    and bank accounts are masked: `POST /cases/{id}/reveal` reads them, for a purpose, on the record."""

    def load() -> CaseDetail:
        with session_for(settings.database_url) as session:
            row = visible_case(session.get(CaseRow, case_id), case_id, reader)
            return CaseDetail(**case_store.summary_of(row).model_dump(), reference=row.reference,
                              customer_name=row.customer_name,
                              messages=[masked_message(m) for m in case_store.messages_of(session, case_id)],
                              refunds=refund_ledger.refunds_of(session, case_id), live=None)

    detail = await run_in_threadpool(load)
    detail.live = await live_state(temporal, case_id)
    return detail


@router.get("/{case_id}/timeline", response_model=list[TimelineEntryView])
def get_timeline(case_id: str, session: SessionDep, reader: ReaderDep) -> list[TimelineEntryView]:
    visible_case(session.get(CaseRow, case_id), case_id, reader)
    entries = case_store.timeline_of(session, case_id, with_notes=not reader.sees_only_own_cases)
    return [masked_timeline(entry) for entry in entries]


@router.post("/{case_id}/replies", status_code=status.HTTP_202_ACCEPTED, response_model=ReplyAccepted)
async def post_reply(
    case_id: str, reply: ReplyIn, settings: SettingsDep, temporal: TemporalDep, agent: AgentDep
) -> ReplyAccepted:
    """The customer's answer for this case: an agent recording a call, or a system that matched it itself.
    Channel and sender here are the caller's word, never a carrier's: only a staff account recording a call
    (`agent`) vouches for the customer (an account so recorded is paid); an integrator may not claim `agent`
    (403), and its replies, like any other here, answer questions but prove no bank account."""
    await load_visible_case(settings, case_id, agent)
    recorded_by_staff = reply.channel is Channel.agent and agent.kind is PrincipalKind.person
    if reply.channel is Channel.agent and not recorded_by_staff:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only a staff account records a customer's call (agent)")
    try:
        return await deliver_reply(temporal, settings, agent.tenant, case_id, reply, authenticated=recorded_by_staff)
    except WorkflowGone as gone:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            f"the reply is recorded on the case, but its workflow no longer runs ({gone})") from gone


@router.post("/{case_id}/assign", status_code=status.HTTP_202_ACCEPTED)
async def assign(
    case_id: str, assignment: AssignmentIn, settings: SettingsDep, temporal: TemporalDep, agent: AgentDep
) -> dict[str, str]:
    """Hands the case to one of the tenant's staff accounts (by id or email; unknown: 422), with a reason; the
    case's workflow records it on the timeline. Whoever reassigns may not then approve the case (four eyes)."""
    await load_visible_case(settings, case_id, agent)

    def find_owner() -> str | None:
        with session_for(settings.database_url) as session:
            account = active_account(session, agent.tenant, assignment.owner)
            return account.id if account else None

    if (owner := await run_in_threadpool(find_owner)) is None:
        raise invalid_field("body", "owner", "unknown_account", f"no staff account '{assignment.owner}'")
    try:
        await temporal.get_workflow_handle(case_id).signal(
            "assign", Assignment(owner=owner, reason=assignment.reason, assigned_by=agent.id))
    except RPCError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, f"the case no longer runs ({error.message})") from error
    return {"case_id": case_id, "owner": owner}
