"""Payment providers: refund an amount to a destination, at most once per idempotency key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from schemas.money import Money
from schemas.refunds import RefundStatus
from schemas.replies import RefundDestination


class RefundRejected(Exception):
    """The provider refused the refund for good (e.g. card closed): retrying cannot help."""


@dataclass(frozen=True)
class ProviderRefund:
    provider_ref: str
    status: RefundStatus


class PaymentProvider(Protocol):
    name: str
    # How long the provider remembers an idempotency key (None: for ever). After it, a retry could pay again.
    key_window: timedelta | None

    def refund(
        self, idempotency_key: str, amount: Money, destination: RefundDestination, original_payment_ref: str | None
    ) -> ProviderRefund:
        """Must be idempotent: the same key again returns the first result and moves no money."""
        ...
