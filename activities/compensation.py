"""Grant goodwill (a voucher code or a credit) once per case, and record it on the case."""

from __future__ import annotations

import hashlib

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from temporalio import activity

from schemas.compensation import CompensationGranted, CompensationRequest
from schemas.steps import ActivityName
from schemas.webhooks import EventType
from store.cases import apply_progress
from store.db import session_for
from store.tables import CompensationRow
from store.webhook_outbox import record_event


def voucher_code(idempotency_key: str) -> str:
    """Derived from the key, so a retried grant hands out the same code (readable over the phone)."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest().upper()
    return f"GW-{digest[:4]}-{digest[4:8]}"


class CompensationActivities:
    def __init__(self, database_url: str) -> None:
        self._database_url = database_url

    @activity.defn(name=ActivityName.grant_compensation)
    def grant_compensation(self, request: CompensationRequest) -> CompensationGranted:
        with session_for(self._database_url) as session:
            row = session.exec(select(CompensationRow).where(
                CompensationRow.idempotency_key == request.idempotency_key)).first()
            if row is None:
                row = CompensationRow(case_id=request.case_id, idempotency_key=request.idempotency_key,
                                      kind=request.kind, product=request.product,
                                      amount_minor=request.value.amount_minor, currency=request.value.currency,
                                      code=voucher_code(request.idempotency_key))
                session.add(row)
            apply_progress(session, request.progress, entry_key=request.idempotency_key)
            record_event(session, request.case_id, EventType.compensation_granted,
                         f"{request.idempotency_key}:granted", amount=request.value)
            try:
                session.commit()
            except IntegrityError:  # a concurrent retry won; its row is the grant
                session.rollback()
        return CompensationGranted(code=voucher_code(request.idempotency_key), kind=request.kind,
                                   product=request.product, value=request.value)
