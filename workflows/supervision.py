"""Who owns what a case runs besides its story: the watches it starts (SLA, ownership, a legal deadline), and a
person's close or cancel. `@supervised` (under `@workflow.run`) runs the story as a task beside the watches and
waits for whichever comes first: the story's end, a failing watch (the workflow task fails: Temporal retries it and
shows the case stuck until a fixed worker is deployed, never a log line while the case goes on unwatched), or a
close or cancel (the story stops at its next safe point). Mixed into `RecoveryWorkflow`, whose state it uses."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.exceptions import is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from schemas.progress import CaseOutcome
    from schemas.steps import StopKind, StopRequest

T = TypeVar("T")


class WatchFailed(RuntimeError):
    """A watch the case started (SLA, ownership, a legal deadline) failed. Not an ApplicationError on purpose:
    it fails the workflow *task*, which Temporal retries and shows as stuck until a fixed worker is deployed,
    instead of failing (ending) the case or leaving it running unwatched."""


def supervised(run: Callable[..., Awaitable[CaseOutcome]]) -> Callable[..., Awaitable[CaseOutcome]]:
    """Wraps a workflow's run: the story runs as a task beside the watches it starts (`watch`). The first watch
    to fail stops the run with `WatchFailed`; a person's close or cancel stops the story at its next safe point
    (see `StopRequest`). Place it under `@workflow.run`."""

    @functools.wraps(run)
    async def run_watched(self: Supervision, *args: Any) -> CaseOutcome:
        story = asyncio.ensure_future(_closed_quietly(run(self, *args)))
        await self._watched_until(lambda: story.done() or self._may_stop())
        if story.done():
            return story.result()
        self._stopped_story = story
        story.cancel()
        try:
            await story
        except BaseException as ended:  # a step cut short ends in a cancellation, which is what was asked for
            if not is_cancelled_exception(ended):
                raise
        stopping = asyncio.ensure_future(self.stop_by_hand(self._stop))
        await self._watched_until(stopping.done)  # the watches still run while the stop tells and closes
        return stopping.result()

    return run_watched


STOP_AFTER_A_STEP_THAT_ENDED_PATCH = "stop-after-a-step-that-ended-with-it"
# A step that catches its activity's failure (a directory look-up, a code text) re-raises a cancellation: a stop
# is no failure to hand to the owner.
A_STOP_IS_NO_FAILURE = "a-stop-is-no-failure"


def stop_came_with_the_result() -> bool:
    """True in a case's story that a close or cancel cut short while it awaited an activity whose result came in
    the same workflow task as the stop. The SDK applies the signal first, so the cancellation reaches the
    activity before its result does; it then lets the result win (Temporal's rule: a cancel cannot undo what
    completed) and takes the cancellation back, and the story would go on to its next wait (a reply timeout of
    days) with the stop asked for and never honoured. The activity stubs check this after every result but a
    payment's."""
    story = getattr(workflow.instance(), "_stopped_story", None)
    return (story is not None and asyncio.current_task() is story
            and workflow.patched(STOP_AFTER_A_STEP_THAT_ENDED_PATCH))


async def _closed_quietly(story: Awaitable[CaseOutcome]) -> CaseOutcome:
    """The story as its own task. A worker that drops a cached workflow without evicting it (at shutdown) leaves
    the task to the garbage collector, whose close() runs the story's `finally` blocks outside the workflow's
    loop; the SDK swallows that for the workflow's own task, and this does the same for the story's."""
    try:
        return await story
    except Exception:
        if workflow.in_workflow():
            raise
        raise GeneratorExit from None


class Supervision:
    """The watches and the stop request of a case; state (`_watch_failure`, `_stop`, `_paying`) is set up by
    `RecoveryWorkflow`, whose `tell_customer` and `close` a stop ends with."""

    @workflow.signal
    def stop(self, request: StopRequest) -> None:
        """A person closes or cancels the case; the first request counts."""
        if self._stop is None and not self._closed:
            self._stop = request

    async def _watched_until(self, condition: Callable[[], bool]) -> None:
        """Waits for `condition`; a watch failing first (or meanwhile) fails the run with `WatchFailed`."""
        await workflow.wait_condition(lambda: condition() or self._watch_failure is not None)
        if self._watch_failure is not None:
            raise WatchFailed(f"a watch of {self.case.case_id} failed: {self._watch_failure!r}") \
                from self._watch_failure

    def watch(self, watcher: Coroutine[Any, Any, None]) -> None:
        """Starts a watch owned by the case: if it fails, the run fails its task (see `supervised`), never
        just a log line while the case goes on unwatched."""
        task = asyncio.ensure_future(watcher)
        task.add_done_callback(self._watch_ended)

    def _watch_ended(self, task: asyncio.Future[None]) -> None:
        if not task.cancelled() and task.exception() is not None and self._watch_failure is None:
            self._watch_failure = task.exception()

    async def stop_by_hand(self, request: StopRequest) -> CaseOutcome:
        """Where a close or cancel ends the story: a customer we already reached, or may have reached (a send
        the stop cut short), hears that the case is withdrawn (a close by hand is the person's to explain)."""
        how = "cancelled" if request.kind is StopKind.cancel else "closed by hand"
        if self._reached_on is None and self._sending is not None and workflow.patched("stop-after-a-send-in-flight"):
            self._reached_on = self._sending  # the carrier may have taken it before the stop came: told, so tell
        if request.kind is StopKind.cancel and self._reached_on is not None:
            await self.tell_customer("common/cancelled")
        return await self.close(request.outcome, f"{how} by {request.requested_by}: {request.reason}")

    async def _paid(self, payment: Coroutine[Any, Any, T]) -> T:
        """Runs a payment (refund, goodwill) as a step that no close or cancel cuts short: it finishes and is
        recorded first, and the case stops right after it. None starts once a stop is asked for: a refund and
        the goodwill after it run in one go, so the stop would otherwise find no moment between them."""
        if self._stop is not None and workflow.patched("no-payment-after-a-stop"):
            payment.close()  # never started
            if stop_came_with_the_result():  # the stop already cut this story once, and the cut was taken back
                raise asyncio.CancelledError("stopped before a payment")
            await workflow.wait_condition(lambda: False)  # `supervised` stops the story here
        self._paying = True
        try:
            return await payment
        finally:
            self._paying = False

    def _may_stop(self) -> bool:
        return self._stop is not None and not self._paying and not self._closed
