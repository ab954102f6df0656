"""A payment provider that keeps its ledger in our database: the default outside production."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from providers.faults import NO_FAULTS, FaultPlan
from providers.payments import ProviderRefund
from schemas.money import Money
from schemas.refunds import RefundStatus
from schemas.replies import RefundDestination, RefundDestinationKind
from store.db import session_for
from store.tables import SandboxLedgerEntry


class SandboxPayments:
    name = "sandbox"
    key_window = None  # its ledger keeps every key

    def __init__(self, database_url: str, faults: FaultPlan = NO_FAULTS) -> None:
        self._database_url = database_url
        self.faults = faults

    def refund(
        self, idempotency_key: str, amount: Money, destination: RefundDestination, original_payment_ref: str | None
    ) -> ProviderRefund:
        self.faults.before_effect()
        entry = self._book_once(idempotency_key, amount, destination)
        self.faults.after_effect()
        status = (RefundStatus.awaiting_pickup if destination.kind is RefundDestinationKind.service_desk
                  else RefundStatus.paid)
        return ProviderRefund(provider_ref=f"sbx_re_{entry.id}", status=status)

    def _book_once(self, key: str, amount: Money, destination: RefundDestination) -> SandboxLedgerEntry:
        with session_for(self._database_url) as session:
            entry = SandboxLedgerEntry(idempotency_key=key, amount_minor=amount.amount_minor,
                                       currency=amount.currency, destination=destination.kind)
            session.add(entry)
            try:
                session.commit()
                return entry
            except IntegrityError:
                session.rollback()
                return session.exec(select(SandboxLedgerEntry).where(SandboxLedgerEntry.idempotency_key == key)).one()
