"""Starts the workflow of every recorded case that has none, so a case is worked even when Temporal was down at
intake and the integrator (a till that fires and forgets) never posts again.

A case whose workflow is not known to run still holds its sealed input (`cases.start_payload`); the workflow's
first read-model write empties it, and so does this reconciler once Temporal has the workflow. Every worker
process runs it beside its Temporal worker (`worker.py`). Any number may run at once, with the API's own starts
too: the workflow id is the case id and duplicates are rejected, so the losers of a race learn the workflow
exists and simply forget the input. Cases younger than `reconcile_grace` are left alone: their intake may still
be starting them.
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
log = logging.getLogger(__name__)


async def start_pending(client: Client, settings: Settings) -> int:
    """One pass over the oldest pending cases; returns how many workflows it started (not merely found).
    Raises `WorkflowNotStarted` when Temporal is still away: the rest of the pass would fail the same way. A case
    whose start alone is refused is logged and skipped, so it cannot hold up the others."""
    opened_before = datetime.now(UTC) - timedelta(seconds=settings.reconcile_grace)
    pending = await asyncio.to_thread(_pending, settings, opened_before)
    started = 0
    for case_id, sealed in pending:
        started += await _start_one(client, settings, case_id, sealed)
    return started


async def _start_one(client: Client, settings: Settings, case_id: str, sealed: bytes) -> bool:
    """True if this call started the case's workflow; the kept input is forgotten once Temporal has it."""
    try:
        started = await ensure_workflow(client, settings, await unseal(client, sealed))
    except ValueError as error:  # a key dropped from PAYLOAD_KEYS, or an input today's schema refuses
        log.error("case %s cannot be started: its recorded input does not open (%s)", case_id, error)
        return False
    except WorkflowNotStarted as refused:
        if refused.temporal_away:
            raise
        log.error("case %s: Temporal refused its start; tried again next pass: %s", case_id, refused)
        return False
    await asyncio.to_thread(_forget_input, settings, case_id)
    return started


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


def _pending(settings: Settings, opened_before: datetime) -> list[tuple[str, bytes]]:
    with session_for(settings.database_url) as session:
        return case_store.pending_starts(session, opened_before, BATCH)


def _forget_input(settings: Settings, case_id: str) -> None:
    with session_for(settings.database_url) as session:
        case_store.mark_started(session, case_id)
