"""Customers' STOPs: kept per address and channel, honoured by every case from then on."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from schemas.channels import Channel
from schemas.phones import as_phone_address
from store.tables import ContactOptOutRow

# A STOP to our texts also stops our calls to that number: the customer asked us to leave them alone.
_STOPPED_TOGETHER = {Channel.sms: [Channel.sms, Channel.voice], Channel.email: [Channel.email]}


def record_opt_out(session: Session, address: str, channel: Channel) -> list[Channel]:
    stopped = _STOPPED_TOGETHER.get(channel, [channel])
    address = as_phone_address(address)  # one number, however the carrier wrote it
    for each in stopped:
        session.add(ContactOptOutRow(address=address, channel=each))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
    return stopped


def opted_out_channels(session: Session, phone: str | None, email: str | None) -> list[Channel]:
    addresses = [address for address in (phone, email) if address]
    if not addresses:
        return []
    rows = session.exec(select(ContactOptOutRow.channel).where(col(ContactOptOutRow.address).in_(addresses))).all()
    return sorted({Channel(row) for row in rows})
