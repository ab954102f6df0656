"""Refunds: paid at most once per money event (this overcharge on this sale), whoever reports it, however often,
whatever retries or crashes happen, and by exactly one route (the provider, or a person by hand)."""

from __future__ import annotations

import hashlib
import unicodedata
from enum import StrEnum

from pydantic import BaseModel, Field

from schemas.incidents import IncidentIn, IncidentKind
from schemas.money import Money
from schemas.progress import CaseProgress
from schemas.replies import RefundDestination

# Money paid back on one sale, whatever the report calls it: an overcharge, the same sale bought twice, a
# complaint asking for its loss. (An undercharge pays nobody: its reports are one event of their own.)
_PAID_ON_A_SALE = frozenset({IncidentKind.overcharge, IncidentKind.duplicate_purchase, IncidentKind.complaint})


def sale_event_key(tenant: str, store: str, transaction_ref: str) -> str:
    """One sale of one tenant, however its store is written ("Prisma Kaleva", "prisma  kaleva ")."""
    sale = hashlib.sha256(f"{tenant}\x00{normal_store(store)}\x00{transaction_ref.strip()}".encode()).hexdigest()
    return f"sale:{sale[:40]}"


def normal_store(store: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", store).casefold().split())


def money_event_key(tenant: str, incident: IncidentIn, case_id: str) -> str:
    """The thing that is paid back once. Money back on a sale: tenant + store (normalised) + transaction, whoever
    reports it and as whatever kind, so the till's `POST /transactions`, the contact centre's `POST /incidents`
    and a complaint about the same sale name one event. Anything else (a complaint without a sale reference, a
    report without one) is its own case's event."""
    return money_event_of(tenant, incident.kind, incident.store, incident.transaction_ref, case_id)


def money_event_of(tenant: str, kind: str, store: str | None, transaction_ref: str | None, case_id: str) -> str:
    """`money_event_key` from a case's recorded facts (a case opened before the ledger has only those)."""
    if store and transaction_ref:
        if kind in _PAID_ON_A_SALE:
            return sale_event_key(tenant, store, transaction_ref)
        if kind == IncidentKind.undercharge:
            return f"{sale_event_key(tenant, store, transaction_ref)}:undercharge"
    return f"case:{case_id}"


def linked_at_intake(incident: IncidentIn) -> bool:
    """A second report of an error on a sale is closed at intake, linked to the first. A complaint is never: it
    has a person's reply and goodwill of its own to give; only its refund is the sale's, paid by whichever case
    reaches the ledger first."""
    return incident.kind is not IncidentKind.complaint


def provider_key(money_event: str) -> str:
    """The payment provider's idempotency key: from the money event, never from the case that happens to pay it."""
    return f"refund:{hashlib.sha256(money_event.encode()).hexdigest()[:48]}"


class RefundStatus(StrEnum):
    reserved = "reserved"  # the ledger row is ours; the provider is being asked
    paid = "paid"
    awaiting_pickup = "awaiting_pickup"  # cash waits for the customer at the service desk
    refused = "refused"  # the provider refused for good; the owner may pay by hand
    unknown = "unknown"  # the provider did not answer in time: it may have paid; the owner checks, then confirms

    @property
    def settled(self) -> bool:
        """The money moved (or waits at the desk): nothing more may be paid for this event."""
        return self in (RefundStatus.paid, RefundStatus.awaiting_pickup)


class RefundRoute(StrEnum):
    provider = "provider"
    by_hand = "by_hand"  # the owner or a supervisor paid it and recorded the payment's reference


class RefundRequest(BaseModel):
    case_id: str
    money_event: str | None = Field(default=None, description="None in cases opened before the ledger: the case's.")
    amount: Money
    destination: RefundDestination
    original_payment_ref: str | None = None
    progress: CaseProgress

    @property
    def event(self) -> str:
        return self.money_event or f"case:{self.case_id}"

    @property
    def provider_key(self) -> str:
        """The money event's key; a case opened before the ledger keeps the key it paid with then (a refund in
        flight across the deploy must reach the provider under the same key, or a retry could pay twice)."""
        return provider_key(self.money_event) if self.money_event else f"{self.case_id}:refund"


class RefundResult(BaseModel):
    """The ledger's answer. `paid_in_case` names the case that owns the money event: when it is another case,
    nothing was paid in this one (and no ledger row is this case's)."""

    refund_id: int | None = None
    status: RefundStatus | None = None
    provider: str | None = None
    provider_ref: str | None = None
    amount: Money
    route: RefundRoute = RefundRoute.provider
    paid_in_case: str | None = None
