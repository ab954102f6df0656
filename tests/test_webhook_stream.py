"""The delivery workflow's own bookkeeping (issue 13 review): a long-lived stream continues as new carrying its
queue. On the time-skipping server, with the worker started by the test once the queue is full."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from schemas.webhooks import WebhookJob, WebhookStream
from settings import Settings
from store.tables import WebhookEventRow
from tests.harness import Stack, eventually
from tests.test_webhooks_out import integrator, open_complaint, register
from tests.test_webhooks_out import settings as settings  # noqa: F401  (the fixture)
from tests.webhook_receiver import WebhookReceiver
from webhooks.relay import hand_over
from worker import build_worker
from workflows.webhook_delivery import stream_id


async def _ready(time_skipping: WorkflowEnvironment, settings: Settings, receiver: WebhookReceiver, stack: Stack,
                 **stream: object) -> tuple[WebhookStream, str]:
    till = integrator(stack)
    endpoint = await register(stack, till, receiver.url, ["case.opened"])
    case_id = await open_complaint(stack, till, "fb-stream")
    [event] = await eventually(lambda: stack.rows(WebhookEventRow, case_id=case_id))
    return WebhookStream(endpoint_id=endpoint["id"], case_id=case_id, schedule=settings.webhook_retry_schedule,
                         **stream), event.id


def _again(event_id: str, number: int) -> WebhookJob:
    return WebhookJob(job_id=f"again-{number}", event_id=event_id, redelivery=True)


async def test_a_long_stream_continues_as_new_with_its_queue(time_skipping: WorkflowEnvironment, settings: Settings):
    client = time_skipping.client
    with WebhookReceiver() as receiver:
        async with Stack.running(time_skipping, settings, with_worker=False) as stack:
            stream, event_id = await _ready(time_skipping, settings, receiver, stack, history_limit=20)
            jobs = [WebhookJob(job_id=event_id, event_id=event_id), *(_again(event_id, n) for n in range(8))]
            for job in jobs:  # all queued before any is sent: the queue must survive continuing as new
                await hand_over(client, settings, stream, job)
            handle = client.get_workflow_handle(stream_id(stream.endpoint_id, stream.case_id))
            first_run = (await handle.describe()).run_id
            async with build_worker(client, settings):
                await eventually(lambda: len(receiver.deliveries) == len(jobs))
            assert (await handle.describe()).run_id != first_run, "continued as new"
    assert {d.webhook_id for d in receiver.deliveries} == {event_id}
