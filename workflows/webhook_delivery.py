"""Delivering webhooks: one workflow per endpoint and case, so a case's events reach each endpoint in order.

Each event is tried at once and then after each wait of the schedule (about three days in all), with jitter,
or later if the receiver asks with Retry-After. A 2xx delivers it; a 410 Gone, or a last attempt that fails,
disables the endpoint and tells its owner. Timers and the queue live in Temporal, so a crash or a restart of
the worker loses nothing and the `webhook-id` of an event never changes between attempts.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from workflows import activity_stubs as stubs

with workflow.unsafe.imports_passed_through():
    from schemas.webhooks import (
        AttemptRequest,
        AttemptResult,
        DeliveryOutcome,
        DisableRequest,
        WebhookJob,
        WebhookStream,
    )

# The POST itself never raises (its failures are outcomes, and it has 15 s in all, the name look-up 5 s more); what
# is retried here is our own database, a few times. An attempt that still does not finish counts as a failed
# attempt on the delivery schedule (see `_attempt`), so a stuck receiver or database never retries without end.
_OUR_SIDE = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
_ATTEMPT = dict(start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1),
                                         maximum_attempts=5))
# Disabling and telling the owner touches no receiver: retried until it is done.
_DISABLE = dict(start_to_close_timeout=timedelta(seconds=30), retry_policy=_OUR_SIDE)
# How long a stream stays open for the case's next event before it ends (the next event starts a new one).
_LINGER = timedelta(seconds=30)
_JITTER = 0.2  # each wait is stretched or shrunk by up to this share, so retries from many cases spread out


def stream_id(endpoint_id: str, case_id: str) -> str:
    return f"webhooks-{endpoint_id}-{case_id}"


@workflow.defn
class WebhookDelivery:
    @workflow.init
    def __init__(self, stream: WebhookStream) -> None:
        self._queue: list[WebhookJob] = list(stream.queued)
        self._seen: set[str] = {job.job_id for job in stream.queued}

    @workflow.signal
    def enqueue(self, job: WebhookJob) -> None:
        """An event (or a redelivery) to send after those already queued. The relay may send one twice."""
        if job.job_id not in self._seen:
            self._seen.add(job.job_id)
            self._queue.append(job)

    @workflow.run
    async def run(self, stream: WebhookStream) -> None:
        while True:
            if self._history_too_long(stream):
                workflow.continue_as_new(stream.model_copy(update={"queued": self._queue}))
            try:
                await workflow.wait_condition(lambda: bool(self._queue), timeout=_LINGER)
            except TimeoutError:
                # An event may have come in the same workflow task as the timer: it is sent, never dropped.
                if not self._queue or not workflow.patched("webhook-linger-keeps-queue"):
                    return
            job = self._queue.pop(0)
            if not await self._deliver(stream, job):
                # The endpoint is disabled: what is queued is recorded as not sent, to redeliver once enabled.
                if workflow.patched("webhook-disabled-queue-recorded"):
                    for queued in self._queue:
                        await self._attempt(stream, queued, attempt=1)
                return

    @staticmethod
    def _history_too_long(stream: WebhookStream) -> bool:
        info = workflow.info()
        return info.is_continue_as_new_suggested() or info.get_current_history_length() > stream.history_limit

    async def _deliver(self, stream: WebhookStream, job: WebhookJob) -> bool:
        """True once the endpoint took the event; False when the endpoint is (now) disabled."""
        waits = [*stream.schedule, None]
        for attempt, wait in enumerate(waits, start=1):
            result = await self._attempt(stream, job, attempt)
            if result.outcome is DeliveryOutcome.delivered:
                return True
            if result.outcome is DeliveryOutcome.endpoint_disabled:
                return False
            if result.outcome is DeliveryOutcome.gone:
                await self._disable(stream, "the receiver answered 410 Gone")
                return False
            if wait is not None:
                await workflow.sleep(self._backoff(wait, result))
        await self._disable(stream, f"event {job.event_id} failed on all {len(waits)} attempts")
        return False

    async def _attempt(self, stream: WebhookStream, job: WebhookJob, attempt: int) -> AttemptResult:
        request = AttemptRequest(endpoint_id=stream.endpoint_id, event_id=job.event_id, job_id=job.job_id,
                                 attempt=attempt, redelivery=job.redelivery)
        try:
            return await stubs.attempt_webhook(request, **_ATTEMPT)
        except ActivityError:
            return AttemptResult(outcome=DeliveryOutcome.failed)

    async def _disable(self, stream: WebhookStream, reason: str) -> None:
        await stubs.disable_webhook_endpoint(DisableRequest(endpoint_id=stream.endpoint_id, reason=reason), **_DISABLE)

    @staticmethod
    def _backoff(wait: timedelta, result: AttemptResult) -> timedelta:
        jittered = wait * (1 + workflow.random().uniform(-_JITTER, _JITTER))
        return max(jittered, result.retry_after or timedelta(0))
