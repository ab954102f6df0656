"""The parent of a major incident (S7): waits for a supervisor's approval, then opens one ordinary recovery case
per affected customer, a small step at a time at the carriers' pace, steerable all along.

Children are independent case workflows opened by an activity through intake (`intake/major_incidents.py`), not
Temporal child workflows: each must be exactly the case `POST /incidents` would open (same id scheme, same
money-event claim, linked when its sale already has a case, found by the reconciler if its start fails), and it
lives for days waiting on its customer, longer than any window of children this parent could keep open.

The fan-out is a cursor over the numbered customers (`next_seq`): a step opens `batch` of them, at most
`in_flight` starts at once, each no sooner than its slot at `texts_per_second` (the slot clock survives steps and
runs). Pausing takes effect after the step in flight; resuming continues at the cursor. Every `batches_per_run`
steps the parent continues as new with the cursor, so its history stays bounded at any number of customers.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from workflows import activity_stubs as stubs

with workflow.unsafe.imports_passed_through():
    from schemas.major_incidents import (
        Approval,
        ChildMessage,
        FanOut,
        MajorStatus,
        MessageChildren,
        OpenBatch,
        StatusChange,
        Steering,
        StopChildren,
        StopReport,
    )

# Our database and Temporal only: retried until done (a step is idempotent: it opens only customers still pending).
_OURS = dict(start_to_close_timeout=timedelta(minutes=2),
             retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)))
_LONG = dict(start_to_close_timeout=timedelta(minutes=30), heartbeat_timeout=timedelta(minutes=1),
             retry_policy=_OURS["retry_policy"])


@workflow.defn
class MajorIncidentFanOut:
    @workflow.init
    def __init__(self, fan: FanOut) -> None:
        self._fan = fan  # the cursor and everything carried across continue-as-new, shown by the `state` query
        self._stop: StopChildren | None = None
        self._messages: list[ChildMessage] = []

    @workflow.run
    async def run(self, fan: FanOut) -> StopReport:
        if not fan.approved:
            await workflow.wait_condition(lambda: fan.approval is not None or self._stop is not None)
            if self._stop is None:
                await self._record(MajorStatus.fanning_out, fan.approval)  # children verify against it
                fan.approved = True
        await self._fan_out()
        if self._stop is None:
            await self._record(MajorStatus.all_opened)
            await self._steer_until_stopped()
        return await self._stop_children()

    async def _fan_out(self) -> None:
        fan, steps = self._fan, 0
        while fan.next_seq < fan.affected and self._stop is None:
            await self._deliver_messages()
            if fan.paused:
                await self._record(MajorStatus.paused)
                await workflow.wait_condition(lambda: not fan.paused or self._stop is not None)
                if self._stop is not None:
                    return
                await self._record(MajorStatus.fanning_out)
            if steps == fan.batches_per_run or workflow.info().is_continue_as_new_suggested():
                await self._deliver_messages()  # nothing waits in between: no signal is left behind in this run
                if self._stop is None:
                    workflow.continue_as_new(fan)
            if self._stop is not None:  # it came in during an await above: open no further step
                return
            count = min(fan.batch, fan.affected - fan.next_seq)
            opened = await stubs.open_major_batch(
                OpenBatch(major_id=fan.major_id, declared_by=fan.declared_by, first_seq=fan.next_seq, count=count,
                          texts_per_second=fan.texts_per_second, in_flight=fan.in_flight,
                          not_before=fan.not_before, cap=fan.approval.cap), **_OURS)
            fan.next_seq += count
            fan.not_before = opened.next_not_before
            steps += 1

    async def _steer_until_stopped(self) -> None:
        """Every child is open; they run on their own. The parent stays to pass messages on and to be closed."""
        while self._stop is None:
            await workflow.wait_condition(lambda: self._stop is not None or bool(self._messages))
            await self._deliver_messages()

    async def _deliver_messages(self) -> None:
        while self._messages:
            message = self._messages.pop(0)
            # The same pace as the fan-out's: a text per child (the input only: no command changes, replay-safe).
            await stubs.message_major_children(MessageChildren(major_id=self._fan.major_id, message=message,
                                                               texts_per_second=self._fan.texts_per_second), **_LONG)

    async def _stop_children(self) -> StopReport:
        report = await stubs.stop_major_children(self._stop, **_LONG)
        ended = MajorStatus.cancelled if self._stop.kind == "cancel" else MajorStatus.closed
        await self._record(ended)
        return report

    async def _record(self, status: MajorStatus, approval: Approval | None = None) -> None:
        await stubs.record_major_status(StatusChange(major_id=self._fan.major_id, status=status, approval=approval),
                                        **_OURS)

    @workflow.signal
    def approve(self, approval: Approval) -> None:
        """Once: the first approval stands (the API checks four eyes before it signals)."""
        if self._fan.approval is None:
            self._fan.approval = approval

    @workflow.signal
    def steer(self, steering: Steering) -> None:
        self._fan.paused = steering is Steering.pause

    @workflow.signal
    def message(self, message: ChildMessage) -> None:
        self._messages.append(message)

    @workflow.signal
    def stop(self, request: StopChildren) -> None:
        if self._stop is None:
            self._stop = request

    @workflow.query
    def state(self) -> FanOut:
        return self._fan
