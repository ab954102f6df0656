"""Declaring a major incident, and opening each affected customer's child case through the ordinary intake path.

A child is a case like any other (`intake.cases.open_case`): its own workflow of its kind, its id derived from the
business key, and the money-event ledger's claim. So a customer whose sale already has a case (the till found the
overcharge itself, or the customer called) is linked to that case, and is neither contacted nor paid twice.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterator

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.directory_import import rejected_reasons
from intake.cases import WorkflowNotStarted, case_id_for, open_case
from intake.detection import overcharge_at_price
from schemas.auth import Principal, PrincipalKind
from schemas.directory import RejectedRow
from schemas.incidents import Customer, IncidentIn, IncidentKind, IncidentSource
from schemas.major_incidents import AffectedIn, Approval, ChildState, FanOut, MajorIncidentIn, MajorStatus
from schemas.money import Money
from schemas.policy import RecoveryPolicy
from schemas.progress import CaseOutcome
from schemas.steps import StopKind, StopRequest
from schemas.transactions import TransactionRecord
from settings import Settings
from store import major_incidents as majors
from store.db import session_for
from store.major_incidents import Affected
from store.tables import AffectedCustomerRow, CaseRow, MajorIncidentRow, TransactionRow
from workflows.major_incident import MajorIncidentFanOut

# Major incidents' ids, and so their children's external ids (`<major id>:<seq>`, opened as the declarer): a
# namespace `POST /incidents` refuses, so no integrator can post a child's case before the parent opens it.
RESERVED_EXTERNAL_IDS = "major-"


def reserved_external_id(external_id: str) -> bool:
    return external_id.startswith(RESERVED_EXTERNAL_IDS)


def workflow_id(major_id: str) -> str:
    return major_id


def major_id_for(declarer: Principal, declared: MajorIncidentIn) -> str:
    """From the declaration itself, so posting it again (after a 503, or twice by mistake) names the same incident
    and never fans out to the same customers twice."""
    digest = hashlib.sha256(f"{declarer.tenant}\x00{declarer.id}\x00{declared.model_dump_json()}".encode())
    return f"{RESERVED_EXTERNAL_IDS}{digest.hexdigest()[:20]}"


async def declare(client: Client, settings: Settings, declarer: Principal,
                  declared: MajorIncidentIn) -> tuple[str, bool]:
    """Records the incident with every affected customer (once), and starts its parent workflow, which opens no
    child before a supervisor approves. Raises `WorkflowNotStarted` (503) if Temporal does not take it: the
    incident is kept, and posting it again, or approving it, starts it. Returns its id, and whether this post
    recorded it."""
    major_id = major_id_for(declarer, declared)
    count, created = await run_in_threadpool(_record, settings, declarer, declared, major_id)
    await _start_parent(client, settings, _fan_out(settings, major_id, declarer, count))
    return major_id, created


async def approve(client: Client, settings: Settings, major: MajorIncidentRow, approval: Approval) -> None:
    """Passes a supervisor's approval to the parent; a parent whose start failed at declaration is started now,
    approved. Raises `WorkflowNotStarted` if Temporal takes neither."""
    if await _pass_approval(client, settings, major.id, approval):
        return
    count = await run_in_threadpool(_affected_count, settings, major.id)
    fan = _fan_out(settings, major.id, declarer_of(major), count).model_copy(update={"approval": approval})
    if not await _start_parent(client, settings, fan):  # posted again meanwhile: that run takes the approval
        await _pass_approval(client, settings, major.id, approval)


async def _pass_approval(client: Client, settings: Settings, major_id: str, approval: Approval) -> bool:
    """True if the parent took the approval, False if it does not exist. Raises `WorkflowNotStarted` for anything
    else: unreachable (the API's client connects lazily and refuses until it has), silent past
    `intake_start_timeout`, or refusing; the route then releases the approval's claim."""
    try:
        async with asyncio.timeout(settings.intake_start_timeout):
            await client.get_workflow_handle(workflow_id(major_id)).signal(MajorIncidentFanOut.approve, approval)
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            return False
        raise WorkflowNotStarted(major_id, f"Temporal answered {error.status.name}") from error
    except (TimeoutError, RuntimeError) as error:
        raise WorkflowNotStarted(major_id, f"Temporal did not take it ({type(error).__name__})") from error
    return True


def declarer_of(major: MajorIncidentRow) -> Principal:
    """Who declared it, as its children are opened: by that principal's tenant and id (the case ids' key)."""
    return Principal.model_validate(major.declaration.get("declarer") or {
        "id": major.declared_by, "kind": PrincipalKind.integrator, "tenant": major.tenant, "scopes": []})


def _fan_out(settings: Settings, major_id: str, declarer: Principal, count: int) -> FanOut:
    policy = settings.major_incidents
    return FanOut(major_id=major_id, tenant=declarer.tenant, declared_by=declarer, affected=count,
                  texts_per_second=policy.texts_per_second, batch=policy.batch, in_flight=policy.in_flight,
                  batches_per_run=policy.batches_per_run)


async def _start_parent(client: Client, settings: Settings, fan: FanOut) -> bool:
    """True if this call started it; False if it runs (or ran) already."""
    try:
        async with asyncio.timeout(settings.intake_start_timeout):
            await client.start_workflow(MajorIncidentFanOut.run, fan, id=workflow_id(fan.major_id),
                                        task_queue=settings.temporal_task_queue,
                                        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
    except WorkflowAlreadyStartedError:
        return False
    except (TimeoutError, RuntimeError, RPCError) as error:
        raise WorkflowNotStarted(fan.major_id, f"Temporal did not take it ({type(error).__name__})") from error
    return True


def _affected_count(settings: Settings, major_id: str) -> int:
    with session_for(settings.database_url) as session:
        return majors.affected_count(session, major_id)


def _record(settings: Settings, declarer: Principal, declared: MajorIncidentIn, major_id: str) -> tuple[int, bool]:
    """The number of affected customers, and whether this call recorded them; an incident already recorded keeps
    what it found then."""
    with session_for(settings.database_url) as session:
        if session.get(MajorIncidentRow, major_id) is None:
            try:
                return _record_new(session, declarer, declared, major_id), True
            except IntegrityError:  # the same declaration, posted at the same moment
                session.rollback()
        return majors.affected_count(session, major_id), False


def _record_new(session: Session, declarer: Principal, declared: MajorIncidentIn, major_id: str) -> int:
    rejected: list[RejectedRow] = []
    row = MajorIncidentRow(id=major_id, tenant=declarer.tenant, title=declared.title,
                           description=declared.description, recovery=declared.recovery,
                           declaration={**declared.model_dump(mode="json", exclude={"affected"}),
                                        "declarer": declarer.model_dump(mode="json")},
                           declared_by=declarer.id, status=MajorStatus.awaiting_approval, rejected=[])
    if declared.affected is None:  # read a page of sales at a time while the rows are written
        affected = affected_in_records(majors.sales_in_window(session, declarer.tenant, declared), declared)
    else:  # already in memory (the body): validated first, so the refused rows are known before the write
        affected = list(uploaded(declared, rejected, lambda one: majors.sale_of(session, declarer.tenant, one)))
        row.rejected = [one.model_dump() for one in rejected]
    return majors.record_declaration(session, row, iter(affected))


def affected_in_records(sales, declared: MajorIncidentIn) -> Iterator[Affected]:
    """Every sale that overcharged for the product, with its overcharge computed from its own lines. A sale whose
    till knew no customer cannot be reached from here: it stays for the till's own case (the card refund)."""
    wrong = declared.wrong_price
    for row in sales:
        record = TransactionRecord(store=row.store, transaction_id=row.transaction_id, currency=row.currency,
                                   lines=row.lines, charged_minor=row.charged_minor, customer=row.customer)
        overcharge = overcharge_at_price(record, wrong.product, wrong.correct_unit_price_minor)
        if overcharge is not None and record.customer is not None:
            yield Affected(AffectedIn(store=row.store, transaction_ref=row.transaction_id, customer=record.customer,
                                      amount=overcharge), against_record=True)


def uploaded(declared: MajorIncidentIn, rejected: list[RejectedRow],
             sale_of: Callable[[AffectedIn], TransactionRow | None]) -> Iterator[Affected]:
    """The integrator's list, row by row: a row that does not validate, is outside the declared stores, or does not
    match the sale the engine holds under its reference (another customer, a larger amount) is reported with its
    number, field and reason; the rest are taken, those the engine holds no sale (or no customer) for to be
    verified like any reported case."""
    for number, values in enumerate(declared.affected, start=1):
        try:
            one = AffectedIn.model_validate(values)
        except ValidationError as error:
            rejected.extend(rejected_reasons(number, error))
            continue
        if one.store not in declared.stores:
            rejected.append(RejectedRow(row=number, field="store", reason="not one of the incident's stores"))
            continue
        try:  # refused here, not after approval: a child the parent cannot open would stall its fan-out
            _incident(f"row:{number}", declared.recovery, declared.description, declared.title, one.store,
                      one.transaction_ref, one.customer, one.amount)
        except ValidationError as error:
            rejected.extend(rejected_reasons(number, error))
            continue
        sale = sale_of(one)
        if sale is not None and (mismatch := sale_mismatch(one, sale)) is not None:
            rejected.append(RejectedRow(row=number, field=mismatch[0], reason=mismatch[1]))
            continue
        yield Affected(one, against_record=sale is not None and bool(_addresses(sale.customer)))


def sale_mismatch(one: AffectedIn, sale: TransactionRow) -> tuple[str, str] | None:
    """Where a listed row contradicts the sale the engine holds under its reference: the field and why. A row may
    name the sale's customer by one address of theirs, never by an address the sale does not record."""
    if one.amount.currency != sale.currency:
        return "amount.currency", "not the currency of the sale the engine holds"
    if one.amount.amount_minor > sale.charged_minor:
        return "amount", "more than the sale the engine holds charged"
    recorded = _addresses(sale.customer)
    listed = _addresses(one.customer.model_dump(mode="json"))
    if recorded and not (listed <= recorded and listed & recorded):
        return "customer", "not the customer the sale the engine holds records"
    return None


def _addresses(customer: dict | None) -> set[tuple[str, str]]:
    """Casefolded: an email is the same address whatever its case."""
    return {(kind, customer[kind].casefold()) for kind in ("phone", "email") if customer and customer.get(kind)}


def child_incident(major: MajorIncidentRow, row: AffectedCustomerRow) -> IncidentIn:
    """The child's report, as if the till had posted it: the sale, the customer, the amount, and what went wrong."""
    return _incident(f"{major.id}:{row.seq}", major.recovery, major.description, major.title, row.store,
                     row.transaction_ref, row.customer, Money(amount_minor=row.amount_minor, currency=row.currency))


def _incident(external_id: str, recovery: str, description: str, title: str, store: str, transaction_ref: str,
              customer: Customer, amount: Money) -> IncidentIn:
    return IncidentIn(external_id=external_id, kind=IncidentKind(recovery), source=IncidentSource.transaction_monitor,
                      customer=customer, amount=amount, store=store, transaction_ref=transaction_ref,
                      description=description, topic=title)


def within_cap(policy: RecoveryPolicy, recovery: str, amount: Money, cap: Money) -> bool:
    """Whether all a child may pay stays within the approved cap: the sale's amount and the goodwill its kind adds
    by policy (a complaint's), which the child grants on top of the refund."""
    goodwill = policy.goodwill.get(IncidentKind(recovery))
    payout = [amount, goodwill.offer(amount).value] if goodwill else [amount]
    return (all(money.currency == cap.currency for money in payout)
            and sum(money.amount_minor for money in payout) <= cap.amount_minor)


async def open_child(client: Client, settings: Settings, declarer: Principal, major: MajorIncidentRow,
                     row: AffectedCustomerRow) -> ChildState:
    """Opens one child case. Its row names the case before the case exists, so the child's verification
    (which asks the row for the approved amount) never runs ahead of it; a retry opens the same case. A sale that
    already has a case of its own (any kind: the customer called, another incident's child) is linked to it:
    that case talks to the customer and pays, once. A row withdrawn meanwhile (erased, the parent ended) is not
    opened."""
    case_id = case_id_for(declarer.tenant, declarer.id, child_incident(major, row).external_id)
    if (existing := await run_in_threadpool(_case_of_the_sale, settings, declarer.tenant, row, case_id)) is not None:
        await run_in_threadpool(_mark, settings, major.id, row.seq, ChildState.linked, existing)
        return ChildState.linked
    claimed = await run_in_threadpool(_claim, settings, major.id, row.seq, case_id)
    if claimed is None:
        await _stop_if_running(client, settings, major, row.seq, case_id)  # a retry after the race below
        return ChildState.withdrawn
    opened = await open_case(client, settings, declarer, child_incident(major, claimed))  # idempotent by case id
    state = ChildState.opened if opened.linked_to is None else ChildState.linked
    if not await run_in_threadpool(_settle, settings, major.id, row.seq, state, opened.case_id):
        # The parent ended while this case was being opened: its stop step withdrew the row and did not see the
        # case, so the case is stopped here, before it can pay.
        await _stop_if_running(client, settings, major, row.seq, opened.case_id)
        return ChildState.withdrawn
    return state


async def _stop_if_running(client: Client, settings: Settings, major: MajorIncidentRow, seq: int,
                           case_id: str) -> None:
    """Cancels the case of a row that was withdrawn while the case was being opened, if it runs (recorded, not
    linked, not closed). A row in any other state (opened by an earlier attempt of the step) is left alone."""
    row, case = await run_in_threadpool(_row_and_case, settings, major.id, seq, case_id)
    if row.state != ChildState.withdrawn or row.case_id != case_id:
        return
    if case is None or case.closed_at is not None or case.linked_to is not None:
        return
    stop = StopRequest(kind=StopKind.cancel, outcome=CaseOutcome.cancelled, requested_by=major.declared_by,
                       reason=f"major incident {major.id} ended while this customer's case was being opened")
    try:
        await client.get_workflow_handle(case_id).signal("stop", stop)
    except RPCError as error:
        if error.status is not RPCStatusCode.NOT_FOUND:  # away: the step retries and comes back here
            raise


def _row_and_case(settings: Settings, major_id: str, seq: int,
                  case_id: str) -> tuple[AffectedCustomerRow, CaseRow | None]:
    with session_for(settings.database_url) as session:
        return session.get(AffectedCustomerRow, (major_id, seq)), session.get(CaseRow, case_id)


def _settle(settings: Settings, major_id: str, seq: int, state: ChildState, case_id: str) -> bool:
    with session_for(settings.database_url) as session:
        return majors.settle_child(session, major_id, seq, state, case_id)


def _mark(settings: Settings, major_id: str, seq: int, state: ChildState, case_id: str | None) -> None:
    with session_for(settings.database_url) as session:
        majors.mark_child(session, major_id, seq, state, case_id)


def _claim(settings: Settings, major_id: str, seq: int, case_id: str) -> AffectedCustomerRow | None:
    with session_for(settings.database_url) as session:
        return majors.claim_child(session, major_id, seq, case_id)


def _case_of_the_sale(settings: Settings, tenant: str, row: AffectedCustomerRow, own_case_id: str) -> str | None:
    """None for a row being opened whose own case is recorded (a retried step): that case is the child, not to
    be detached from the row by a case found now."""
    with session_for(settings.database_url) as session:
        if row.state == ChildState.opening and session.get(CaseRow, own_case_id) is not None:
            return None
        return majors.case_of_the_sale(session, tenant, row.store, row.transaction_ref, own_case_id)
