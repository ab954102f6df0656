"""Outbound messages' later fate, as carriers report it."""

from __future__ import annotations

from sqlmodel import Session, select

from schemas.messages import DeliveryStatus
from store.tables import MessageRow


def set_delivery_status(session: Session, idempotency_key: str, status: DeliveryStatus) -> bool:
    row = session.exec(select(MessageRow).where(MessageRow.idempotency_key == idempotency_key)).first()
    if row is None:
        return False
    row.status = status
    session.add(row)
    session.commit()
    return True
