"""Inbound messages are stored before anything else happens to them, so no answer is ever dropped."""

from __future__ import annotations

import re

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from schemas.api import ReplyIn
from schemas.phones import as_phone_address
from schemas.progress import CaseStatus
from schemas.replies import ReplyIntent
from store.cases import add_timeline_entry
from store.tables import CaseRow, MessageRow, TimelineRow

_REFERENCE = re.compile(r"\b([0-9A-F]{8})\b", re.IGNORECASE)


def record_inbound(session: Session, tenant: str, case_id: str | None, reply: ReplyIn, intent: ReplyIntent | None,
                   sender_auth: str | None = None) -> bool:
    """Stores the reply (and a timeline line if it is matched). False when the carrier redelivered it. `intent`:
    as stated by an agent, or a STOP; None when the case reads the text itself."""
    key = f"in:{tenant}:{reply.channel}:{reply.provider_message_id}" if reply.provider_message_id else None
    row = MessageRow(case_id=case_id, tenant=tenant, idempotency_key=key, direction="in", channel=reply.channel,
                     from_address=reply.sender,
                     body=reply.text or (intent.model_dump_json(exclude_none=True) if intent else ""),
                     sender_auth=sender_auth)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return False
    if case_id is not None:
        add_timeline_entry(session, case_id, entry_key=_entry_key(case_id, row), step="contact",
                           actor=reply.sender or reply.channel,
                           note=f"customer replied on {reply.channel}" + (f": {intent.kind}" if intent else ""))
    session.commit()
    return True


class NoSuchReply(LookupError):
    """No inbound message of that id in the tenant (another tenant's is as if it did not exist)."""


class AlreadyAttached(Exception):
    """The reply is on a case already (matched when it came, or attached by someone): it is told to no case twice."""

    def __init__(self, case_id: str) -> None:
        super().__init__(case_id)
        self.case_id = case_id


def attach(session: Session, tenant: str, message_id: int, case_id: str, attached_by: str) -> MessageRow:
    """Places an unmatched reply on a case, with a timeline line saying who did. A conditional update: of two
    people attaching the same reply at once, one wins and the other gets `AlreadyAttached`. A reply a person
    attached to this very case already is returned again (its signal may not have gone out: the caller re-sends
    it); one matched when it came, or on another case, is `AlreadyAttached`."""
    claimed = session.exec(update(MessageRow).where(
        col(MessageRow.id) == message_id, col(MessageRow.tenant) == tenant, col(MessageRow.direction) == "in",
        col(MessageRow.case_id).is_(None)).values(case_id=case_id))
    row = session.get(MessageRow, message_id)
    if claimed.rowcount != 1:
        if row is None or row.tenant != tenant or row.direction != "in":
            raise NoSuchReply(message_id)
        attached_here = select(TimelineRow.id).where(TimelineRow.entry_key == _attached_key(case_id, message_id))
        if row.case_id != case_id or session.exec(attached_here).first() is None:
            raise AlreadyAttached(row.case_id)
        return row
    add_timeline_entry(session, case_id, entry_key=_attached_key(case_id, message_id), step="contact",
                       actor=attached_by,
                       note=f"customer's reply on {row.channel} of {row.created_at:%Y-%m-%d %H:%M} UTC, which matched "
                            f"no case, attached to this case by {attached_by}")
    session.commit()
    session.refresh(row)
    return row


def detach(session: Session, message_id: int, case_id: str) -> None:
    """Undoes `attach` when the case's workflow could not take the reply: it goes back to the inbox."""
    session.exec(update(MessageRow).where(col(MessageRow.id) == message_id, col(MessageRow.case_id) == case_id)
                 .values(case_id=None))
    session.exec(delete(TimelineRow).where(col(TimelineRow.entry_key) == _attached_key(case_id, message_id)))
    session.commit()


def _attached_key(case_id: str, message_id: int) -> str:
    """Its own key, not a matched reply's (`_entry_key`): it says a person placed the reply on this case."""
    return f"{case_id}:attached:{message_id}"


def _entry_key(case_id: str, row: MessageRow) -> str:
    return f"{case_id}:in:{row.id}"


def match_open_case(session: Session, tenant: str, sender: str, text: str) -> str | None:
    """The sender's open case in the tenant: the one whose reference the text quotes, else their only open case.

    Never a guess: a sender with several open cases and no reference stays unmatched, for an agent to see.
    """
    candidates = open_cases_of(session, tenant, sender)
    quoted = {match.upper() for match in _REFERENCE.findall(text)}
    by_reference = [case for case in candidates if case.reference in quoted]
    if len(by_reference) == 1:
        return by_reference[0].id
    return candidates[0].id if len(candidates) == 1 else None


def open_cases_of(session: Session, tenant: str, address: str) -> list[CaseRow]:
    address = as_phone_address(address)  # "040 123 4567" from a gateway is the case's +358401234567
    return list(session.exec(select(CaseRow).where(
        CaseRow.tenant == tenant, or_(CaseRow.customer_phone == address, CaseRow.customer_email == address),
        CaseRow.status != CaseStatus.closed)).all())


def unmatched(session: Session, tenant: str, limit: int) -> list[MessageRow]:
    return list(session.exec(select(MessageRow).where(MessageRow.direction == "in", col(MessageRow.case_id).is_(None),
                                                      MessageRow.tenant == tenant)
                             .order_by(col(MessageRow.id).desc()).limit(limit)).all())
