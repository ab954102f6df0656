"""The webhook outbox: which change of a case is which event, written in the transaction that makes the change.

A crash can therefore never leave a case moved but its event unsent: the row is there or the change is not.
The relay (`webhooks/relay.py`) hands new rows to the delivery workflows.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, col, func, select

from schemas.money import Money
from schemas.progress import CaseOutcome, CaseProgress, CaseStatus
from schemas.webhooks import EventData, EventPayload, EventType
from sla.clock import SlaState
from store.dialects import insert_for
from store.tables import CaseRow, RefundRow, WebhookEventRow, utcnow

# The workflow keys an SLA notice `<case id>:sla:<clock>:<level>` (workflows/promises.py); level 1 (`Level.
# owner_warned`) warns the owner.
_OWNER_WARNING = re.compile(r":sla:[a-z_]+:1$")
_SLA_EVENTS = {SlaState.at_risk: EventType.sla_at_risk, SlaState.breached: EventType.sla_breached}


def record_progress_events(session: Session, progress: CaseProgress, entry_key: str,
                           fields: Mapping[str, Any]) -> None:
    """The events a read-model step means, told by the milestones it sets (see `store.cases.apply_progress`)."""
    case_id = progress.case_id
    if "first_contact_at" in fields:  # set only when a message reached the customer
        record_event(session, case_id, EventType.customer_reached, f"{case_id}:customer_reached")
        if progress.status is CaseStatus.waiting_on_customer:
            record_event(session, case_id, EventType.awaiting_customer, f"{entry_key}:awaiting_customer")
    if "refunded_at" in fields:
        record_event(session, case_id, EventType.refund_paid, f"{case_id}:refund_paid",
                     amount=_refunded(session, case_id))
    if "closed_at" in fields:
        cancelled = fields.get("outcome") == CaseOutcome.cancelled  # POST /cases/{id}/cancel
        record_event(session, case_id, EventType.cancelled if cancelled else EventType.closed, f"{case_id}:closed")
    worst = progress.sla.worst if progress.sla is not None else None
    if worst in _SLA_EVENTS:
        record_event(session, case_id, _SLA_EVENTS[worst], f"{case_id}:{_SLA_EVENTS[worst]}")


def is_escalation(entry_key: str, notify: str | None) -> bool:
    """A notice to staff above the owner. Warning the owner at 75 % of a target is `sla.at_risk`, not this."""
    return notify is not None and not is_owner_warning(entry_key)


def is_owner_warning(entry_key: str) -> bool:
    return _OWNER_WARNING.search(entry_key) is not None


def record_event(session: Session, case_id: str, event_type: EventType, event_key: str,
                 amount: Money | None = None) -> None:
    """Adds the event once per key, numbered after the case's earlier events. Does not commit (the caller's
    change and its event land together). Two steps of one case racing for a number: one fails and retries."""
    if session.exec(select(WebhookEventRow.id).where(WebhookEventRow.event_key == event_key)).first():
        return
    case = session.exec(select(CaseRow).where(CaseRow.id == case_id).execution_options(populate_existing=True)).one()
    sequence = session.exec(select(func.coalesce(func.max(WebhookEventRow.sequence), 0))
                            .where(WebhookEventRow.case_id == case_id)).one() + 1
    _add_event(session, case, event_type, event_key, sequence, amount)


def record_first_event(session: Session, case: CaseRow, event_type: EventType, event_key: str) -> None:
    """The event of a case row just inserted in this transaction: its first, so nothing needs reading (intake's
    hot path, make bench a). Case rows are never deleted (erasure redacts them), so no event of this case id can
    exist yet; a racing second insert of the same case fails on the case's own keys before it gets here."""
    _add_event(session, case, event_type, event_key, sequence=1)


def _add_event(session: Session, case: CaseRow, event_type: EventType, event_key: str, sequence: int,
               amount: Money | None = None) -> None:
    case_id = case.id
    now = utcnow()
    payload = EventPayload(type=event_type, timestamp=now, data=EventData(
        case_id=case_id, external_id=case.external_id, kind=case.kind, status=case.status, step=case.step,
        sequence=sequence, amount=amount or _case_amount(case), outcome=case.outcome, satisfaction=case.satisfaction,
        links={"case": f"/cases/{case_id}", "timeline": f"/cases/{case_id}/timeline"}))
    session.exec(insert_for(session, WebhookEventRow).values(
        id=event_id_for(event_key), event_key=event_key, case_id=case_id, tenant=case.tenant,
        integrator=case.integrator, type=event_type, sequence=sequence, payload=payload.model_dump(mode="json"),
        created_at=now,
    ).on_conflict_do_nothing(index_elements=["event_key"]))


def event_id_for(event_key: str) -> str:
    """The `webhook-id`: derived from what happened, so a retried step names the same message."""
    return "msg_" + hashlib.sha256(event_key.encode()).hexdigest()[:28]


def pending_events(session: Session, limit: int) -> list[WebhookEventRow]:
    return list(session.exec(select(WebhookEventRow).where(col(WebhookEventRow.dispatched_at).is_(None))
                             .order_by(col(WebhookEventRow.created_at), col(WebhookEventRow.sequence))
                             .limit(limit)).all())


def _case_amount(case: CaseRow) -> Money | None:
    return Money(amount_minor=case.amount_minor, currency=case.currency) if case.currency else None


def _refunded(session: Session, case_id: str) -> Money | None:
    row = session.exec(select(RefundRow).where(RefundRow.case_id == case_id).order_by(col(RefundRow.id).desc())).first()
    return Money(amount_minor=row.amount_minor, currency=row.currency) if row else None
