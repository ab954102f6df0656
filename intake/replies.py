"""A customer's answer, from any door (an agent's form, an SMS webhook, an email webhook): read its intent,
store it, honour a STOP everywhere, and hand it to the case's workflow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.concurrency import run_in_threadpool
from temporalio.client import Client
from temporalio.service import RPCError

from schemas.api import ReplyAccepted, ReplyIn
from schemas.cases import LiveState
from schemas.replies import CustomerReply, IntentKind, ReplyIntent, interpret_reply
from settings import Settings
from store.consent import record_opt_out
from store.db import session_for
from store.replies import open_cases_of, record_inbound

QUERY_TIMEOUT = timedelta(seconds=2)


class WorkflowGone(Exception):
    """The reply is stored, but the case's workflow no longer runs to act on it."""


async def live_state(client: Client, case_id: str) -> LiveState | None:
    """Asks the workflow itself; None when there is no running workflow to ask right now."""
    try:
        return await client.get_workflow_handle(case_id).query("state", result_type=LiveState,
                                                               rpc_timeout=QUERY_TIMEOUT)
    except Exception:  # noqa: BLE001  (no worker, no workflow, or timed out: callers fall back to the read model)
        return None


async def deliver_reply(client: Client, settings: Settings, case_id: str | None, reply: ReplyIn) -> ReplyAccepted:
    """Stores the reply (matched or not) before signalling, so an answer is never lost."""
    live = await live_state(client, case_id) if case_id else None
    intent = reply.intent or interpret_reply(reply.text, live.expecting if live else None)

    def store() -> tuple[bool, list[str]]:
        with session_for(settings.database_url) as session:
            stored = record_inbound(session, case_id, reply, intent)
            if intent.kind is not IntentKind.opt_out or not reply.sender:
                return stored, [case_id] if case_id else []
            record_opt_out(session, reply.sender, reply.channel)
            return stored, [case.id for case in open_cases_of(session, reply.sender)]

    stored, cases_to_tell = await run_in_threadpool(store)
    if not stored:  # a redelivered webhook: the first delivery already did everything
        return ReplyAccepted(case_id=case_id, intent=intent, delivered_to_workflow=False)
    for each in cases_to_tell:
        await _signal(client, each, reply, intent)
    return ReplyAccepted(case_id=case_id, intent=intent, delivered_to_workflow=bool(cases_to_tell))


async def _signal(client: Client, case_id: str, reply: ReplyIn, intent: ReplyIntent) -> None:
    message = CustomerReply(channel=reply.channel, text=reply.text, intent=intent, received_at=datetime.now(UTC))
    try:
        await client.get_workflow_handle(case_id).signal("customer_replied", message)
    except RPCError as error:
        raise WorkflowGone(error.message) from error
