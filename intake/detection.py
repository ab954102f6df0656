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


def overcharge_at_price(record: TransactionRecord, product: str, correct_unit_price_minor: int) -> Money | None:
    """What the sale overcharged had the till sold `product` at its right price: the same check as
    `POST /transactions` (`examine`), run on the sale's own lines with that price corrected. None when the sale
    holds no line of the product above that price, or the corrected sale shows no overcharge."""
    corrected = [line.model_copy(update={"unit_price_minor": correct_unit_price_minor})
                 if line.product == product and line.unit_price_minor > correct_unit_price_minor else line
                 for line in record.lines]
    if corrected == record.lines:
        return None
    finding, difference = examine(record.model_copy(update={"lines": corrected}))
    return difference if finding is Finding.overcharge else None
