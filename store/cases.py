"""The case read model: opening a case once per external id, moving it along, and reading it back."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, or_, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, func, select

from schemas.cases import CaseSummary, MessageView, TimelineEntryView
from schemas.incidents import IncidentIn
from schemas.money import Money
from schemas.progress import CaseOutcome, CaseProgress, CaseStatus, CaseStep
from schemas.webhooks import EventType
from store.dialects import insert_for
from store.tables import CaseRow, MessageRow, TimelineRow, utcnow
from store.webhook_outbox import record_event, record_first_event, record_progress_events

SYSTEM_ACTOR = "engine"
NOTE_STEP = CaseStep.note


def open_case(
    session: Session, case_id: str, reference: str, tenant: str, integrator: str, incident: IncidentIn,
    opened_at: datetime, owner: str | None, priority: str = "normal", start_payload: bytes | None = None,
    assigned_by: str | None = None,
) -> tuple[CaseRow, bool]:
    """Inserts the case, or returns the one this integrator of this tenant already opened with this external id.

    The unique constraint, not a prior look-up, decides: two concurrent posts cannot both create.
    `start_payload` is the sealed workflow input, kept until the workflow is known to run. `assigned_by`: the
    integrator that nominated the owner, if one did.
    """
    row = CaseRow(
        id=case_id, reference=reference, owner=owner, assigned_by=assigned_by, priority=priority, tenant=tenant,
        integrator=integrator,
        external_id=incident.external_id, kind=incident.kind, source=incident.source, status=CaseStatus.open,
        step=CaseStep.intake,
        customer_name=incident.customer.name, customer_phone=incident.customer.phone,
        customer_email=incident.customer.email, store=incident.store,
        amount_minor=incident.amount.amount_minor if incident.amount else None,
        currency=incident.amount.currency if incident.amount else None,
        transaction_ref=incident.transaction_ref, opened_at=opened_at, start_payload=start_payload,
    )
    session.add(row)
    session.add(TimelineRow(case_id=case_id, entry_key=f"{case_id}:intake", at=opened_at, step=CaseStep.intake,
                            actor=integrator, note=f"{incident.kind} incident reported by {incident.source}"))
    try:
        session.flush()  # the unique constraint decides here; the event below lands with the case or not at all
        record_first_event(session, row, EventType.case_opened, f"{case_id}:opened")
        session.commit()
        return row, True
    except IntegrityError:
        session.rollback()
        return existing_case(session, tenant, integrator, incident.external_id), False


def existing_case(session: Session, tenant: str, integrator: str, external_id: str) -> CaseRow | None:
    """The case this integrator of this tenant opened with this external id, if it did."""
    return session.exec(select(CaseRow).where(CaseRow.tenant == tenant, CaseRow.integrator == integrator,
                                              CaseRow.external_id == external_id)).one_or_none()


def link_to(session: Session, row: CaseRow, owner_case_id: str, reporter: str) -> None:
    """Closes a case that reports a money event another case already handles: it pays nothing, contacts nobody,
    and its view names the case that does. The other case's row learns the addresses this report knows, as its
    workflow does (`contact_reported`), so the customer's replies find it."""
    owner = session.get(CaseRow, owner_case_id)
    if owner is not None and owner.customer_phone is None and owner.customer_email is None:
        owner.customer_name = row.customer_name
    if owner is not None:
        owner.customer_phone = owner.customer_phone or row.customer_phone
        owner.customer_email = owner.customer_email or row.customer_email
        session.add(owner)
    row.linked_to, row.status, row.step, row.outcome = owner_case_id, CaseStatus.closed, CaseStep.close, "linked"
    row.start_payload = None  # no workflow for it, ever: the reconciler must not start one either
    row.closed_at = row.updated_at = utcnow()
    session.add(row)
    session.add(TimelineRow(case_id=row.id, entry_key=f"{row.id}:linked", step=CaseStep.close, actor=reporter,
                            note=f"the same money event as case {owner_case_id}, which pays it and talks to the "
                                 "customer: nothing is paid or sent from this case"))
    record_event(session, row.id, EventType.closed, f"{row.id}:closed")  # its integrator heard it opened
    # The owner of the first case learns of the second report (it may know the customer better).
    session.add(TimelineRow(case_id=owner_case_id, entry_key=f"{owner_case_id}:reported-again:{row.id}",
                            step=CaseStep.intake, actor=reporter,
                            note=f"reported again by {reporter} as case {row.id} (linked here, closed there)"))
    session.commit()


