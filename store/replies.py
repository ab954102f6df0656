"""Inbound messages are stored before anything else happens to them, so no answer is ever dropped."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from schemas.api import ReplyIn
from schemas.replies import ReplyIntent
from store.cases import add_timeline_entry
from store.tables import MessageRow


def record_inbound(session: Session, case_id: str | None, reply: ReplyIn, intent: ReplyIntent) -> bool:
    """Stores the reply and a timeline line. False when the carrier already delivered this very message."""
    key = f"in:{reply.channel}:{reply.provider_message_id}" if reply.provider_message_id else None
    row = MessageRow(case_id=case_id, idempotency_key=key, direction="in", channel=reply.channel,
                     from_address=reply.sender, body=reply.text or intent.model_dump_json(exclude_none=True))
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return False
    if case_id is not None:
        add_timeline_entry(session, case_id, entry_key=f"{case_id}:in:{row.id}", step="contact",
                           actor=reply.sender or reply.channel,
                           note=f"customer replied on {reply.channel}: {intent.kind}")
    session.commit()
    return True
