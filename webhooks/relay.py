"""The relay from the outbox to the delivery workflows. It runs inside every worker process.

Each new event goes to the delivery workflow of every endpoint that asked for it (one per endpoint and case,
started if need be: signal-with-start), and is then marked dispatched. A crash between the two hands the event
over again after the restart; the workflow ignores an event it already has, and an attempt skips an event the
endpoint already took, so a second hand-over never makes a second delivery.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client
from temporalio.service import RPCError

from schemas.webhooks import WebhookJob, WebhookStream
from settings import Settings
from store.db import session_for
from store.tables import WebhookEndpointRow, WebhookEventRow, utcnow
from store.webhook_endpoints import endpoints_of, record_missed
from store.webhook_outbox import pending_events
from workflows.webhook_delivery import WebhookDelivery, stream_id

log = logging.getLogger(__name__)
BATCH = 200


async def hand_over(client: Client, settings: Settings, stream: WebhookStream, job: WebhookJob) -> None:
    """Queues `job` on the endpoint's stream for the case, starting the stream if none runs."""
    await client.start_workflow(WebhookDelivery.run, stream, id=stream_id(stream.endpoint_id, stream.case_id),
                                task_queue=settings.temporal_task_queue, start_signal="enqueue",
                                start_signal_args=[job])


async def relay_once(client: Client, settings: Settings) -> int:
    """Hands over the events waiting in the outbox; returns how many there were."""

    def waiting() -> list[tuple[WebhookEventRow, list[WebhookEndpointRow]]]:
        with session_for(settings.database_url) as session:
            endpoints = endpoints_of(session, None)
            return [(event, [e for e in endpoints if e.hears(event)])
                    for event in pending_events(session, BATCH)]

    batch = await run_in_threadpool(waiting)
    for event, hearing in batch:
        for endpoint in hearing:
            if endpoint.disabled_at is None:
                stream = WebhookStream(endpoint_id=endpoint.id, case_id=event.case_id,
                                       schedule=settings.webhook_retry_schedule)
                await hand_over(client, settings, stream, WebhookJob(job_id=event.id, event_id=event.id))
    if batch:
        missed = [(endpoint.id, event.id) for event, hearing in batch for endpoint in hearing if endpoint.disabled_at]
        await run_in_threadpool(_mark_dispatched, settings, [event.id for event, _ in batch], missed)
    return len(batch)


def _mark_dispatched(settings: Settings, event_ids: list[str], missed: list[tuple[str, str]]) -> None:
    """Events handed over; an event a disabled endpoint would have heard shows in its deliveries as not sent, so
    its owner can redeliver it once the endpoint is enabled again."""
    with session_for(settings.database_url) as session:
        for endpoint_id, event_id in missed:
            record_missed(session, endpoint_id, event_id)
        session.exec(update(WebhookEventRow).where(col(WebhookEventRow.id).in_(event_ids)).values(dispatched_at=utcnow()))
        session.commit()


async def relay_forever(client: Client, settings: Settings) -> None:
    """Never returns: a failure is logged and the next round tries again (what was not marked dispatched is
    handed over again)."""
    while True:
        try:
            moved = await relay_once(client, settings)
        except (RPCError, OSError, SQLAlchemyError) as error:  # Temporal or the database away: try again shortly
            log.warning("webhook relay: %s", error)
            moved = 0
        except Exception:  # noqa: BLE001  (a relay that stops is events never sent: say so loudly, go on)
            log.exception("webhook relay: unexpected failure; retrying")
            moved = 0
        if moved < BATCH:
            await asyncio.sleep(settings.webhook_relay_poll_seconds)


@asynccontextmanager
async def relay_running(client: Client, settings: Settings) -> AsyncIterator[asyncio.Task]:
    """Runs the relay for as long as the block lasts (tests); `worker.py` awaits it beside the worker."""
    task = asyncio.create_task(relay_forever(client, settings), name="webhook-relay")
    try:
        yield task
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
