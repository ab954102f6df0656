"""Refund through the payment provider with the case's idempotency key, and record it on the case."""

from __future__ import annotations

from sqlmodel import select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from privacy.masking import mask_text
from providers.payments import PaymentProvider, RefundRejected
from schemas.refunds import RefundRequest, RefundResult
from schemas.steps import ActivityName
from schemas.webhooks import EventType
from store.cases import apply_progress
from store.db import session_for
from store.tables import RefundRow, utcnow
from store.webhook_outbox import record_event


class PaymentActivities:
    def __init__(self, database_url: str, provider: PaymentProvider) -> None:
        self._database_url = database_url
        self._provider = provider

    @activity.defn(name=ActivityName.refund)
    def refund(self, request: RefundRequest) -> RefundResult:
        # The provider call is idempotent on the key, so a retry after "timed out after the money moved"
        # gets the first refund back instead of paying again.
        try:
            paid = self._provider.refund(request.idempotency_key, request.amount, request.destination,
                                         request.original_payment_ref)
        except RefundRejected as rejected:
            with session_for(self._database_url) as session:  # the integrator hears of it before the owner acts
                record_event(session, request.case_id, EventType.refund_failed, f"{request.idempotency_key}:failed",
                             amount=request.amount)
                session.commit()
            # Temporal keeps the text in the history: the bank account it may quote is masked, the cause dropped.
            raise ApplicationError(mask_text(str(rejected)), type="RefundRejected", non_retryable=True) from None
        with session_for(self._database_url) as session:
            row = session.exec(select(RefundRow).where(RefundRow.idempotency_key == request.idempotency_key)).first()
            if row is None:
                row = RefundRow(case_id=request.case_id, idempotency_key=request.idempotency_key,
                                amount_minor=request.amount.amount_minor, currency=request.amount.currency,
                                destination=request.destination.kind, status=paid.status,
                                provider=self._provider.name, provider_ref=paid.provider_ref)
                session.add(row)
            apply_progress(session, request.progress, entry_key=request.idempotency_key, refunded_at=utcnow())
            session.commit()
            return RefundResult(refund_id=row.id, status=row.status, provider=row.provider,
                                provider_ref=row.provider_ref, amount=request.amount)
