from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.auth import IntegratorDep
from api.deps import SettingsDep, TemporalDep
from intake.cases import open_case
from intake.detection import Finding, examine, incident_from
from schemas.cases import TransactionVerdict
from schemas.transactions import TransactionRecord
from store.db import session_for
from store.transactions import record_transaction

router = APIRouter(tags=["intake"])


@router.post("/transactions", response_model=TransactionVerdict)
async def post_transaction(
    record: TransactionRecord, settings: SettingsDep, temporal: TemporalDep, integrator: IntegratorDep
) -> TransactionVerdict:
    """Checks a till record. An overcharge of any size, or an undercharge, opens a case; a correct one does not."""

    def keep() -> None:
        with session_for(settings.database_url) as session:
            record_transaction(session, record, integrator.tenant)

    await run_in_threadpool(keep)
    finding, difference = examine(record)
    opened = None
    if finding is not Finding.correct:
        opened = await open_case(temporal, settings, integrator, incident_from(record, finding, difference))
    return TransactionVerdict(transaction_id=record.transaction_id, correct_total=record.correct_total(),
                              charged=record.charged(), finding=finding, difference=difference, case=opened)
