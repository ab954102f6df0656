"""S5 over HTTP: reading a customer's contact details for a case (`reveal`), an investigator's findings, the
audit trail for the data protection officer, and data-subject requests (export, erasure).

Personal data in requests travels in bodies, never in URLs: URLs end up in access logs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, HTTPException, Path, Query, Request, status
from starlette.concurrency import run_in_threadpool
from temporalio.service import RPCError

from api.auth import AgentDep, PrivacyDep
from api.case_access import load_visible_case, visible_case
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.routes.case_actions import require_action
from privacy.export import export_customer
from privacy.notices import tell_dpo_of_refusal
from privacy.reveal import RevealRefused, reveal
from schemas.auth import Principal, Scope
from schemas.data_subject import CustomerExport, ErasureReport, ErasureView
from schemas.inputs import ROW_ID_MAX, FilterInstant
from schemas.privacy import AccessRecordView, DataSubjectRequest, Findings, FindingsIn, Revealed, RevealIn
from schemas.progress import CaseStatus
from schemas.steps import StaffAction
from settings import Settings
from store.db import engine_for, session_for
from store.erasure import CustomerHasOpenCases, erase_customer, purge_pending, refunds_kept
from store.privacy import list_access_records
from store.tables import CaseRow, ErasureRow

router = APIRouter(tags=["privacy"])
_REFUSED = {403: {"description": "No open case of this customer that the reader owns or supervises: refused, "
                                 "recorded as flagged, and told to the data protection officer."}}


@router.post("/cases/{case_id}/reveal", response_model=Revealed, responses=_REFUSED)
async def reveal_personal_data(case_id: str, asked: RevealIn, request: Request, settings: SettingsDep,
                               reader: AgentDep) -> Revealed:
    """The customer's phone, email or bank account in clear, for this open case and the stated purpose.
    Only the case's owner (not self-assigned) or a supervisor, with a staff account's key (`cases:act`); every
    call, allowed or refused, leaves an access record, and a refused one is told to the DPO."""

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
    require_action(case, StaffAction.findings)
    if case.status == CaseStatus.closed:
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
    dpo: PrivacyDep,
    case_id: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    flagged: bool | None = None,
    since: FilterInstant | None = None,
    until: FilterInstant | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[AccessRecordView]:
    """The audit trail of reads of personal data, newest first: `flagged=true` lists the refused attempts.
    For the data protection officer (scope privacy), of the officer's tenant; one customer's reads are in their
    export."""
    rows = list_access_records(session, tenant=dpo.tenant, case_id=case_id, actor=actor, flagged=flagged,
                               since=since, until=until,
                               limit=limit, offset=offset)
    return [AccessRecordView.model_validate(row, from_attributes=True) for row in rows]


@router.post("/customers/export", response_model=CustomerExport)
def export(request: DataSubjectRequest, session: SessionDep, dpo: PrivacyDep) -> CustomerExport:
    """Everything the engine holds about one customer, in clear (a data-subject access request). Recorded."""
    return export_customer(session, dpo, request)


@router.post("/customers/erase", response_model=ErasureReport, responses={409: {}})
async def erase(request: DataSubjectRequest, settings: SettingsDep, dpo: PrivacyDep,
                background: BackgroundTasks) -> ErasureReport:
    """Removes the customer's personal data from the tenant's records; cases and refunds stay for the books.
    Refused (409) while the customer has open cases: their workflows hold the data and would write it back.
    Answered as soon as the rows are changed; the database's files are purged of the old bytes right after,
    in the background, a few pages at a time (other processes keep writing meanwhile)."""
    report = await run_in_threadpool(_erase, settings, request, dpo)
    background.add_task(run_in_threadpool, purge_pending, engine_for(settings.database_url))
    return report


@router.get("/customers/erasures/{erasure_id}", response_model=ErasureView, responses={404: {}})
def erasure_status(erasure_id: Annotated[int, Path(ge=1, le=ROW_ID_MAX)], session: SessionDep,
                   dpo: PrivacyDep) -> ErasureView:
    """An erasure of the officer's tenant, and whether its purge of the database's files is done."""
    row = session.get(ErasureRow, erasure_id)
    if row is None or row.tenant != dpo.tenant:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no erasure {erasure_id}")
    return ErasureView(erasure_id=row.id, at=row.at, cases=row.case_ids, erased=row.counts, purged_at=row.purged_at)


def _erase(settings: Settings, request: DataSubjectRequest, admin: Principal) -> ErasureReport:
    with session_for(settings.database_url) as session:
        try:
            erasure = erase_customer(session, admin.tenant, request, requested_by=admin.id, reason=request.reason)
        except CustomerHasOpenCases as still_open:
            raise HTTPException(status.HTTP_409_CONFLICT, f"{still_open}: close or cancel them first") from None
        kept = {"refunds": refunds_kept(session, erasure.case_ids)}
    return ErasureReport(erasure_id=erasure.id, cases=erasure.case_ids, erased=erasure.counts, kept=kept,
                         file_purged=False)


def _require_owner_or_supervisor(case: CaseRow, principal: Principal) -> None:
    if case.owner != principal.id and not principal.may(Scope.cases_approve):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"only the case's owner ({case.owner or 'none'}) or a "
                            "supervisor may do this")
