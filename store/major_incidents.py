"""Major incidents in the read model: the declaration, its numbered affected customers (the fan-out's cursor runs
over `seq`), and the progress of their child cases, counted from the cases' own milestones."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, exists, func, or_, update
from sqlmodel import Session, select

from schemas.major_incidents import AffectedIn, Approval, ChildState, MajorIncidentIn, MajorStatus, Progress
from schemas.progress import CaseOutcome, CaseStatus
from schemas.refunds import normal_store
from store import cases
from store.tables import (
    AffectedCustomerRow,
    CaseRow,
    MajorIncidentRow,
    MessageRow,
    RefundRow,
    TransactionRow,
    utcnow,
)

_PAGE = 1000  # sales read per query while finding the affected: memory stays flat for a weekend of sales
# Closed children that did not recover their customer.
_FAILED = (CaseOutcome.unresolved, CaseOutcome.not_confirmed, CaseOutcome.not_approved)


def sales_in_window(session: Session, tenant: str, declared: MajorIncidentIn) -> Iterator[TransactionRow]:
    """The tenant's sales in the declared stores and window, a page at a time (a weekend of sales is not held
    in memory at once)."""
    start, end = declared.window_start, declared.window_end
    in_window = or_(and_(TransactionRow.sold_at >= start, TransactionRow.sold_at < end),
                    and_(TransactionRow.sold_at.is_(None), TransactionRow.received_at >= start,
                         TransactionRow.received_at < end))
    last_id = 0
    while True:
        page = session.exec(select(TransactionRow).where(
            TransactionRow.tenant == tenant, TransactionRow.store.in_(declared.stores), in_window,
            TransactionRow.id > last_id).order_by(TransactionRow.id).limit(_PAGE)).all()
        yield from page
        if len(page) < _PAGE:
            return
        last_id = page[-1].id


class Affected(NamedTuple):
    """An affected customer as found, and whether the engine checked them against the sale it holds."""

    customer: AffectedIn
    against_record: bool


def record_declaration(session: Session, row: MajorIncidentRow, affected: Iterator[Affected]) -> int:
    """The incident and its affected customers in one transaction; returns how many. One sale is one customer:
    a sale listed twice is kept once (its money event is paid once anyway)."""
    session.add(row)
    seen: set[tuple[str, str]] = set()
    for one, against_record in affected:
        if (one.store, one.transaction_ref) in seen:
            continue
        seen.add((one.store, one.transaction_ref))
        session.add(AffectedCustomerRow(major_id=row.id, seq=len(seen) - 1, store=one.store,
                                        transaction_ref=one.transaction_ref,
                                        customer=one.customer.model_dump(mode="json"),
                                        amount_minor=one.amount.amount_minor, currency=one.amount.currency,
                                        state=ChildState.pending, against_record=against_record))
    session.commit()
    return len(seen)


def sale_of(session: Session, tenant: str, one: AffectedIn) -> TransactionRow | None:
    """The sale the engine holds under a listed row's store (normalised, as the money event names it) and
    reference, if any."""
    sales = session.exec(select(TransactionRow).where(
        TransactionRow.tenant == tenant, TransactionRow.transaction_id == one.transaction_ref)).all()
    return next((sale for sale in sales if normal_store(sale.store) == normal_store(one.store)), None)


def claim_approval(session: Session, major_id: str, approval: Approval) -> bool:
    """The incident's one approval is this one: True for the first of any number at once (one conditional
    write), False once another has it."""
    claimed = session.exec(update(MajorIncidentRow).where(
        MajorIncidentRow.id == major_id, MajorIncidentRow.approved_by.is_(None),
        MajorIncidentRow.status == MajorStatus.awaiting_approval)
        .values(approved_by=approval.approved_by, cap_minor=approval.cap.amount_minor,
                currency=approval.cap.currency))
    session.commit()
    return claimed.rowcount == 1


def release_approval(session: Session, major_id: str, approval: Approval) -> None:
    """The approval did not reach the parent (Temporal away): the incident waits for one again."""
    session.exec(update(MajorIncidentRow).where(
        MajorIncidentRow.id == major_id, MajorIncidentRow.approved_by == approval.approved_by,
        MajorIncidentRow.status == MajorStatus.awaiting_approval)
        .values(approved_by=None, cap_minor=None, currency=None))
    session.commit()


def request_stop(session: Session, major_id: str) -> None:
    """A close or cancel was asked for (the first time counts)."""
    session.exec(update(MajorIncidentRow).where(MajorIncidentRow.id == major_id,
                                                MajorIncidentRow.stop_requested_at.is_(None))
                 .values(stop_requested_at=utcnow()))
    session.commit()


def stop_requested(session: Session, major_id: str) -> bool:
    return session.exec(select(MajorIncidentRow.stop_requested_at)
                        .where(MajorIncidentRow.id == major_id)).first() is not None


def affected_count(session: Session, major_id: str) -> int:
    return session.exec(select(func.count()).select_from(AffectedCustomerRow)
                        .where(AffectedCustomerRow.major_id == major_id)).one()


def visible_incident(session: Session, tenant: str, major_id: str) -> MajorIncidentRow | None:
    row = session.get(MajorIncidentRow, major_id)
    return row if row is not None and row.tenant == tenant else None


def pending_batch(session: Session, major_id: str, first_seq: int, count: int) -> list[AffectedCustomerRow]:
    return list(session.exec(select(AffectedCustomerRow).where(
        AffectedCustomerRow.major_id == major_id, AffectedCustomerRow.seq >= first_seq,
        AffectedCustomerRow.seq < first_seq + count,
        AffectedCustomerRow.state.in_((ChildState.pending, ChildState.opening)))
        .order_by(AffectedCustomerRow.seq)).all())


def mark_child(session: Session, major_id: str, seq: int, state: ChildState, case_id: str | None) -> None:
    session.exec(update(AffectedCustomerRow).where(AffectedCustomerRow.major_id == major_id,
                                                   AffectedCustomerRow.seq == seq)
                 .values(state=state, case_id=case_id))
    session.commit()


def settle_child(session: Session, major_id: str, seq: int, state: ChildState, case_id: str) -> bool:
    """Marks a row being opened as opened (or linked) with its case; False if it was withdrawn meanwhile (the
    parent ended while its case was being opened), which the row then stays."""
    settled = session.exec(update(AffectedCustomerRow).where(
        AffectedCustomerRow.major_id == major_id, AffectedCustomerRow.seq == seq,
        AffectedCustomerRow.state == ChildState.opening).values(state=state, case_id=case_id))
    session.commit()
    return settled.rowcount == 1


def claim_child(session: Session, major_id: str, seq: int, case_id: str) -> AffectedCustomerRow | None:
    """The row names its case before the case exists (one conditional write), and is read again: None if it was
    withdrawn meanwhile (an erasure, the parent's end), so no child is opened for it."""
    claimed = session.exec(update(AffectedCustomerRow).where(
        AffectedCustomerRow.major_id == major_id, AffectedCustomerRow.seq == seq,
        AffectedCustomerRow.state.in_((ChildState.pending, ChildState.opening)))
        .values(state=ChildState.opening, case_id=case_id))
    session.commit()
    if claimed.rowcount != 1:
        return None
    return session.exec(select(AffectedCustomerRow).where(AffectedCustomerRow.major_id == major_id,
                                                          AffectedCustomerRow.seq == seq)).one()


def count_in_state(session: Session, major_id: str, state: ChildState) -> int:
    return session.exec(select(func.count()).select_from(AffectedCustomerRow).where(
        AffectedCustomerRow.major_id == major_id, AffectedCustomerRow.state == state)).one()


def withdraw_pending(session: Session, major_id: str) -> None:
    """The customers not yet opened when the parent ends (pending, or being opened with no case recorded yet):
    never contacted."""
    no_case = ~exists().where(CaseRow.id == AffectedCustomerRow.case_id)
    session.exec(update(AffectedCustomerRow).where(
        AffectedCustomerRow.major_id == major_id,
        or_(AffectedCustomerRow.state == ChildState.pending,
            and_(AffectedCustomerRow.state == ChildState.opening, no_case)))
        .values(state=ChildState.withdrawn).execution_options(synchronize_session=False))
    session.commit()


def withdraw_unstarted_child(session: Session, major_id: str, case_id: str, outcome: CaseOutcome, actor: str,
                             note: str) -> bool:
    """A child whose case is recorded but whose workflow never started is closed with the parent, its kept input
    forgotten (no reconciler starts it later), and counted as withdrawn: False if it runs or is being started."""
    if not cases.withdraw_unstarted(session, case_id, outcome, actor, note, utcnow()):
        session.rollback()
        return False
    session.exec(update(AffectedCustomerRow).where(AffectedCustomerRow.major_id == major_id,
                                                   AffectedCustomerRow.case_id == case_id)
                 .values(state=ChildState.withdrawn))
    session.commit()
    return True


def open_children(session: Session, major_id: str, unreached_only: bool) -> list[str]:
    """Child cases still open (for a close: only those that have not reached their customer)."""
    query = (select(CaseRow.id).join(AffectedCustomerRow, AffectedCustomerRow.case_id == CaseRow.id)
             .where(AffectedCustomerRow.major_id == major_id,
                    AffectedCustomerRow.state.in_((ChildState.opened, ChildState.opening)),  # started, maybe unmarked
                    CaseRow.closed_at.is_(None)))
    if unreached_only:
        query = query.where(CaseRow.first_contact_at.is_(None))
    return list(session.exec(query.order_by(CaseRow.id)).all())  # in id order: a retried message resumes by id


def approved_child(session: Session, case_id: str) -> AffectedCustomerRow | None:
    """The affected-customer row a child case was opened for, once its incident is approved (not a row linked to
    a case the sale already had: that case is verified as it was reported)."""
    return session.exec(select(AffectedCustomerRow).join(
        MajorIncidentRow, MajorIncidentRow.id == AffectedCustomerRow.major_id).where(
        AffectedCustomerRow.case_id == case_id, AffectedCustomerRow.state.in_((ChildState.opening, ChildState.opened)),
        MajorIncidentRow.approved_by.is_not(None))).first()


def case_of_the_sale(session: Session, tenant: str, store: str, transaction_ref: str, own_case_id: str) -> str | None:
    """A case the tenant already has for this sale (any kind, any door, another major incident's child), opened
    before the child's own: the one that handles its customer. A cancelled case (an incident declared in error),
    one linked elsewhere, or, by the ledger's rule (`store.refunds`), a closed one that never reached the ledger
    (withdrawn, stopped by an earlier incident's close, not confirmed) does not count: it will never pay them."""
    never_paid = and_(CaseRow.status == CaseStatus.closed, ~exists().where(RefundRow.case_id == CaseRow.id))
    query = select(CaseRow.id, CaseRow.store).where(
        CaseRow.tenant == tenant, CaseRow.transaction_ref == transaction_ref, CaseRow.id != own_case_id,
        CaseRow.linked_to.is_(None), or_(CaseRow.outcome.is_(None), CaseRow.outcome != CaseOutcome.cancelled),
        ~never_paid)
    if (own := session.get(CaseRow, own_case_id)) is not None:  # a case opened after ours is linked to ours
        query = query.where(CaseRow.opened_at < own.opened_at)
    candidates = session.exec(query.order_by(CaseRow.opened_at)).all()
    return next((case_id for case_id, its_store in candidates
                 if its_store and normal_store(its_store) == normal_store(store)), None)


def progress_of(session: Session, major_id: str) -> tuple[Progress, datetime | None]:
    """The counts on the parent's view, and when its last customer was reached."""
    states = dict(session.exec(select(AffectedCustomerRow.state, func.count()).where(
        AffectedCustomerRow.major_id == major_id).group_by(AffectedCustomerRow.state)).all())
    child = and_(AffectedCustomerRow.major_id == major_id, AffectedCustomerRow.state == ChildState.opened)
    contacted = exists().where(MessageRow.case_id == CaseRow.id, MessageRow.direction == "out")
    row = session.exec(select(
        func.count(CaseRow.id).filter(contacted), func.count(CaseRow.first_contact_at),
        func.count(CaseRow.refunded_at), func.count(CaseRow.closed_at),
        func.count(CaseRow.id).filter(CaseRow.outcome.in_(_FAILED)), func.max(CaseRow.first_contact_at))
        .join(AffectedCustomerRow, AffectedCustomerRow.case_id == CaseRow.id).where(child)).one()
    progress = Progress(affected=sum(states.values()), opened=states.get(ChildState.opened, 0),
                        linked=states.get(ChildState.linked, 0), held=states.get(ChildState.held, 0),
                        withdrawn=states.get(ChildState.withdrawn, 0), contacted=row[0], reached=row[1],
                        refunded=row[2], closed=row[3], failed=row[4])
    return progress, row[5]
