"""Grant goodwill (a voucher code or a credit) once per case, and record it on the case."""

from __future__ import annotations

import secrets

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from temporalio import activity

from schemas.compensation import CompensationGranted, CompensationRequest
from schemas.steps import ActivityName
from schemas.webhooks import EventType
from store.cases import apply_progress
from store.db import session_for
from store.tables import CompensationRow
from store.webhook_outbox import record_event

# Crockford's base32 without look-alikes (no I, L, O, U): read out over the phone without mistakes.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_voucher_code() -> str:
    """60 random bits from the operating system's CSPRNG: nobody can compute a code from what a case shows
    (an earlier code was a hash of the case id). Made once per grant; a retry reads it back from the database."""
    characters = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    return f"GW-{characters[:4]}-{characters[4:8]}-{characters[8:]}"


class CompensationActivities:
    def __init__(self, database_url: str) -> None:
        self._database_url = database_url

    @activity.defn(name=ActivityName.grant_compensation)
    def grant_compensation(self, request: CompensationRequest) -> CompensationGranted:
        """Stores the grant under its idempotency key before anyone is told the code: a retry, or a concurrent
        attempt, finds the stored grant and hands out the same code."""
        with session_for(self._database_url) as session:
            row = _granted(session, request.idempotency_key)
            if row is None:
                row = CompensationRow(case_id=request.case_id, idempotency_key=request.idempotency_key,
                                      kind=request.kind, product=request.product,
                                      amount_minor=request.value.amount_minor, currency=request.value.currency,
                                      code=new_voucher_code())
                session.add(row)
            apply_progress(session, request.progress, entry_key=request.idempotency_key)
            record_event(session, request.case_id, EventType.compensation_granted,
                         f"{request.idempotency_key}:granted", amount=request.value)
            try:
                session.commit()
            except IntegrityError:  # a concurrent retry won; its row is the grant
                session.rollback()
                row = _granted(session, request.idempotency_key)
            code = row.code
        return CompensationGranted(code=code, kind=request.kind, product=request.product, value=request.value)


def _granted(session: Session, idempotency_key: str) -> CompensationRow | None:
    return session.exec(select(CompensationRow).where(CompensationRow.idempotency_key == idempotency_key)).first()