def contact_not_handed_over(session: Session, owner_case_id: str, reported_as: str) -> None:
    """Says on the owning case, while it is open, that a linked report's contact details are on its row but did
    not reach its workflow (not running: its start waits for the reconciler): its owner reaches the customer."""
    owner = session.get(CaseRow, owner_case_id)
    if owner is None or owner.status == CaseStatus.closed:
        return  # finished: nothing is left to ask
    add_timeline_entry(session, owner_case_id, f"{owner_case_id}:contact-not-handed:{reported_as}",
                       CaseStep.intake, "intake",
                       f"case {reported_as} reported how to reach the customer, but this case's workflow was not "
                       "running to take it: the details are on the case; please reach the customer by hand")
    session.commit()


def apply_progress(session: Session, progress: CaseProgress, entry_key: str, **case_fields: Any) -> None:
    """Moves the case's status and step, sets any given fields, and adds one timeline line (once per key).

    Does not commit: the caller commits it together with its own write, so both land or neither.
    """
    now = utcnow()
    # Only forward: an activity finishing late (a watch's timeline line, a retry) carries an older `seq` and moves
    # no status back, and nothing reopens a closed case. Milestones and the timeline line are written anyway.
    newer = and_(CaseRow.progress_seq <= progress.seq,
                 or_(CaseRow.status != CaseStatus.closed, progress.status == CaseStatus.closed))
    moving = {"status": progress.status, "step": progress.step, "progress_seq": progress.seq}
    if progress.sla is not None:
        moving |= {"priority": progress.sla.priority, "sla_state": progress.sla.worst,
                   "sla_due_at": progress.sla.next_deadline}
    values: dict[str, Any] = {name: case((newer, value), else_=getattr(CaseRow, name))
                              for name, value in moving.items()}
    # Progress proves the workflow runs, so its sealed input is no longer needed here (one column, same UPDATE).
    values |= {"updated_at": now, "start_payload": None}
    for name, value in case_fields.items():
        column = getattr(CaseRow, name)
        if name in _SET_ONCE:
            values[name] = func.coalesce(column, value)
        elif name in _ORDERED and progress.seq > 0:  # a late retry of an older handover moves no owner back
            values[name] = case((newer, value), else_=column)
        else:
            values[name] = value
    # Two statements, no reads: this runs once per case step, on the hot path (make bench, b).
    moved = session.exec(update(CaseRow).where(CaseRow.id == progress.case_id).values(**values))
    if moved.rowcount == 0:
        raise LookupError(f"no case {progress.case_id} in the read model")
    timeline_line = {"case_id": progress.case_id, "entry_key": entry_key, "at": now, "step": progress.step,
                     "actor": SYSTEM_ACTOR, "note": progress.note}
    session.exec(insert_once(session, TimelineRow).values(**timeline_line))
    record_progress_events(session, progress, entry_key, case_fields)  # webhooks out, in the same transaction


def insert_once(session: Session, table: type[SQLModel]):
    """INSERT ... ON CONFLICT DO NOTHING, in the database's own dialect: a retried step writes its line once."""
    return insert_for(session, table).on_conflict_do_nothing()


# Milestones keep their first time: a retried activity must not move "time to first contact".
_SET_ONCE = frozenset({"first_contact_at", "refunded_at", "closed_at"})
# Who owns the case and who handed it over follow the workflow's order of writes, as status and step do.
_ORDERED = frozenset({"owner", "assigned_by"})


