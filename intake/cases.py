"""Open a case once per (tenant, integrator, external id), and make sure its workflow runs.

The case row is written first, with the workflow's input sealed in it (`start_payload`), so a case is never
lost: if Temporal is unreachable the caller gets a 503 (`WorkflowNotStarted`), and the case is started later
from that very input, by the caller posting again or, if it never does, by the worker's reconciler
(`intake/reconciler.py`). Workflow id = case id with duplicates rejected, so however many of them try, the case
has one workflow.

A case is also one per money event: a second report of a sale already in a case (another door, another
integrator of the tenant) is linked to that case and runs no workflow, so the customer is neither paid nor
contacted twice. A closed case never starts again, even after Temporal's retention forgot its workflow.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import UTC, datetime

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.converter import DataConverter
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from schemas.auth import Principal
from schemas.cases import CaseInput, OpenedCase
from schemas.incidents import IncidentIn
from schemas.progress import CaseStatus
from schemas.refunds import linked_at_intake, money_event_key
from schemas.sla import Priority
from security.codec import EncryptionCodec
from settings import Settings
from store import cases as case_store
from store import refunds as refund_ledger
from store.accounts import active_account
from store.consent import opted_out_channels
from store.db import session_for
from store.tables import CaseRow
from workflows.registry import workflow_for


class WorkflowNotStarted(Exception):
    """The case is recorded, but Temporal did not take its workflow. `temporal_away`: unreachable or silent (every
    other start would fail too), rather than a refusal of this one start."""

    def __init__(self, case_id: str, reason: str, temporal_away: bool = True) -> None:
        super().__init__(f"case {case_id} is recorded; its workflow could not be started yet: {reason}")
        self.case_id = case_id
        self.temporal_away = temporal_away


log = logging.getLogger(__name__)
_AWAY = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED}


class UnknownOwner(ValueError):
    """The incident suggests an owner who is no active staff account of the tenant."""


def case_id_for(tenant: str, integrator: str, external_id: str) -> str:
    """A new case's id, derived from the business key, so every path to the same incident names the same case and
    workflow. Only for a new case: an existing one keeps the id in its row (cases from before tenants have
    sha(integrator, external id)), which is read back, never re-derived."""
    digest = hashlib.sha256(f"{tenant}\x00{integrator}\x00{external_id}".encode()).hexdigest()
    return f"case-{digest[:24]}"


def reference_for(case_id: str) -> str:
    """What the customer quotes ("Ref 3F9A1C07"), and what matches their reply to the case."""
    return case_id.removeprefix("case-")[:8].upper()


async def open_case(client: Client, settings: Settings, opener: Principal, incident: IncidentIn) -> OpenedCase:
    """Records the case (or finds it) and starts its workflow; raises `WorkflowNotStarted` if Temporal cannot, and
    `UnknownOwner` if the incident suggests an owner the tenant has no account for. A closed case (linked to the
    case that owns its money event, or finished long ago) is not started."""
    case_id = case_id_for(opener.tenant, opener.id, incident.external_id)
    row, created, case = await run_in_threadpool(_record, settings, client.data_converter, opener, case_id,
                                                 incident)
    if row.status == CaseStatus.closed:
        if created and row.linked_to is not None and not await _tell_about_contact(client, row.linked_to, incident):
            await run_in_threadpool(_contact_not_handed_over, settings, row.linked_to, row.id)
    else:
        if not created:
            case = await _input_of_existing(client, row, case)
        await ensure_workflow(client, settings, case)
    return OpenedCase(case_id=row.id, created=created, linked_to=row.linked_to,
                      links={"self": f"/cases/{row.id}", "timeline": f"/cases/{row.id}/timeline"})


def _record(settings: Settings, converter: DataConverter, opener: Principal, case_id: str,
            incident: IncidentIn) -> tuple[CaseRow, bool, CaseInput]:
    """One session (this runs once per post, on the hot path): the channels already stopped, the workflow's
    whole input (the incident, the policy as it is now), the case row holding that input sealed, and the claim
    on the money event (a second report of it is linked to the case that owns it)."""
    money_event = money_event_key(opener.tenant, incident, case_id)
    with session_for(settings.database_url) as session:
        # The incident stays as posted (its `owner` a suggestion); the case's owner is the account it names.
        try:
            owner = _owner(session, opener.tenant, incident.owner, settings.policy.triage_owner)
        except UnknownOwner:
            if case_store.existing_case(session, opener.tenant, opener.id, incident.external_id) is None:
                raise
            owner = None  # a retry of a case that exists (its account since disabled, say): the row's owner stands
        opted_out = opted_out_channels(session, opener.tenant, incident.customer.phone, incident.customer.email)
        case = CaseInput(case_id=case_id, reference=reference_for(case_id), incident=incident,
                         policy=settings.policy, opened_at=datetime.now(UTC), owner=owner,
                         priority=settings.policy.sla.priority_for(incident.source), opted_out=opted_out,
                         tenant=opener.tenant, money_event=money_event)
        # An owner an integrator nominated is recorded as its assignment: no reason to read the customer's data
        # until a supervisor assigns the case (privacy.rules).
        nominated_by = opener.id if incident.owner is not None and opener.sees_only_own_cases else None
        row, created = case_store.open_case(session, case_id, case.reference, opener.tenant, opener.id, incident,
                                            case.opened_at, case.owner, case.priority,
                                            start_payload=seal(converter, case), assigned_by=nominated_by)
        if not created:
            case = _as_recorded(case, row, money_event_key(opener.tenant, incident, row.id))
        if row.status != CaseStatus.closed and linked_at_intake(incident):
            handled_by = refund_ledger.claim_money_event(session, case.money_event, row.id)
            if handled_by != row.id:
                case_store.link_to(session, row, handled_by, opener.id)
    return row, created, case


def _contact_not_handed_over(settings: Settings, owner_case_id: str, case_id: str) -> None:
    with session_for(settings.database_url) as session:
        case_store.contact_not_handed_over(session, owner_case_id, case_id)


def _owner(session: Session, tenant: str, suggested: str | None, triage_owner: str | None) -> str | None:
    """A case's owner is a staff account, never a name an integrator made up: a suggestion must be one of the
    tenant's accounts; without one, the triage owner if the tenant has that account, else nobody (escalates)."""
    if suggested is not None:
        account = active_account(session, tenant, suggested)
        if account is None:
            raise UnknownOwner(f"no staff account '{suggested}' in this tenant")
        return account.id
    account = active_account(session, tenant, triage_owner) if triage_owner else None
    return account.id if account else None


