"""Customers' STOPs: kept per tenant, address and channel, honoured by every case of that tenant from then on."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from schemas.channels import Channel, stopped_by
from schemas.phones import as_phone_address
from store.tables import ContactOptOutRow


def record_opt_out(session: Session, tenant: str, address: str, channel: Channel) -> list[Channel]:
    stopped = list(stopped_by(channel))
    address = as_phone_address(address)  # one number, however the carrier wrote it
    for each in stopped:
        session.add(ContactOptOutRow(tenant=tenant, address=address, channel=each))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
    return stopped


def opted_out_channels(session: Session, tenant: str, phone: str | None, email: str | None) -> list[Channel]:
    addresses = [address for address in (phone, email) if address]
    if not addresses:
        return []
    rows = session.exec(select(ContactOptOutRow.channel).where(
        ContactOptOutRow.tenant == tenant, col(ContactOptOutRow.address).in_(addresses))).all()
    return sorted({Channel(row) for row in rows})
