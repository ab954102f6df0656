"""The engine's own check of a till record: recompute the total, compare with what was charged."""

from __future__ import annotations

import hashlib
from enum import StrEnum

from schemas.incidents import Customer, IncidentIn, IncidentKind, IncidentSource
from schemas.money import Money
from schemas.transactions import TransactionRecord

# A till that does not know its customer still gets a case: the refund can go back to the card.
UNIDENTIFIED = Customer(name="Customer")


class Finding(StrEnum):
    correct = "correct"
    overcharge = "overcharge"
    undercharge = "undercharge"


def examine(record: TransactionRecord) -> tuple[Finding, Money]:
    """The finding and the (non-negative) difference between what was charged and what was right."""
    signed = record.charged().minus(record.correct_total())
    difference = Money(amount_minor=abs(signed), currency=record.currency)
    if signed > 0:
        return Finding.overcharge, difference
    if signed < 0:
        return Finding.undercharge, difference
    return Finding.correct, difference


def incident_from(record: TransactionRecord, finding: Finding, difference: Money) -> IncidentIn:
    return IncidentIn(
        external_id=transaction_external_id(record),
        kind=IncidentKind(finding), source=IncidentSource.transaction_monitor,
        customer=record.customer or UNIDENTIFIED, amount=difference, store=record.store,
        transaction_ref=record.transaction_id,
        description=f"charged {record.charged()}, correct total {record.correct_total()}",
    )


def transaction_external_id(record: TransactionRecord) -> str:
    """One case per till transaction, however often the till resends it (store names may hold any text)."""
    digest = hashlib.sha256(f"{record.store}\x00{record.transaction_id}".encode()).hexdigest()
    return f"txn-{digest[:32]}"