def pending_starts(session: Session, opened_before: datetime, now: datetime,
                   limit: int) -> list[tuple[str, bytes, int]]:
    """Cases whose workflow is not known to run and whose next try is due, oldest first: (case id, sealed
    workflow input, failed starts so far). A case whose start failed waits until its `start_retry_at`, so it
    cannot hold the head of the queue."""
    query = (select(CaseRow.id, CaseRow.start_payload, CaseRow.start_attempts)
             .where(col(CaseRow.start_payload).is_not(None), CaseRow.opened_at < opened_before,
                    or_(col(CaseRow.start_retry_at).is_(None), col(CaseRow.start_retry_at) <= now))
             .order_by(col(CaseRow.opened_at)).limit(limit))
    return [(case_id, payload, attempts) for case_id, payload, attempts in session.exec(query).all()]


def mark_started(session: Session, case_id: str) -> None:
    """Temporal holds the case's workflow (started now or before): forget the sealed input."""
    session.exec(update(CaseRow).where(CaseRow.id == case_id).values(start_payload=None, start_claimed_until=None))
    session.commit()


def mark_start_failed(session: Session, case_id: str, reason: str, retry_at: datetime) -> None:
    """Counts a start that failed for this case alone, says why, and when to try again (the refusal ends the
    claim: no start of it is in flight)."""
    session.exec(update(CaseRow).where(CaseRow.id == case_id, col(CaseRow.start_payload).is_not(None))
                 .values(start_attempts=CaseRow.start_attempts + 1, start_error=reason[:300],
                         start_retry_at=retry_at, start_claimed_until=None))
    session.commit()


def claim_start(session: Session, case_id: str, sealed: bytes, now: datetime, until: datetime) -> bool:
    """The case still waits for its start with this very input (not erased, started or withdrawn meanwhile), and
    no one else is starting it: it is this caller's to start until `until`. One conditional UPDATE, so a
    withdrawal (`withdraw_unstarted`) and a claim never both succeed."""
    claimed = session.exec(update(CaseRow).where(
        CaseRow.id == case_id, col(CaseRow.start_payload) == sealed, _unclaimed(now))
        .values(start_claimed_until=until))
    session.commit()
    return claimed.rowcount == 1


def withdraw_unstarted(session: Session, case_id: str, outcome: CaseOutcome, actor: str, note: str,
                       now: datetime) -> bool:
    """Closes a case whose workflow never started, and forgets its input so nothing starts it later: True if it
    did. False when the case has no kept input (its workflow runs or ran) or a reconciler is starting it right
    now (`claim_start`): then its workflow is the one to stop. Does not commit."""
    withdrawn = session.exec(update(CaseRow).where(
        CaseRow.id == case_id, col(CaseRow.start_payload).is_not(None), CaseRow.status != CaseStatus.closed,
        _unclaimed(now)).values(start_payload=None, status=CaseStatus.closed, step=CaseStep.close, outcome=outcome,
                                closed_at=now, updated_at=now))
    if withdrawn.rowcount == 0:
        return False
    add_timeline_entry(session, case_id, f"{case_id}:withdrawn", CaseStep.close, actor, note)
    record_event(session, case_id, EventType.closed, f"{case_id}:closed")
    return True


def holds_input(session: Session, case_id: str) -> bool:
    """Its workflow is not known to run: its kept input waits for a start."""
    return session.exec(select(CaseRow.start_payload).where(CaseRow.id == case_id)).first() is not None


def _unclaimed(now: datetime):
    return or_(col(CaseRow.start_claimed_until).is_(None), col(CaseRow.start_claimed_until) <= now)


def failing_starts(session: Session, scope: list[Any]) -> int:
    """Cases holding an input whose start failed at least once: waiting for an operator or their next try."""
    return session.exec(select(func.count()).select_from(CaseRow).where(
        col(CaseRow.start_payload).is_not(None), CaseRow.start_attempts > 0, *scope)).one()


def add_timeline_entry(session: Session, case_id: str, entry_key: str, step: str, actor: str, note: str) -> None:
    session.add(TimelineRow(case_id=case_id, entry_key=entry_key, step=step, actor=actor, note=note))


def add_note_entry(session: Session, case_id: str, author: str, text: str) -> None:
    """A person's internal note; `timeline_of` shows it to staff only."""
    add_timeline_entry(session, case_id, f"{case_id}:note:{uuid.uuid4().hex}", NOTE_STEP, author, text)