def _as_recorded(posted: CaseInput, row: CaseRow, money_event: str) -> CaseInput:
    """This post's input with the case's own id, reference, time and owner, taken from its row and never
    re-derived: a case opened before tenants (or under any older id formula) keeps the id its workflow runs under."""
    return posted.model_copy(update={"case_id": row.id, "reference": row.reference, "opened_at": row.opened_at,
                                     "owner": row.owner, "priority": Priority(row.priority),
                                     "money_event": money_event})


async def _tell_about_contact(client: Client, case_id: str, incident: IncidentIn) -> bool:
    """The case that handles the money event may not know how to reach the customer (a till seldom does); this
    report may (the customer called the contact centre). False when its workflow did not take them: it has
    finished, or it is not running yet (its start failed and waits for the reconciler)."""
    if incident.customer.phone is None and incident.customer.email is None:
        return True
    try:
        await client.get_workflow_handle(case_id).signal("contact_reported", incident.customer)
    except RPCError as error:
        log.warning("case %s: contact details of a linked report not handed to its workflow (%s)", case_id,
                    error.status.name if error.status else error)
        return False
    return True


async def _input_of_existing(client: Client, row: CaseRow, posted: CaseInput) -> CaseInput:
    """The input the case was opened with, while it is kept; once the workflow runs, any input will do (the
    start is then refused as a duplicate), so this post's (already given the case's own id, reference, time and
    owner by `_record`)."""
    if row.start_payload is not None:
        try:
            return await unseal(client, row.start_payload)
        except ValueError as error:  # its key dropped from PAYLOAD_KEYS: the poster cannot fix that, an operator can
            log.error("case %s: its kept input does not open (%s); restore its payload key", row.id, error)
            raise WorkflowNotStarted(row.id, "its recorded input cannot be opened by this server (a payload key "
                                     "is missing); an operator must restore the key", temporal_away=False) from None
    return posted


async def ensure_workflow(client: Client, settings: Settings, case: CaseInput) -> bool:
    """Starts the case's workflow; False if it already existed (running or finished), which is just as good.

    The client retries an unreachable server for several seconds on its own; `intake_start_timeout` bounds it.
    """
    timeout = settings.intake_start_timeout
    try:
        async with asyncio.timeout(timeout):
            await client.start_workflow(
                workflow_for(case.incident.kind).run, case, id=case.case_id, task_queue=settings.temporal_task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        return True
    except WorkflowAlreadyStartedError:
        return False
    except TimeoutError:
        raise WorkflowNotStarted(case.case_id, f"Temporal did not answer within {timeout:g} s") from None
    except RuntimeError as error:  # a lazy client that cannot connect
        raise WorkflowNotStarted(case.case_id, f"Temporal unreachable ({error})") from error
    except RPCError as error:
        raise WorkflowNotStarted(case.case_id, f"Temporal answered {error.status.name}: {error}",
                                 temporal_away=error.status in _AWAY) from error


def seal(converter: DataConverter, case: CaseInput) -> bytes:
    """The input as the client sends it to Temporal: JSON, then sealed with the payload key when one is set."""
    [payload] = converter.payload_converter.to_payloads([case])
    if isinstance(converter.payload_codec, EncryptionCodec):
        [payload] = converter.payload_codec.seal_all([payload])
    elif converter.payload_codec is not None:
        raise TypeError("case inputs are sealed only with our EncryptionCodec (temporal_client.data_converter)")
    return payload.SerializeToString()


async def unseal(client: Client, sealed: bytes) -> CaseInput:
    [case] = await client.data_converter.decode([Payload.FromString(sealed)], [CaseInput])
    return case
