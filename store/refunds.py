"""The refund ledger: reserve a money event before anyone is paid, settle it once, by one route."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from schemas.cases import RefundView
from schemas.money import Money
from schemas.progress import CaseStatus
from schemas.refunds import RefundRequest, RefundRoute, RefundStatus, money_event_of, provider_key
from schemas.webhooks import EventType
from store.cases import insert_once
from store.tables import CaseRow, MoneyEventRow, RefundRow, utcnow
from store.webhook_outbox import record_event

SETTLED = (RefundStatus.paid, RefundStatus.awaiting_pickup)
OPEN_AT_PROVIDER = (RefundStatus.reserved, RefundStatus.unknown)  # a provider's (late) answer may still settle
AWAITING_CONFIRMATION = (RefundStatus.refused, *OPEN_AT_PROVIDER)  # the owner may confirm a payment


def claim_money_event(session: Session, key: str, case_id: str) -> str:
    """The case that owns the money event: this one if it is the first to name it, else the first one, unless
    that one closed without ever reaching the ledger (rejected, cancelled, closed by hand): a report linked to it
    would never be paid, so this case takes the event over (a conditional update: one taker wins)."""
    claimed = session.exec(insert_once(session, MoneyEventRow).values(key=key, case_id=case_id, created_at=utcnow()))
    session.commit()
    if claimed.rowcount == 1:  # ours: no read needed (intake's hot path)
        return case_id
    owner = session.exec(select(MoneyEventRow.case_id).where(MoneyEventRow.key == key)).one()
    if owner == case_id or _still_handles(session, owner):
        return owner
    taken = session.exec(update(MoneyEventRow).where(col(MoneyEventRow.key) == key, col(MoneyEventRow.case_id) == owner)
                         .values(case_id=case_id))
    session.commit()
    if taken.rowcount == 1:
        return case_id
    return session.exec(select(MoneyEventRow.case_id).where(MoneyEventRow.key == key)).one()  # another took it


def _still_handles(session: Session, case_id: str) -> bool:
    """Open, or it reached the ledger (paid, in flight, out of time, refused and owed by hand): money may have
    moved or be owed, so the event stays its own."""
    case = session.get(CaseRow, case_id)
    if case is None or case.status != CaseStatus.closed:
        return True
    return session.exec(select(RefundRow.id).where(RefundRow.case_id == case_id)).first() is not None


def claim_sale_of(session: Session, case_id: str) -> str:
    """A case opened before the ledger pays under its own event (`case:<id>`); it still claims its sale's event
    (a report of the same sale after the deploy names that one), and yields to a case that claimed it first."""
    case = session.get(CaseRow, case_id)
    sale = money_event_of(case.tenant, case.kind, case.store, case.transaction_ref, case_id)
    return case_id if sale == f"case:{case_id}" else claim_money_event(session, sale, case_id)


def reserve(session: Session, request: RefundRequest) -> RefundRow:
    """The ledger row of the request's money event: this call's new reservation, or whatever is there already
    (a retry's own reservation, another case's payment). The unique money event decides; no read comes first."""
    session.exec(insert_once(session, RefundRow).values(
        case_id=request.case_id, money_event=request.event, idempotency_key=request.provider_key,
        amount_minor=request.amount.amount_minor, currency=request.amount.currency,
        destination=request.destination.kind, status=RefundStatus.reserved, route=RefundRoute.provider,
        created_at=utcnow()))
    session.commit()
    return session.exec(select(RefundRow).where(RefundRow.money_event == request.event)).one()


def settle(session: Session, row: RefundRow, status: RefundStatus, provider: str, provider_ref: str) -> bool:
    """Records the provider's answer, unless the event was settled meanwhile (a late answer after the owner paid by
    hand): False then, and the row keeps the hand payment. The conditional update decides, not the row read before."""
    moved = session.exec(update(RefundRow).where(
        col(RefundRow.id) == row.id, col(RefundRow.status).in_(OPEN_AT_PROVIDER),
    ).values(status=status, provider=provider, provider_ref=provider_ref, settled_at=utcnow()))
    session.refresh(row)
    return moved.rowcount == 1


def refuse(session: Session, row: RefundRow, provider: str) -> None:
    """The provider said no for good: the event stays reserved to this case, for a hand payment only. A late
    refusal never turns a row settled meanwhile (by hand) back: the conditional update decides."""
    session.exec(update(RefundRow).where(col(RefundRow.id) == row.id, col(RefundRow.status).in_(OPEN_AT_PROVIDER))
                 .values(status=RefundStatus.refused, provider=provider))
    session.refresh(row)


def outcome_unknown(session: Session, case_id: str, money_event: str) -> None:
    """The provider gave no answer in time: the reservation becomes `unknown` (it may have paid), so the owner
    checks the provider and confirms either its refund id or a payment by hand."""
    session.exec(update(RefundRow).where(
        col(RefundRow.case_id) == case_id, col(RefundRow.money_event) == money_event,
        col(RefundRow.status) == RefundStatus.reserved).values(status=RefundStatus.unknown))
    session.commit()


def record_hand_payment(session: Session, case_id: str, by: str, reference: str,
                        owed: Money, destination: str, route: RefundRoute = RefundRoute.by_hand) -> RefundRow | None:
    """Settles this case's refund that the provider refused or did not answer in time (reserved, unknown) as paid by
    hand, or, with `route` provider, as the provider's refund `reference` found by the owner. None when there is
    none to settle (already settled, by hand or by a late provider answer): the conditional update, not a prior
    read, decides, so two confirmations make one. The caller only asks while the workflow waits for it.

    A case with no row (refused before the ledger existed, or out of time before its attempt reserved one) gets
    one now, for the amount and destination the workflow holds (`owed`), under the money event the case owns (its
    own case's, for a case from before the ledger)."""
    paid = dict(status=RefundStatus.paid, route=route, recorded_by=by, reference=reference, settled_at=utcnow(),
                **({"provider_ref": reference} if route is RefundRoute.provider else {}))
    moved = session.exec(update(RefundRow).where(
        col(RefundRow.case_id) == case_id, col(RefundRow.status).in_(AWAITING_CONFIRMATION)).values(**paid))
    no_row = session.exec(select(RefundRow.id).where(RefundRow.case_id == case_id)).first() is None
    if moved.rowcount == 0 and no_row:
        owned = session.exec(select(MoneyEventRow.key).where(MoneyEventRow.case_id == case_id)
                             .order_by(col(MoneyEventRow.created_at))).first()
        event = owned or f"case:{case_id}"
        moved = session.exec(insert_once(session, RefundRow).values(
            case_id=case_id, money_event=event, idempotency_key=provider_key(event),
            amount_minor=owed.amount_minor, currency=owed.currency, destination=destination,
            created_at=utcnow(), **paid))
    if moved.rowcount == 0:
        session.rollback()
        return None
    # The case's time to refund counts a hand payment like any other (S6), and its integrator hears of it.
    session.exec(update(CaseRow).where(col(CaseRow.id) == case_id)
                 .values(refunded_at=func.coalesce(CaseRow.refunded_at, utcnow())))
    record_event(session, case_id, EventType.refund_paid, f"{case_id}:refund_paid", amount=owed)
    session.commit()
    return session.exec(select(RefundRow).where(RefundRow.case_id == case_id)).one()


def settled_refund(session: Session, case_id: str) -> RefundRow | None:
    """This case's refund if the money moved, by whichever route."""
    return session.exec(select(RefundRow).where(RefundRow.case_id == case_id,
                                                col(RefundRow.status).in_(SETTLED))).first()


def refunds_of(session: Session, case_id: str) -> list[RefundView]:
    """What this case paid (or has waiting at the desk), by either route."""
    rows = session.exec(select(RefundRow).where(RefundRow.case_id == case_id, col(RefundRow.status).in_(SETTLED))
                        .order_by(RefundRow.id)).all()
    return [RefundView(id=row.id, amount=Money(amount_minor=row.amount_minor, currency=row.currency),
                       destination=row.destination, status=row.status, route=row.route,
                       provider_ref=row.provider_ref, reference=row.reference, recorded_by=row.recorded_by,
                       created_at=row.created_at, settled_at=row.settled_at)
            for row in rows]
