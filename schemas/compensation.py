"""Goodwill compensation: a voucher for a product, or a credit, on top of putting the money right."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from schemas.money import Money
from schemas.progress import CaseProgress


class CompensationKind(StrEnum):
    voucher = "voucher"  # a code for a product (S3: a month of the sports package)
    credit = "credit"  # money off the next bill


class GoodwillPolicy(BaseModel):
    kind: CompensationKind = CompensationKind.voucher
    product: str = "one month of the sports package"
    value: Money = Field(default_factory=lambda: Money(amount_minor=2990, currency="EUR"))
    max_times_failure: int = Field(default=3, ge=1,
                                   description="Never worth more than this many times what the customer lost.")

    def offer(self, failure: Money | None) -> Money:
        """The value to grant: the policy's value, capped relative to the failure when one is known."""
        if failure is None or failure.currency != self.value.currency:
            return self.value
        cap = failure.amount_minor * self.max_times_failure
        return Money(amount_minor=min(self.value.amount_minor, cap), currency=self.value.currency)


class CompensationRequest(BaseModel):
    case_id: str
    idempotency_key: str
    kind: CompensationKind
    product: str
    value: Money
    progress: CaseProgress


class CompensationGranted(BaseModel):
    code: str
    kind: CompensationKind
    product: str
    value: Money
