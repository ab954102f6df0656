"""S5 over HTTP: reading a customer's contact details for a case (`reveal`), an investigator's findings, the
audit trail for the data protection officer, and data-subject requests (export, erasure).

Personal data in requests travels in bodies, never in URLs: URLs end up in access logs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from starlette.concurrency import run_in_threadpool
from temporalio.service import RPCError

from api.auth import AdminDep, AgentDep, ReaderDep
from api.case_access import load_visible_case, visible_case
from api.deps import SessionDep, SettingsDep, TemporalDep
from privacy.export import export_customer
from privacy.notices import tell_dpo_of_refusal
from privacy.reveal import RevealRefused, reveal
from schemas.auth import Principal, Scope
from schemas.data_subject import CustomerExport, ErasureReport
from schemas.incidents import IncidentKind
from schemas.inputs import FilterInstant
from schemas.privacy import AccessRecordView, DataSubjectRequest, Findings, FindingsIn, Revealed, RevealIn
from schemas.progress import CaseStatus
from settings import Settings
from store.db import engine_for, session_for
from store.erasure import CustomerHasOpenCases, erase_customer, purge_freed_space, refunds_kept
from store.privacy import list_access_records
from store.tables import CaseRow

router = APIRouter(tags=["privacy"])
_REFUSED = {403: {"description": "No open case of this customer that the reader owns or supervises: refused, "
                                 "recorded as flagged, and told to the data protection officer."}}


@router.post("/cases/{case_id}/reveal", response_model=Revealed, responses=_REFUSED)
async def reveal_personal_data(case_id: str, asked: RevealIn, request: Request, settings: SettingsDep,
                               reader: ReaderDep) -> Revealed:
    """The customer's phone, email or bank account in clear, for this open case and the stated purpose.
    Only the case's owner or a supervisor; every call, allowed or refused, leaves an access record."""

    def read() -> Revealed:
        with session_for(settings.database_url) as session:
            case = visible_case(session.get(CaseRow, case_id), case_id, reader)
            try:
                return reveal(session, reader, case, asked)
            except RevealRefused as refused:
                tell_dpo_of_refusal(request.app.state.staff_email, settings.policy.privacy.dpo_address,
                                    refused.record, refused.reason)
                raise HTTPException(status.HTTP_403_FORBIDDEN, f"refused and recorded: {refused.reason}; the data "
                                    "protection officer has been told") from None

    return await run_in_threadpool(read)


@router.post("/cases/{case_id}/findings", status_code=status.HTTP_202_ACCEPTED, responses={409: {}})
async def record_findings(case_id: str, findings: FindingsIn, settings: SettingsDep, temporal: TemporalDep,
                          agent: AgentDep) -> dict[str, str]:
    """A data-misuse investigation's findings and what was done, by the case's owner or a supervisor. The
    customer is told them as written."""
    case = await load_visible_case(settings, case_id, agent)
    _require_owner_or_supervisor(case, agent)
    if case.kind != IncidentKind.data_misuse or case.status == CaseStatus.closed:
        raise HTTPException(status.HTTP_409_CONFLICT, "findings belong to an open data-misuse case")
    try:
        await temporal.get_workflow_handle(case_id).signal(
            "record_findings", Findings(**findings.model_dump(), recorded_by=agent.id))
    except RPCError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, f"the case no longer runs ({error.message})") from error
    return {"case_id": case_id, "status": "recorded"}


@router.get("/customers/access-records", response_model=list[AccessRecordView])
def access_records(
    session: SessionDep,
    _admin: AdminDep,
    case_id: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    flagged: bool | None = None,
    since: FilterInstant | None = None,
    until: FilterInstant | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[AccessRecordView]:
    """The audit trail of reads of personal data, newest first: `flagged=true` lists the refused attempts.
    For the data protection officer (scope admin); one customer's reads are in their export."""
    rows = list_access_records(session, case_id=case_id, actor=actor, flagged=flagged, since=since, until=until,
                               limit=limit, offset=offset)
    return [AccessRecordView.model_validate(row, from_attributes=True) for row in rows]


@router.post("/customers/export", response_model=CustomerExport)
def export(request: DataSubjectRequest, session: SessionDep, admin: AdminDep) -> CustomerExport:
    """Everything the engine holds about one customer, in clear (a data-subject access request). Recorded."""
    return export_customer(session, admin, request)


@router.post("/customers/erase", response_model=ErasureReport, responses={409: {}})
async def erase(request: DataSubjectRequest, settings: SettingsDep, admin: AdminDep) -> ErasureReport:
    """Removes the customer's personal data everywhere; cases and refunds stay for the books. Refused (409)
    while the customer has open cases: their workflows hold the data and would write it back."""
    return await run_in_threadpool(_erase, settings, request, admin)


def _erase(settings: Settings, request: DataSubjectRequest, admin: Principal) -> ErasureReport:
    with session_for(settings.database_url) as session:
        try:
            erasure = erase_customer(session, request, requested_by=admin.id, reason=request.reason)
        except CustomerHasOpenCases as still_open:
            raise HTTPException(status.HTTP_409_CONFLICT, f"{still_open}: close or cancel them first") from None
        kept = {"refunds": refunds_kept(session, erasure.case_ids)}
    purged = purge_freed_space(engine_for(settings.database_url)) if any(erasure.counts.values()) else True
    return ErasureReport(erasure_id=erasure.id, cases=erasure.case_ids, erased=erasure.counts, kept=kept,
                         file_purged=purged)


def _require_owner_or_supervisor(case: CaseRow, principal: Principal) -> None:
    if case.owner != principal.id and not principal.may(Scope.cases_approve):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"only the case's owner ({case.owner or 'none'}) or a "
                            "supervisor may do this")
