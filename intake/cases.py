"""Open a case once per (integrator, external id), and make sure its workflow runs.

The case row is written first, so a case is never lost: if Temporal is unreachable the caller gets a 503,
posts again, and the second post starts the same workflow (workflow id = case id, duplicates rejected).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from schemas.cases import CaseInput, OpenedCase
from schemas.incidents import IncidentIn
from settings import Settings
from store import cases as case_store
from store.consent import opted_out_channels
from store.db import session_for
from workflows.registry import workflow_for


def case_id_for(integrator: str, external_id: str) -> str:
    """Derived from the business key, so every path to the same incident names the same case and workflow."""
    digest = hashlib.sha256(f"{integrator}\x00{external_id}".encode()).hexdigest()
    return f"case-{digest[:24]}"


def reference_for(case_id: str) -> str:
    """What the customer quotes ("Ref 3F9A1C07"), and what matches their reply to the case."""
    return case_id.removeprefix("case-")[:8].upper()


async def open_case(client: Client, settings: Settings, integrator: str, incident: IncidentIn) -> OpenedCase:
    case_id = case_id_for(integrator, incident.external_id)
    owner = incident.owner or settings.policy.triage_owner
    priority = settings.policy.sla.priority_for(incident.source)

    def write() -> tuple[bool, CaseInput]:
        with session_for(settings.database_url) as session:
            row, created = case_store.open_case(session, case_id, reference_for(case_id), integrator, incident,
                                                datetime.now(UTC), owner, priority)
            opted_out = opted_out_channels(session, incident.customer.phone, incident.customer.email)
        return created, CaseInput(case_id=case_id, reference=row.reference, incident=incident, policy=settings.policy,
                                  opened_at=row.opened_at, owner=row.owner, priority=row.priority,
                                  opted_out=opted_out)

    created, case = await run_in_threadpool(write)
    await _ensure_workflow(client, settings, case)
    return OpenedCase(case_id=case_id, created=created,
                      links={"self": f"/cases/{case_id}", "timeline": f"/cases/{case_id}/timeline"})


async def _ensure_workflow(client: Client, settings: Settings, case: CaseInput) -> None:
    try:
        await client.start_workflow(
            workflow_for(case.incident.kind).run, case, id=case.case_id, task_queue=settings.temporal_task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        pass  # the same case, already running or finished: exactly what the caller wants
