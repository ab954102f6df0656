"""The major-incident parent's adapters: opening a step of child cases at the carriers' pace through intake,
recording the parent's status, passing a message to its open children, and stopping them when it ends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from intake.cases import WorkflowNotStarted
from intake.major_incidents import open_child, within_cap
from intake.personal import missing_from_reply
from schemas.major_incidents import (
    BatchOpened,
    ChildMessage,
    ChildState,
    MajorActivity,
    MajorStatus,
    MessageChildren,
    OpenBatch,
    StatusChange,
    StopChildren,
    StopReport,
)
from schemas.money import Money
from schemas.progress import CaseOutcome
from schemas.steps import PersonalReply, StopKind, StopRequest
from settings import Settings
from store import cases as case_store
from store import major_incidents as majors
from store.db import session_for
from store.tables import CaseRow, MajorIncidentRow, utcnow


class MajorIncidentActivities:
    def __init__(self, client: Client, settings: Settings) -> None:
        self._client = client
        self._settings = settings

    @activity.defn(name=MajorActivity.open_batch)
    async def open_batch(self, step: OpenBatch) -> BatchOpened:
        """Opens the step's pending customers (a retry skips those already opened), each no sooner than its slot
        at `texts_per_second`, at most `in_flight` at once. A child whose payout (refund and goodwill) is above the
        approved cap is held for a person."""
        major, rows = await run_in_threadpool(self._batch, step)
        interval = 1.0 / step.texts_per_second
        start = max(datetime.now(UTC), step.not_before or datetime.now(UTC))
        window = asyncio.Semaphore(step.in_flight)

        async def open_one(slot: int, row) -> None:
            async with window:
                owed = Money(amount_minor=row.amount_minor, currency=row.currency)
                if not within_cap(self._settings.policy, major.recovery, owed, step.cap):
                    await run_in_threadpool(self._mark, major.id, row.seq, ChildState.held)
                    return
                await _sleep_until(start + timedelta(seconds=slot * interval))
                if await run_in_threadpool(self._stop_requested, major.id):
                    return  # the parent ends once this step returns; its stop withdraws the rest
                try:
                    await open_child(self._client, self._settings, step.declared_by, major, row)
                except ValidationError:  # a row no child can be opened for: left to a person, not retried forever
                    await run_in_threadpool(self._mark, major.id, row.seq, ChildState.held)
                except WorkflowNotStarted as refused:
                    if refused.temporal_away:
                        raise  # the step is retried once Temporal is back
                    # Refused, not away: the case is recorded with its input, which the reconciler starts (or a
                    # stop withdraws first); retrying the step would be refused for ever.
                    await run_in_threadpool(self._mark, major.id, row.seq, ChildState.opened, refused.case_id)

        # A task group, not gather: when one row fails the others are cancelled, so a retry of the step never
        # runs alongside orphans of the failed attempt (which would double the start rate).
        async with asyncio.TaskGroup() as group:
            for slot, row in enumerate(rows):
                group.create_task(open_one(slot, row))
        return BatchOpened(opened=len(rows), next_not_before=start + timedelta(seconds=len(rows) * interval))

    def _batch(self, step: OpenBatch):
        with session_for(self._settings.database_url) as session:
            return (session.get(MajorIncidentRow, step.major_id),
                    majors.pending_batch(session, step.major_id, step.first_seq, step.count))

    def _mark(self, major_id: str, seq: int, state: ChildState, case_id: str | None = None) -> None:
        with session_for(self._settings.database_url) as session:
            majors.mark_child(session, major_id, seq, state, case_id)

    def _stop_requested(self, major_id: str) -> bool:
        with session_for(self._settings.database_url) as session:
            return majors.stop_requested(session, major_id)

    @activity.defn(name=MajorActivity.record_status)
    def record_status(self, change: StatusChange) -> None:
        with session_for(self._settings.database_url) as session:
            row = session.get(MajorIncidentRow, change.major_id)
            row.status = change.status
            if change.approval is not None:
                row.approved_by = change.approval.approved_by
                row.cap_minor, row.currency = change.approval.cap.amount_minor, change.approval.cap.currency
            if change.status in (MajorStatus.closed, MajorStatus.cancelled):
                row.ended_at = utcnow()
            session.add(row)
            session.commit()

    @activity.defn(name=MajorActivity.stop_children)
    async def stop_children(self, request: StopChildren) -> StopReport:
        """Customers never contacted are withdrawn; open children are stopped at their next safe point (a cancel:
        every open child, so none is paid after it; a close: those that have not reached their customer yet).
        `stopped` counts the stops Temporal took in this attempt; `withdrawn` every row withdrawn, in any."""
        stopping, all_open = await run_in_threadpool(self._to_stop, request)
        kind = StopKind.cancel if request.kind == "cancel" else StopKind.close
        outcome = CaseOutcome.cancelled if kind is StopKind.cancel else CaseOutcome.resolved_by_hand
        stop = StopRequest(kind=kind, outcome=outcome, reason=f"major incident {request.major_id}: {request.reason}",
                           requested_by=request.requested_by)
        stopped = 0
        for number, case_id in enumerate(stopping):
            if await self._signal(case_id, "stop", stop):
                stopped += 1
            else:
                await run_in_threadpool(self._withdraw, request.major_id, case_id, stop)
            if number % 100 == 0:
                activity.heartbeat(number)
        withdrawn = await run_in_threadpool(self._withdrawn, request.major_id)
        return StopReport(stopped=stopped, withdrawn=withdrawn, left_running=all_open - len(stopping))

    def _withdraw(self, major_id: str, case_id: str, stop: StopRequest) -> None:
        """A child with no workflow (its start failed and waits for the reconciler) is withdrawn in the read model,
        so nothing starts it later. If a reconciler is starting it right now, the step is retried: by then its
        workflow runs and takes the stop like the others. A child that ended meanwhile needs nothing."""
        with session_for(self._settings.database_url) as session:
            if majors.withdraw_unstarted_child(session, major_id, case_id, stop.outcome, stop.requested_by,
                                               f"withdrawn before it started: {stop.reason}"):
                return
            if case_store.holds_input(session, case_id):
                raise ApplicationError(f"child {case_id} is being started by a reconciler; stopped once it runs")

    def _to_stop(self, request: StopChildren) -> tuple[list[str], int]:
        with session_for(self._settings.database_url) as session:
            majors.withdraw_pending(session, request.major_id)
            all_open = majors.open_children(session, request.major_id, unreached_only=False)
            if request.kind == "cancel":
                return all_open, len(all_open)
            return majors.open_children(session, request.major_id, unreached_only=True), len(all_open)

    def _withdrawn(self, major_id: str) -> int:
        with session_for(self._settings.database_url) as session:
            return majors.count_in_state(session, major_id, ChildState.withdrawn)

    @activity.defn(name=MajorActivity.message_children)
    async def message_children(self, request: MessageChildren) -> int:
        """Each open child gets the message filled in with its own facts, checked like any agent's reply, one child
        per slot at the incident's `texts_per_second`; a case the filled-in text is not personal for is skipped
        (its timeline is not written: the parent's view counts what was sent)."""
        cases = await run_in_threadpool(self._open_cases, request.major_id)
        # A retry resumes after the last case told (heartbeated), so no customer is texted the message twice.
        details = activity.info().heartbeat_details
        done_through = details[0] if details else ""
        interval = 1.0 / (request.texts_per_second or self._settings.major_incidents.texts_per_second)
        start, sent = datetime.now(UTC), 0
        for slot, case in enumerate(case for case in cases if case.id > done_through):
            await _sleep_until(start + timedelta(seconds=slot * interval))  # the carriers' pace, as the fan-out's
            if await run_in_threadpool(self._stop_requested, request.major_id):
                break  # closed or cancelled meanwhile: the children are being stopped, not told
            text = personalised(request.message, case)
            if not missing_from_reply(text, request.message.agent_name, case):
                reply = PersonalReply(text=text, agent_name=request.message.agent_name,
                                      sent_by=request.message.sent_by)
                sent += await self._signal(case.id, "personal_reply", reply)
            activity.heartbeat(case.id)
        return sent

    def _open_cases(self, major_id: str) -> list[CaseRow]:
        with session_for(self._settings.database_url) as session:
            return [session.get(CaseRow, case_id)
                    for case_id in majors.open_children(session, major_id, unreached_only=False)]

    async def _signal(self, case_id: str, name: str, payload) -> bool:
        try:
            await self._client.get_workflow_handle(case_id).signal(name, payload)
        except RPCError as error:
            if error.status is not RPCStatusCode.NOT_FOUND:  # an outage: the activity retries, no stop is dropped
                raise
            return False  # it ended meanwhile: nothing to stop or tell
        return True


def personalised(message: ChildMessage, case: CaseRow) -> str:
    """`{name}`, `{amount}` and `{reference}` replaced by this case's (plain replacement: the text is not a
    format string a caller could use to reach other fields)."""
    amount = case_store.amount_of(case)
    return (message.text.replace("{name}", case.customer_name.split()[0] if case.customer_name else "")
            .replace("{amount}", amount.format("fi_FI") if amount else "")
            .replace("{reference}", case.reference))


async def _sleep_until(moment: datetime) -> None:
    wait = (moment - datetime.now(UTC)).total_seconds()
    if wait > 0:
        await asyncio.sleep(wait)
