"""A customer's answer, from any door (an agent's form, an SMS webhook, an email webhook): store it as it came,
honour a STOP in every case of the tenant it answers, and hand it to the case's workflow.

What a reply *means* is decided by the workflow, which knows what it asked: "1" is a score when it asked for one,
the card when it asked where the money should go. The API reads only what needs no context: a STOP, and an
intent an agent states. So a slow or stopped worker never changes the meaning of a reply; it only delays it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.concurrency import run_in_threadpool
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from schemas.api import ReplyAccepted, ReplyIn
from schemas.cases import LiveState
from schemas.channels import Channel
from schemas.phones import as_phone_address
from schemas.replies import CustomerReply, IntentKind, ReplyIntent, interpret_reply
from settings import Settings
from store.consent import record_opt_out
from store.db import session_for
from store.replies import attach, detach, open_cases_of, record_inbound
from store.tables import CaseRow, MessageRow

QUERY_TIMEOUT = timedelta(seconds=2)
# A carrier vouches for who sent a text or an email, whichever case it reaches; a call's answer it vouches for only
# as the answer to our call, and an unmatched one came from a call whose reference named no case of ours.
SENDER_VOUCHED_WHEREVER_ATTACHED = frozenset({Channel.sms, Channel.email})


class WorkflowGone(Exception):
    """The reply is stored, but the case's workflow no longer runs to act on it."""


class TemporalAway(Exception):
    """Temporal did not take the signal now (unreachable, timed out, overloaded): it may yet, so ask again."""


class NotTheirStop(Exception):
    """A STOP from an address that is not the case's customer's: attached, it would end contact with someone who
    never asked that. It stays in the inbox (its sender's own opt-out was recorded when it came)."""


# Temporal's answer when the workflow is not running (never was, or has completed): nothing will take the reply.
_GONE = {RPCStatusCode.NOT_FOUND}


async def live_state(client: Client, case_id: str) -> LiveState | None:
    """Asks the workflow itself; None when there is no running workflow to ask right now."""
    try:
        return await client.get_workflow_handle(case_id).query("state", result_type=LiveState,
                                                               rpc_timeout=QUERY_TIMEOUT)
    except Exception:  # noqa: BLE001  (no worker, no workflow, or timed out: callers fall back to the read model)
        return None


async def deliver_reply(client: Client, settings: Settings, tenant: str, case_id: str | None, reply: ReplyIn,
                        sender_auth: str | None = None, authenticated: bool = False) -> ReplyAccepted:
    """Stores the reply (matched or not) before signalling, so an answer is never lost. `tenant` is the one
    the reply came to (its case's, or the carrier key's): a STOP ends contact within that tenant only.
    `authenticated`: the door vouches for the reply's channel and sender (see `CustomerReply.authenticated`)."""
    intent = reply.intent or _stop_or_none(reply.text)

    def store() -> tuple[bool, list[str]]:
        with session_for(settings.database_url) as session:
            stored = record_inbound(session, tenant, case_id, reply, intent, sender_auth)
            if intent is None or intent.kind is not IntentKind.opt_out or not reply.sender:
                return stored, [case_id] if case_id else []
            record_opt_out(session, tenant, reply.sender, reply.channel)
            return stored, [case.id for case in open_cases_of(session, tenant, reply.sender)]

    stored, cases_to_tell = await run_in_threadpool(store)
    if not stored:  # a redelivered webhook: the first delivery already did everything
        return ReplyAccepted(case_id=case_id, intent=intent, delivered_to_workflow=False)
    for each in cases_to_tell:
        try:
            await _signal(client, each, reply, intent, authenticated)
        except TemporalAway as away:  # the reply is on the case already; its callers treat both alike, as before
            raise WorkflowGone(str(away)) from away
    return ReplyAccepted(case_id=case_id, intent=intent, delivered_to_workflow=bool(cases_to_tell))


async def attach_reply(client: Client, settings: Settings, tenant: str, message_id: int, case_id: str,
                       attached_by: str) -> ReplyAccepted:
    """A reply that matched no case, placed on `case_id` by a person: it reaches the case's workflow as a matched
    reply does, once, with the time it came, and the workflow reads it knowing what it asked. Proof of a bank
    account is the workflow's as ever: a text proves one only from the number on file (else the code is texted
    there), an email never, and an unmatched call answer here proves nothing. Raises `NoSuchReply`,
    `AlreadyAttached` (on another case), `NotTheirStop`, `WorkflowGone` (the reply is then back in the inbox, not
    on a case that cannot read it) or `TemporalAway` (it stays on the case: attaching it there again sends it again).

    The claim commits before the signal, so a crash or an outage between them leaves the reply on the case
    unsignalled; attaching it to the same case again re-sends it, and the workflow reads a message id once."""
    def claim() -> tuple[ReplyIn, datetime]:
        with session_for(settings.database_url) as session:
            _refuse_a_strangers_stop(session.get(MessageRow, message_id), session.get(CaseRow, case_id))
            row = attach(session, tenant, message_id, case_id, attached_by)
            return ReplyIn(channel=row.channel, text=row.body, sender=row.from_address), row.created_at

    def release() -> None:
        with session_for(settings.database_url) as session:
            detach(session, message_id, case_id)

    reply, received_at = await run_in_threadpool(claim)
    intent = _stop_or_none(reply.text)  # a STOP's opt-out was recorded when it came: this case hears it too
    try:
        await _signal(client, case_id, reply, intent, reply.channel in SENDER_VOUCHED_WHEREVER_ATTACHED, received_at,
                      message_id)
    except WorkflowGone:
        await run_in_threadpool(release)
        raise
    return ReplyAccepted(case_id=case_id, intent=intent, delivered_to_workflow=True)


def _refuse_a_strangers_stop(message: MessageRow | None, case: CaseRow | None) -> None:
    if message is None or case is None or _stop_or_none(message.body) is None:
        return
    sender = as_phone_address(message.from_address) if message.from_address else None
    if sender is None or sender not in (case.customer_phone, case.customer_email):
        raise NotTheirStop(message.id)


def _stop_or_none(text: str) -> ReplyIntent | None:
    """A STOP is a STOP whatever was asked; any other text is for the case to read."""
    intent = interpret_reply(text)
    return intent if intent.kind is IntentKind.opt_out else None


async def _signal(client: Client, case_id: str, reply: ReplyIn, intent: ReplyIntent | None,
                  authenticated: bool, received_at: datetime | None = None, message_id: int | None = None) -> None:
    # The number on file is kept in E.164; a carrier may write the same number otherwise ("040 123 4567").
    sender = as_phone_address(reply.sender) if reply.sender else None
    message = CustomerReply(channel=reply.channel, text=reply.text, intent=intent,
                            received_at=received_at or datetime.now(UTC), sender=sender, authenticated=authenticated,
                            message_id=message_id)
    try:
        await client.get_workflow_handle(case_id).signal("customer_replied", message)
    except RPCError as error:
        raise (WorkflowGone if error.status in _GONE else TemporalAway)(error.message) from error
