"""A carrier that delivers into our database (table `sandbox_outbox`): the default outside production."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from providers.faults import NO_FAULTS, FaultPlan
from providers.messaging import Delivery
from schemas.messages import Channel, DeliveryStatus
from store.db import session_for
from store.tables import SandboxOutboxEntry


class SandboxSender:
    name = "sandbox"

    def __init__(self, database_url: str, channel: Channel, faults: FaultPlan = NO_FAULTS) -> None:
        self._database_url = database_url
        self.channel = channel
        self.faults = faults

    def send(self, idempotency_key: str, to: str, subject: str, body: str) -> Delivery:
        self.faults.before_effect()
        with session_for(self._database_url) as session:
            entry = SandboxOutboxEntry(idempotency_key=idempotency_key, channel=self.channel, to_address=to, body=body)
            session.add(entry)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                entry = session.exec(
                    select(SandboxOutboxEntry).where(SandboxOutboxEntry.idempotency_key == idempotency_key)
                ).one()
        self.faults.after_effect()
        return Delivery(provider_ref=f"sbx_msg_{entry.id}", status=DeliveryStatus.delivered)
