"""Refunds: paid at most once per idempotency key (`<case id>:<step>`), whatever retries happen."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from schemas.money import Money
from schemas.progress import CaseProgress
from schemas.replies import RefundDestination


class RefundStatus(StrEnum):
    paid = "paid"
    awaiting_pickup = "awaiting_pickup"  # cash waits for the customer at the service desk


class RefundRequest(BaseModel):
    case_id: str
    idempotency_key: str
    amount: Money
    destination: RefundDestination
    original_payment_ref: str | None = None
    progress: CaseProgress


class RefundResult(BaseModel):
    refund_id: int
    status: RefundStatus
    provider: str
    provider_ref: str
    amount: Money
