"""A carrier that delivers into our database (table `sandbox_outbox`): the default outside production."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from providers.faults import NO_FAULTS, FaultPlan
from providers.messaging import Delivery, refuse_header_breaks
from schemas.channels import Channel
from schemas.messages import DeliveryStatus
from store.db import session_for
from store.tables import SandboxOutboxEntry


class SandboxSender:
    """Delivers everything, except to addresses it has been told to fail: `outcomes` maps an address to the
    status it gets (no_answer for a call that rings out, bounced for an email, failed, rejected)."""

    name = "sandbox"

    def __init__(self, database_url: str, channel: Channel, faults: FaultPlan = NO_FAULTS,
                 outcomes: dict[str, DeliveryStatus] | None = None) -> None:
        self._database_url = database_url
        self.channel = channel
        self.faults = faults
        self.outcomes = outcomes if outcomes is not None else {}

    def send(self, idempotency_key: str, to: str, subject: str, body: str) -> Delivery:
        refuse_header_breaks(subject)  # as a real carrier would, so tests see what production would
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
        return Delivery(provider_ref=f"sbx_msg_{entry.id}", status=self.outcomes.get(to, DeliveryStatus.delivered))
