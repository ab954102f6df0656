"""Case bookkeeping that has no outside effect of its own: decisions on the timeline, owners, closing."""

from __future__ import annotations

from sqlmodel import Session
from temporalio import activity

from providers.messaging import MessageSender
from schemas.steps import ActivityName, CaseEvent, CloseRequest
from schemas.webhooks import EventType
from store.cases import apply_progress
from store.db import session_for
from store.tables import CaseRow, StaffAccountRow, utcnow
from store.webhook_outbox import is_escalation, is_owner_warning, record_event


class CaseStoreActivities:
    def __init__(self, database_url: str, staff_email: MessageSender) -> None:
        self._database_url = database_url
        self._staff_email = staff_email

    @activity.defn(name=ActivityName.record_case_event)
    def record_case_event(self, event: CaseEvent) -> None:
        """Writes the timeline line (and owner) first, then tells staff: a retry never loses the line."""
        with session_for(self._database_url) as session:
            fields = {"owner": event.owner, "assigned_by": event.assigned_by} if event.owner else {}
            apply_progress(session, event.progress, entry_key=event.entry_key, **fields)
            if is_escalation(event.entry_key, event.notify):
                record_event(session, event.progress.case_id, EventType.escalated, f"{event.entry_key}:escalated")
            session.commit()
            recipient = _recipient(session, event)
        if recipient:
            subject = f"[{event.progress.case_id}] {event.progress.note}"[:150]
            self._staff_email.send(f"{event.entry_key}:notify", recipient, subject, event.progress.note)

    @activity.defn(name=ActivityName.close_case)
    def close_case(self, request: CloseRequest) -> None:
        with session_for(self._database_url) as session:
            apply_progress(session, request.progress, entry_key=f"{request.progress.case_id}:close",
                           closed_at=utcnow(), outcome=request.outcome, satisfaction=request.satisfaction)
            session.commit()


def _recipient(session: Session, event: CaseEvent) -> str | None:
    """Where the notice goes. The owner's warning goes to the owning account's email: the workflow names an
    address made from the owner's id and the staff domain (`RecoveryPolicy.owner_address`, from before owners
    were accounts), which is not where the account reads its mail."""
    if event.notify is None or not is_owner_warning(event.entry_key):
        return event.notify
    case = session.get(CaseRow, event.progress.case_id)
    account = session.get(StaffAccountRow, case.owner) if case is not None and case.owner else None
    if account is None or account.tenant != case.tenant:
        return event.notify  # no owner (the supervisors were named) or none that is an account
    return account.email
