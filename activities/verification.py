"""Verify an incident against the transaction the till recorded, before anyone contacts the customer."""

from __future__ import annotations

from sqlmodel import Session, select
from temporalio import activity

from schemas.cases import Verification
from schemas.incidents import IncidentIn, IncidentKind
from schemas.money import Money
from schemas.steps import ActivityName, VerifyRequest
from store import major_incidents as majors
from store.cases import apply_progress
from store.db import session_for
from store.tables import TransactionRow


class VerificationActivities:
    def __init__(self, database_url: str) -> None:
        self._database_url = database_url

    @activity.defn(name=ActivityName.verify_incident)
    def verify_incident(self, request: VerifyRequest) -> Verification:
        with session_for(self._database_url) as session:
            verification = (of_major_incident(session, request.progress.case_id)
                            or verify_against(session, request.incident, request.tenant))
            progress = request.progress.model_copy(update={"note": verification.detail})
            apply_progress(session, progress, entry_key=f"{progress.case_id}:verify")
            session.commit()
        return verification


def of_major_incident(session: Session, case_id: str) -> Verification | None:
    """A child of an approved major incident: its amount was computed by the engine from the sale's own record
    (or listed by the integrator and checked against that record) and approved by a supervisor for the incident
    as a whole, within its cap."""
    child = majors.approved_child(session, case_id)
    if child is None or not child.against_record:  # a listed sale the engine does not hold: verified as reported
        return None
    amount = Money(amount_minor=child.amount_minor, currency=child.currency)
    return Verification(confirmed=True, amount=amount, against_record=True,
                        detail=f"{amount} owed on transaction {child.transaction_ref}, found by major incident "
                               f"{child.major_id} (approved once for all its customers)")


# Errors a till record can prove or disprove; a double purchase spans two records and is taken as reported.
_TILL_ERRORS = frozenset({IncidentKind.overcharge, IncidentKind.undercharge})


def verify_against(session: Session, incident: IncidentIn, tenant: str) -> Verification:
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
    return Verification(confirmed=True, amount=verified, against_record=True,
                        detail=f"{incident.kind} of {verified} confirmed against transaction "
                               f"{record.transaction_id}{differs}")
