"""Starts the workflow of every recorded case that has none, so a case is worked even when Temporal was down at
intake and the integrator (a till that fires and forgets) never posts again.

A case whose workflow is not known to run still holds its sealed input (`cases.start_payload`); the workflow's
first read-model write empties it, and so does this reconciler once Temporal has the workflow. Every worker
process runs it beside its Temporal worker (`worker.py`). Any number may run at once, with the API's own starts
too: the workflow id is the case id and duplicates are rejected, so the losers of a race learn the workflow
exists and simply forget the input. Cases younger than `reconcile_grace` are left alone: their intake may still
be starting them.

A start that fails for one case alone (its input no longer opens: a key dropped from PAYLOAD_KEYS; or Temporal
refuses that start) is counted on the case with its reason (`start_attempts`, `start_error`) and tried again
later, each time twice as late up to `MAX_RETRY_DELAY` (`start_retry_at`), so it never holds the head of the
queue. /metrics counts such cases (`recovery_cases_start_failing`) for an operator.

Before a start the reconciler claims the case (`start_claimed_until`) in one conditional write, the same kind of
write that withdraws a case nobody has started (a cancelled major incident's child, `withdraw_unstarted`): so a
withdrawn case is never started, and a case being started is not withdrawn but stopped once its workflow runs.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from temporalio.client import Client

from intake.cases import WorkflowNotStarted, ensure_workflow, unseal
from settings import Settings
from store import cases as case_store
from store.db import session_for

BATCH = 100  # cases per pass; a longer backlog takes a few passes
MAX_RETRY_DELAY = timedelta(hours=1)  # a case that keeps failing is still tried hourly (a key may come back)
CLAIM_MARGIN_SECONDS = 30.0
log = logging.getLogger(__name__)


async def start_pending(client: Client, settings: Settings) -> int:
    """One pass over the oldest pending cases; returns how many workflows it started (not merely found).
    Raises `WorkflowNotStarted` when Temporal is still away: the rest of the pass would fail the same way. A case
    whose start alone is refused is logged and skipped, so it cannot hold up the others."""
    now = datetime.now(UTC)
    pending = await asyncio.to_thread(_pending, settings, now - timedelta(seconds=settings.reconcile_grace), now)
    started = 0
    for case_id, sealed, attempts in pending:
        started += await _start_one(client, settings, case_id, sealed, attempts)
    return started


async def _start_one(client: Client, settings: Settings, case_id: str, sealed: bytes, attempts: int = 0) -> bool:
    """True if this call started the case's workflow; the kept input is forgotten once Temporal has it."""
    try:
        case = await unseal(client, sealed)
    except ValueError as error:  # a key dropped from PAYLOAD_KEYS, or an input today's schema refuses
        await _failed(settings, case_id, attempts, f"its recorded input does not open ({error})")
        return False
    # Read just now, but the case may have been started, withdrawn (its major incident cancelled) or its customer
    # erased since: never contact them then. The claim and a withdrawal are one conditional write each, so they
    # never both succeed; the claim holds while the start may be in flight (a timed-out start may still land).
    if not await asyncio.to_thread(_claim, settings, case_id, sealed):
        return False
    try:
        started = await ensure_workflow(client, settings, case)
    except WorkflowNotStarted as refused:
        if refused.temporal_away:
            raise
        await _failed(settings, case_id, attempts, f"Temporal refused its start ({refused})")
        return False
    await asyncio.to_thread(_forget_input, settings, case_id)
    return started


async def _failed(settings: Settings, case_id: str, attempts: int, reason: str) -> None:
    delay = min(timedelta(seconds=settings.reconcile_interval) * 2 ** attempts, MAX_RETRY_DELAY)
    log.error("case %s cannot be started: %s; tried again in %s", case_id, reason, delay)
    await asyncio.to_thread(_mark_failed, settings, case_id, reason, datetime.now(UTC) + delay)


async def keep_reconciling(client: Client, settings: Settings) -> None:
    """A pass every `reconcile_interval` seconds for as long as the worker runs. A failed pass (database or
    Temporal away) is logged and tried again next time: the loop ends only with its worker."""
    while True:
        try:
            if started := await start_pending(client, settings):
                log.info("started the workflows of %d recorded cases that had none", started)
        except WorkflowNotStarted as waiting:
            log.warning("reconciler waits for Temporal: %s", waiting)
        except Exception:
            log.exception("reconciler pass failed; next pass in %g s", settings.reconcile_interval)
        await asyncio.sleep(settings.reconcile_interval)


def _pending(settings: Settings, opened_before: datetime, now: datetime) -> list[tuple[str, bytes, int]]:
    with session_for(settings.database_url) as session:
        return case_store.pending_starts(session, opened_before, now, BATCH)


def _claim(settings: Settings, case_id: str, sealed: bytes) -> bool:
    now = datetime.now(UTC)
    with session_for(settings.database_url) as session:
        return case_store.claim_start(session, case_id, sealed, now, now + _start_claim(settings))


def _start_claim(settings: Settings) -> timedelta:
    """How long a reconciler's claim on a start holds: past the start's own timeout, by which any start sent has
    landed or failed; a reconciler that dies meanwhile leaves the case to the next one after that."""
    return timedelta(seconds=settings.intake_start_timeout + CLAIM_MARGIN_SECONDS)


def _mark_failed(settings: Settings, case_id: str, reason: str, retry_at: datetime) -> None:
    with session_for(settings.database_url) as session:
        case_store.mark_start_failed(session, case_id, reason, retry_at)


def _forget_input(settings: Settings, case_id: str) -> None:
    with session_for(settings.database_url) as session:
        case_store.mark_started(session, case_id)
