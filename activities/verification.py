"""Verify an incident against the transaction the till recorded, before anyone contacts the customer."""

from __future__ import annotations

from sqlmodel import Session, select
from temporalio import activity

from schemas.cases import Verification
from schemas.incidents import IncidentIn, IncidentKind
from schemas.money import Money
from schemas.steps import ActivityName, VerifyRequest
from store.cases import apply_progress
from store.db import session_for
from store.tables import CaseRow, TransactionRow


class VerificationActivities:
    def __init__(self, database_url: str) -> None:
        self._database_url = database_url

    @activity.defn(name=ActivityName.verify_incident)
    def verify_incident(self, request: VerifyRequest) -> Verification:
        with session_for(self._database_url) as session:
            tenant = session.get(CaseRow, request.progress.case_id).tenant
            verification = _verify(session, tenant, request.incident)
            progress = request.progress.model_copy(update={"note": verification.detail})
            apply_progress(session, progress, entry_key=f"{progress.case_id}:verify")
            session.commit()
        return verification


# Errors a till record can prove or disprove; a double purchase spans two records and is taken as reported.
_TILL_ERRORS = frozenset({IncidentKind.overcharge, IncidentKind.undercharge})


def _verify(session: Session, tenant: str, incident: IncidentIn) -> Verification:
    """Only the tenant's own till records count: another company's record proves nothing here."""
    reported = incident.amount
    record = None
    if incident.kind in _TILL_ERRORS and incident.transaction_ref and incident.store:
        record = session.exec(select(TransactionRow).where(
            TransactionRow.tenant == tenant, TransactionRow.store == incident.store,
            TransactionRow.transaction_id == incident.transaction_ref)).first()
    if record is None:
        return Verification(confirmed=True, amount=reported,
                            detail=f"{incident.kind} of {reported} taken from the reporter's record")
    signed = record.charged_minor - record.correct_total_minor
    too_much = signed if incident.kind is IncidentKind.overcharge else -signed
    if too_much <= 0:
        return Verification(confirmed=False, detail=f"transaction {record.transaction_id} shows no {incident.kind}")
    verified = Money(amount_minor=too_much, currency=record.currency)
    differs = "" if verified == reported else f" (reported as {reported})"
    return Verification(confirmed=True, amount=verified,
                        detail=f"{incident.kind} of {verified} confirmed against transaction "
                               f"{record.transaction_id}{differs}")