def amount_of(row: CaseRow) -> Money | None:
    """The case's amount, if its incident named one."""
    if row.amount_minor is None or not row.currency:
        return None
    return Money(amount_minor=row.amount_minor, currency=row.currency)


def summary_of(row: CaseRow) -> CaseSummary:
    recovered = counts_as_recovered(row.status, row.outcome, owned=row.owner is not None)
    return CaseSummary.model_validate({**row.model_dump(), "amount": amount_of(row), "recovered": recovered})


# Outcomes where the customer was made whole: refunded (`recovered`) or put right another agreed way (`arranged`).
RECOVERING_OUTCOMES = frozenset({CaseOutcome.recovered, CaseOutcome.arranged})
# Closed recovered or arranged by a case nobody owns: not recovered until someone does (`counts_as_recovered`).
RECOVERED_WITHOUT_OWNER = "recovered_without_owner"


def counts_as_recovered(status: str, outcome: str | None, owned: bool) -> bool | None:
    """Closed `recovered` or `arranged` with a named owner. A customer made whole by a case nobody answers for has
    nobody to reach about it: the case is not recovered until someone owns it (issue 17). None while the case is
    open. The one rule for the case view, the summary figures and Prometheus."""
    if status != CaseStatus.closed:
        return None
    return outcome in RECOVERING_OUTCOMES and owned


def outcome_counted(status: str, outcome: str | None, owned: bool) -> str:
    """A closed case's outcome as the figures count it: a recovering outcome without an owner is
    `recovered_without_owner`, a confirmed failure not (yet) recovered."""
    if outcome in RECOVERING_OUTCOMES and not counts_as_recovered(status, outcome, owned):
        return RECOVERED_WITHOUT_OWNER
    return outcome or "unspecified"


Keyset = tuple[datetime, str]
"""A place in a listing's order: a case's (opened_at, id) newest first, or (sla_due_at, id) most urgent first.
Pages that start from one stay as fast on the thousandth page as on the first, and rows arriving meanwhile neither
shift nor repeat a page."""


def list_cases(
    session: Session, *, tenant: str, integrator: str | None, status: str | None, kind: str | None,
    owner: str | None,
    sla_state: str | None = None, priority: str | None = None,
    opened_after: datetime | None, opened_before: datetime | None, limit: int, offset: int,
    unowned: bool | None = None, still_open: bool | None = None, source: str | None = None,
    after: Keyset | None = None, newer_than: Keyset | None = None, newest_first: bool | None = None,
    most_urgent: bool | None = None, count_up_to: int | None = None, counted: bool = True,
) -> tuple[list[CaseRow], int]:
    """Newest first; filtered by SLA state, the deadline nearest first (what is about to break leads). Or as
    asked: `newest_first`, or `most_urgent` (cases with an open deadline, the nearest first). `after` is the
    keyset of the last row of the page before, in the order used (`Keyset`); `newer_than`, what arrived since.
    Every filter hits an index (status/kind/sla state/owner + time). The total ignores the keyset; with
    `count_up_to` it stops counting past that many (then it is `count_up_to + 1`): counting 96,000 closed cases
    costs more than the page itself (make bench, d). Not `counted` (the console's live poll shows no count): no
    count is run and the total is 0."""
    conditions = _filters(tenant=tenant, integrator=integrator, status=status, still_open=still_open, kind=kind,
                          source=source, owner=owner, unowned=unowned, sla_state=sla_state, priority=priority,
                          opened_after=opened_after, opened_before=opened_before)
    by_due = most_urgent or (sla_state is not None and not newest_first and after is None and newer_than is None)
    if most_urgent:
        conditions.append(col(CaseRow.sla_due_at).is_not(None))
    order = ((col(CaseRow.sla_due_at).asc(), col(CaseRow.id)) if by_due
             else (col(CaseRow.opened_at).desc(), col(CaseRow.id).desc()))
    total = _count(session, conditions, order, count_up_to) if counted else 0
    if after is not None:
        conditions.append(tuple_(CaseRow.sla_due_at, CaseRow.id) > tuple_(*after) if by_due
                          else tuple_(CaseRow.opened_at, CaseRow.id) < tuple_(*after))
    if newer_than is not None:
        conditions.append(tuple_(CaseRow.opened_at, CaseRow.id) > tuple_(*newer_than))
    rows = session.exec(select(CaseRow).where(*conditions).order_by(*order).limit(limit).offset(offset)).all()
    return list(rows), total


