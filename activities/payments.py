"""Refund through the payment provider, once per money event: reserve the ledger row, pay with the event's key,
record the result, and move the case's read model with it."""

from __future__ import annotations

from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from privacy.masking import mask_text
from providers.payments import PaymentProvider, RefundRejected
from schemas.refunds import RefundRequest, RefundResult, RefundRoute, RefundStatus
from schemas.steps import ActivityName
from schemas.webhooks import EventType
from store import refunds as ledger
from store.cases import add_timeline_entry, apply_progress
from store.db import session_for
from store.tables import RefundRow, utcnow
from store.webhook_outbox import record_event


class PaymentActivities:
    def __init__(self, database_url: str, provider: PaymentProvider) -> None:
        self._database_url = database_url
        self._provider = provider

    @activity.defn(name=ActivityName.refund)
    def refund(self, request: RefundRequest) -> RefundResult:
        """Whatever happened before (a crash after the money moved, another case paying the same sale, a hand
        payment), the ledger row says it: only a row reserved by this case and not yet settled calls the provider,
        and the provider's key comes from the money event, so even that retry moves money once."""
        with session_for(self._database_url) as session:
            handled_by = ledger.claim_money_event(session, request.event, request.case_id)
            if request.money_event is None and handled_by == request.case_id:
                handled_by = ledger.claim_sale_of(session, request.case_id)  # opened before the ledger
            if handled_by != request.case_id:  # only the event's own case may pay it, even if it has not yet
                return RefundResult(amount=request.amount, paid_in_case=handled_by)
            row = ledger.reserve(session, request)
            if row.case_id != request.case_id or RefundStatus(row.status).settled:
                return _result(row)
            if row.status == RefundStatus.refused:
                raise _rejected(f"already refused by {row.provider}: pay it by hand")
            if row.status == RefundStatus.unknown:  # the case gave up on it and waits for the owner's word
                raise _rejected("out of time with its outcome unknown: the owner checks the provider and confirms")
            if self._key_forgotten(row):
                ledger.refuse(session, row, self._provider.name)
                session.commit()
                raise _rejected(f"the provider may have paid under key {row.idempotency_key} but no longer remembers "
                                "the key: check its records, and confirm by hand with its refund id, or pay by hand")
            try:
                paid = self._provider.refund(row.idempotency_key, request.amount, request.destination,
                                             request.original_payment_ref)
            except RefundRejected as rejected:
                ledger.refuse(session, row, self._provider.name)
                # the integrator hears of it before the owner acts
                record_event(session, request.case_id, EventType.refund_failed, f"{request.case_id}:refund:failed",
                             amount=request.amount)
                session.commit()
                # Temporal keeps the text in the history: the bank account it may quote is masked, the cause dropped.
                raise _rejected(mask_text(str(rejected))) from None
            if ledger.settle(session, row, paid.status, self._provider.name, paid.provider_ref):
                apply_progress(session, request.progress, entry_key=f"{request.case_id}:refund", refunded_at=utcnow())
            else:
                _late_answer(session, request, paid.provider_ref)
            session.commit()
            return _result(row)

    @activity.defn(name=ActivityName.refund_outcome_unknown)
    def refund_outcome_unknown(self, request: RefundRequest) -> None:
        """The refund ran out of time: its reservation says so (`unknown`) while the owner checks the provider."""
        with session_for(self._database_url) as session:
            ledger.outcome_unknown(session, request.case_id, request.event)

    def _key_forgotten(self, row: RefundRow) -> bool:
        """A reservation older than the provider's memory of keys: asking again could pay a second time."""
        window = self._provider.key_window
        return window is not None and utcnow() - row.created_at > window


def _late_answer(session: Session, request: RefundRequest, provider_ref: str) -> None:
    """The provider paid after the case had stopped waiting for it and the owner had already confirmed a payment:
    the ledger keeps that confirmation, and the timeline says the customer may have been paid twice."""
    add_timeline_entry(session, request.case_id, f"{request.case_id}:refund:late", "refund", "payments",
                       f"the provider answered late and paid {request.amount} (refund {provider_ref}) after the "
                       "refund had been confirmed by hand: check both payments and reclaim one")


def _rejected(reason: str) -> ApplicationError:
    return ApplicationError(reason, type="RefundRejected", non_retryable=True)


def _result(row: RefundRow) -> RefundResult:
    return RefundResult.model_validate({
        "refund_id": row.id, "status": row.status, "provider": row.provider, "provider_ref": row.provider_ref,
        "amount": {"amount_minor": row.amount_minor, "currency": row.currency}, "route": RefundRoute(row.route),
        "paid_in_case": row.case_id})
