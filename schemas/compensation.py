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

    def offer(self, failure: Money | None) -> GoodwillOffer:
        """The policy's product, unless the cap relative to the failure makes it worth less than the product: then
        a credit of exactly the capped value (a 1 EUR loss never earns a 29.90 EUR month of sport)."""
        if failure is None or failure.currency != self.value.currency:
            return GoodwillOffer(kind=self.kind, product=self.product, value=self.value)
        cap = failure.amount_minor * self.max_times_failure
        if cap >= self.value.amount_minor:
            return GoodwillOffer(kind=self.kind, product=self.product, value=self.value)
        capped = Money(amount_minor=cap, currency=self.value.currency)
        return GoodwillOffer(kind=CompensationKind.credit, product=f"a credit of {capped}", value=capped)


class GoodwillOffer(BaseModel):
    """What a case grants: what the customer gets is worth exactly `value`."""

    kind: CompensationKind
    product: str
    value: Money


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
