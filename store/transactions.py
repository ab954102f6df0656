"""Till records as received: the evidence that `verify_incident` checks a reported error against."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from schemas.transactions import TransactionRecord
from store.tables import TransactionRow


def record_transaction(session: Session, record: TransactionRecord, tenant: str) -> None:
    """Keeps the first copy of a transaction per tenant; a till resending it changes nothing, and one tenant's
    record never verifies (or contradicts) another's report."""
    session.add(TransactionRow(tenant=tenant, store=record.store, transaction_id=record.transaction_id,
                               currency=record.currency,
                               correct_total_minor=record.correct_total().amount_minor,
                               charged_minor=record.charged_minor,
                               lines=[line.model_dump() for line in record.lines], sold_at=record.sold_at,
                               customer=record.customer.model_dump(mode="json") if record.customer else None))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