def _filters(*, tenant: str, integrator: str | None, status: str | None, still_open: bool | None,
             kind: str | None, source: str | None, owner: str | None, unowned: bool | None, sla_state: str | None,
             priority: str | None, opened_after: datetime | None, opened_before: datetime | None) -> list[Any]:
    """The WHERE of a listing: the tenant's cases (an integrator's own only), narrowed by each filter given."""
    wanted = [(CaseRow.integrator, integrator), (CaseRow.status, status), (CaseRow.kind, kind),
              (CaseRow.source, source), (CaseRow.owner, owner), (CaseRow.sla_state, sla_state),
              (CaseRow.priority, priority)]
    conditions = [CaseRow.tenant == tenant, *(column == value for column, value in wanted if value is not None)]
    if still_open:
        conditions.append(CaseRow.status != CaseStatus.closed)
    if unowned:
        conditions.append(col(CaseRow.owner).is_(None))
    if opened_after is not None:
        conditions.append(CaseRow.opened_at >= opened_after)
    if opened_before is not None:
        conditions.append(CaseRow.opened_at < opened_before)
    return conditions


def changed_cases(session: Session, *, tenant: str, integrator: str | None, ids: list[str],
                  since: datetime) -> list[CaseRow]:
    """Of the cases `ids` (a page someone is looking at), those of this tenant moved on after `since`: a primary
    key look-up per id, whatever the size of the table."""
    if not ids:
        return []
    conditions = [col(CaseRow.id).in_(ids), CaseRow.tenant == tenant, CaseRow.updated_at > since]
    if integrator is not None:
        conditions.append(CaseRow.integrator == integrator)
    return list(session.exec(select(CaseRow).where(*conditions)).all())


def in_view(session: Session, ids: list[str], *, most_urgent: bool = False, **filters: Any) -> set[str]:
    """Of the cases `ids`, those a listing with these filters (`list_cases`'s, the same WHERE) shows: the live
    queue marks a row that moved out of its view rather than keeping it as if it still belonged. By primary key."""
    if not ids:
        return set()
    conditions = [col(CaseRow.id).in_(ids), *_filters(**filters)]
    if most_urgent:
        conditions.append(col(CaseRow.sla_due_at).is_not(None))
    return set(session.exec(select(CaseRow.id).where(*conditions)).all())


def _count(session: Session, conditions: list[Any], order: tuple[Any, ...], up_to: int | None) -> int:
    """Counted in the page's own order when capped: the index that finds the page stops the count early too."""
    if up_to is None:
        return session.exec(select(func.count()).select_from(CaseRow).where(*conditions)).one()
    capped = select(CaseRow.id).where(*conditions).order_by(*order).limit(up_to + 1).subquery()
    return session.exec(select(func.count()).select_from(capped)).one()


def timeline_of(session: Session, case_id: str, with_notes: bool = False) -> list[TimelineEntryView]:
    """The case's timeline; staff's internal notes only when asked for (`with_notes`): they are written about
    the case for colleagues, so neither the integrator nor the customer's data export gets them."""
    query = select(TimelineRow).where(TimelineRow.case_id == case_id)
    if not with_notes:
        query = query.where(TimelineRow.step != NOTE_STEP)
    rows = session.exec(query.order_by(TimelineRow.id)).all()
    return [TimelineEntryView.model_validate(row, from_attributes=True) for row in rows]


def messages_of(session: Session, case_id: str) -> list[MessageView]:
    rows = session.exec(select(MessageRow).where(MessageRow.case_id == case_id).order_by(MessageRow.id)).all()
    return [MessageView.model_validate(row, from_attributes=True) for row in rows]



def cases_with_reference(session: Session, tenant: str, reference: str) -> list[CaseRow]:
    """The tenant's cases a reference names (usually one; eight hex digits can collide). Indexed by reference."""
    return list(session.exec(select(CaseRow).where(CaseRow.reference == reference.strip().upper(),
                                                   CaseRow.tenant == tenant)).all())
