"""Doors for carriers: inbound SMS, call answers and delivery reports from Twilio, inbound email from a mail
gateway; and the inbox of replies that matched no open case (kept, never dropped).

A carrier's key belongs to one tenant (the tenant whose numbers and mailbox it serves): what it posts is matched
to that tenant's cases only. Beyond the key, each post must prove it comes from the carrier: Twilio's signature
(checked whenever Twilio is configured, over our public URL) and the mail gateway's HMAC of the body.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from temporalio.service import RPCError
from twilio.request_validator import RequestValidator

from api.auth import AgentDep, StaffAgentDep, require
from api.case_access import named_case
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.errors import Problem
from intake.replies import NotTheirStop, TemporalAway, WorkflowGone, attach_reply, deliver_reply
from privacy.masking import masked_inbound
from providers.messaging.twilio import FINAL_STATUSES
from schemas.api import EmailReplyIn, InboundMessageView, ReplyAccepted, ReplyIn
from schemas.auth import Principal, Scope
from schemas.channels import Channel
from schemas.inputs import SingleLine
from schemas.messages import DeliveryStatus, DeliveryUpdate
from schemas.progress import CaseStatus
from settings import Settings
from store.db import session_for
from store.messages import set_delivery_status
from store.replies import AlreadyAttached, NoSuchReply, match_open_case, open_cases_of, unmatched
from store.tables import CaseRow, MessageRow

router = APIRouter(tags=["inbound"])
CarrierDep = Annotated[Principal, Depends(require(Scope.messages_inbound))]
SIGNATURE_HEADER = "X-Signature-256"
TIMESTAMP_HEADER = "X-Signature-Timestamp"
# A signed email older (or further ahead) than this is refused: a captured post cannot be replayed later. Within it,
# the required `message_id` makes a replay a duplicate that is stored once and told to no case again.
SIGNATURE_TOLERANCE_SECONDS = 300
RETRY_AFTER_SECONDS = 5  # an attach Temporal did not take: about when to try the same attach again
log = logging.getLogger(__name__)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


@router.post("/webhooks/twilio/sms", response_class=Response)
async def twilio_inbound_sms(request: Request, settings: SettingsDep, temporal: TemporalDep,
                             carrier: CarrierDep) -> Response:
    """An SMS from a customer (Twilio's form post), matched to their open case by number and reference."""
    form = await _twilio_form(request, settings)
    sender, text = form.get("From", ""), form.get("Body", "")
    reply = ReplyIn(channel=Channel.sms, text=_said(text, "(empty)"), sender=sender[:320],
                    provider_message_id=form.get("MessageSid"))
    await _deliver_matched(temporal, settings, carrier.tenant, reply, sender, text)
    return Response(EMPTY_TWIML, media_type="text/xml")


@router.post("/webhooks/twilio/voice", response_class=Response)
async def twilio_call_answer(request: Request, settings: SettingsDep, temporal: TemporalDep, carrier: CarrierDep,
                             ref: Annotated[str, Query(max_length=300)]) -> Response:
    """What the customer keyed or said during our call (Twilio's Gather)."""
    form = await _twilio_form(request, settings)
    said = form.get("Digits") or form.get("SpeechResult") or ""
    reply = ReplyIn(channel=Channel.voice, text=_said(said, "(nothing)"), sender=form.get("To"),
                    provider_message_id=form.get("CallSid"))
    case_id = await run_in_threadpool(_carriers_case, settings, carrier, ref)
    await _deliver_or_keep(temporal, settings, carrier.tenant, case_id, reply)
    return Response('<?xml version="1.0" encoding="UTF-8"?><Response><Say>Thank you.</Say></Response>',
                    media_type="text/xml")


@router.post("/webhooks/twilio/status", status_code=status.HTTP_204_NO_CONTENT)
async def twilio_delivery_report(request: Request, settings: SettingsDep, temporal: TemporalDep,
                                 carrier: CarrierDep, ref: Annotated[str, Query(max_length=300)]) -> None:
    """A message's or call's final fate; the contact plan falls back on failures and calls not answered."""
    form = await _twilio_form(request, settings)
    outcome = FINAL_STATUSES.get(form.get("MessageStatus") or form.get("CallStatus") or "")
    if outcome is None or await run_in_threadpool(_carriers_case, settings, carrier, ref) is None:
        return
    await run_in_threadpool(_store_status, settings, ref, outcome)
    try:
        await temporal.get_workflow_handle(_case_of(ref)).signal(
            "delivery_updated", DeliveryUpdate(idempotency_key=ref, status=outcome))
    except RPCError:
        pass  # the case has closed since: the report is kept on the message, nothing is left to act


@router.post("/webhooks/email", status_code=status.HTTP_202_ACCEPTED, response_model=ReplyAccepted,
             openapi_extra={"parameters": [{"in": "header", "name": SIGNATURE_HEADER, "required": True,
                                            "schema": {"type": "string"},
                                            "description": "sha256=<hex HMAC-SHA256 of '<timestamp>.<body>'>"},
                                           {"in": "header", "name": TIMESTAMP_HEADER, "required": True,
                                            "schema": {"type": "string"},
                                            "description": "Unix seconds when signed; 5 minutes old is refused"}],
                            "requestBody": {"required": True, "content": {
                                "application/json": {"schema": EmailReplyIn.model_json_schema()}}}})
async def inbound_email(carrier: CarrierDep, email: Annotated[EmailReplyIn, Depends(signed_email)],
                        settings: SettingsDep, temporal: TemporalDep) -> ReplyAccepted:
    """An email the mail gateway received and parsed, signed by it with a timestamp (401 unless the signature
    matches and is fresh; a `message_id` seen before is stored once). The gateway's SPF/DKIM verdict is kept with
    the message for the agents who read it. Whatever the verdict, the workflow treats an email's sender as
    unauthenticated: an email answers a question, but a bank account it names is paid only once the customer
    echoes a code texted to the number on file (workflows/paying.py)."""
    reply = ReplyIn(channel=Channel.email, text=_said(email.text, "(empty)"), sender=email.sender,
                    provider_message_id=email.message_id)
    return await _deliver_matched(temporal, settings, carrier.tenant, reply, email.sender,
                                  f"{email.subject}\n{email.text}", sender_auth=email.verdict())


@router.get("/replies/unmatched", response_model=list[InboundMessageView])
def unmatched_replies(session: SessionDep, agent: AgentDep,
                      limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[InboundMessageView]:
    """Answers to the agent's tenant that matched no open case: for an agent to place by hand (sender and bank
    accounts masked), each with the open cases whose customer is its sender (a sender with several and no
    reference in the text stays unmatched; one not listed for a case is not that case's customer). Staff only: an
    integrator never reads customers' messages that are not on its cases."""
    def view(row: MessageRow) -> InboundMessageView:
        cases = open_cases_of(session, agent.tenant, row.from_address) if row.from_address else []
        return masked_inbound(InboundMessageView.model_validate(row, from_attributes=True).model_copy(
            update={"senders_open_cases": [case.reference for case in cases]}))

    return [view(row) for row in unmatched(session, agent.tenant, limit)]


# messages.id is a 32-bit INTEGER (migration 0001): a larger id is no reply of ours, refused before PostgreSQL
# would fail the query (a 500). The console's attach form takes the same type.
MAX_MESSAGE_ID = 2**31 - 1
MessageId = Annotated[int, Path(ge=1, le=MAX_MESSAGE_ID,
                                description="The reply's id, as `GET /replies/unmatched` lists it.")]


class AttachIn(BaseModel):
    case: SingleLine = Field(description="The case's id, or its reference as the customer quotes it.",
                             examples=["3F9A1C07"])


@router.post("/replies/unmatched/{message_id}/attach", status_code=status.HTTP_202_ACCEPTED,
             response_model=ReplyAccepted, responses={
                 404: {"model": Problem, "description": "No such reply or case in this tenant."},
                 409: {"model": Problem, "description": "The reply is on another case already, the case is "
                                                        "closed or no longer runs, or the reply is a STOP from "
                                                        "someone other than the case's customer."},
                 503: {"model": Problem, "description": "Temporal did not take it now: the reply stays on the case; "
                                                        "attaching it there again (after Retry-After) re-sends it."}})
async def attach_unmatched_reply(message_id: MessageId, attach: AttachIn,
                                 settings: SettingsDep, temporal: TemporalDep, agent: StaffAgentDep) -> ReplyAccepted:
    """Places a reply that matched no case on one of the tenant's open cases (a person's decision, on the case's
    timeline with their name). The case's workflow gets it as a matched reply, once: attaching it to another case
    is 409; attaching it to the same case again re-sends it (a retry after a 503), and the case reads it once.
    What proves a bank account stays the workflow's rule: a text proves one only from the case's number on file,
    otherwise the customer confirms it with the code texted there (an email, another number, a call answer)."""
    def open_case_named() -> str:
        with session_for(settings.database_url) as session:
            case = named_case(session, attach.case, agent)
            if case.status == CaseStatus.closed:
                raise HTTPException(status.HTTP_409_CONFLICT, f"case {case.reference} is closed: a reply on it "
                                    "would reach no one; the reply stays in the inbox")
            return case.id

    case_id = await run_in_threadpool(open_case_named)
    try:
        return await attach_reply(temporal, settings, agent.tenant, message_id, case_id, agent.id)
    except NoSuchReply:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no reply {message_id}") from None
    except AlreadyAttached as taken:
        raise HTTPException(status.HTTP_409_CONFLICT, f"reply {message_id} is on case {taken.case_id} already: "
                            "it is told to no case twice") from None
    except NotTheirStop:
        raise HTTPException(status.HTTP_409_CONFLICT, f"reply {message_id} is a STOP from someone other than the "
                            f"customer of case {case_id}: it cannot end contact with them; the reply stays in the "
                            "inbox") from None
    except WorkflowGone as gone:
        log.info("reply %s not attached: case %s no longer runs (%s)", message_id, case_id, gone)
        raise HTTPException(status.HTTP_409_CONFLICT, f"case {case_id} no longer runs: the reply stays in "
                            "the inbox") from None
    except TemporalAway as away:
        log.warning("reply %s attached to case %s, not yet told to it: %s", message_id, case_id, away)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"reply {message_id} is on case {case_id}, but "
                            "the case could not be told yet: attach it to the same case again shortly",
                            headers={"Retry-After": str(RETRY_AFTER_SECONDS)}) from None


async def _deliver_matched(temporal, settings: Settings, tenant: str, reply: ReplyIn, sender: str, text: str,
                           sender_auth: str | None = None) -> ReplyAccepted:
    def match() -> str | None:
        with session_for(settings.database_url) as session:
            return match_open_case(session, tenant, sender, text)

    case_id = await run_in_threadpool(match)
    return await _deliver_or_keep(temporal, settings, tenant, case_id, reply, sender_auth)


async def _deliver_or_keep(temporal, settings: Settings, tenant: str, case_id: str | None, reply: ReplyIn,
                           sender_auth: str | None = None) -> ReplyAccepted:
    """A carrier's webhook (its key, and its signature where the carrier signs) vouches for channel and sender."""
    try:
        return await deliver_reply(temporal, settings, tenant, case_id, reply, sender_auth, authenticated=True)
    except WorkflowGone:  # stored on the case already; a carrier must not retry it forever
        return ReplyAccepted(case_id=case_id, intent=reply.intent, delivered_to_workflow=False)


async def _twilio_form(request: Request, settings: Settings) -> dict[str, str]:
    """Twilio's form fields, after checking its signature whenever Twilio is configured (the settings refuse a
    Twilio account without its auth token). Twilio signs the URL it called, which is our public one: behind a
    TLS-terminating proxy `request.url` is not (http, an inner host), so the check uses PUBLIC_BASE_URL."""
    form = {key: str(value) for key, value in (await request.form()).items()}
    token = settings.twilio_auth_token
    if token is not None:
        signature = request.headers.get("X-Twilio-Signature", "")
        called = settings.public_base_url.rstrip("/") + request.url.path
        called += f"?{request.url.query}" if request.url.query else ""
        if not RequestValidator(token.get_secret_value()).validate(called, form, signature):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "the Twilio signature does not match",
                                headers={"WWW-Authenticate": "Bearer"})
    return form


async def signed_email(request: Request, settings: SettingsDep) -> EmailReplyIn:
    """The mail gateway's post, parsed only once its signature over the timestamp and raw body checks out."""
    body = await request.body()
    secret = settings.mail_gateway_secret
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    # Bytes, not str: a header may carry any Latin-1 character, which `compare_digest` refuses in a str (a 500).
    presented = request.headers.get(SIGNATURE_HEADER, "").encode()
    if secret is None or not hmac.compare_digest(
            presented, body_signature(secret.get_secret_value(), timestamp, body).encode()):
        raise _unauthorised(f"the mail gateway's {SIGNATURE_HEADER} does not match its {TIMESTAMP_HEADER} and "
                            "body (or no MAIL_GATEWAY_SECRET is configured)")
    if not timestamp.isascii() or not timestamp.isdigit() \
            or abs(time.time() - int(timestamp)) > SIGNATURE_TOLERANCE_SECONDS:
        raise _unauthorised(f"the mail gateway's {TIMESTAMP_HEADER} is more than {SIGNATURE_TOLERANCE_SECONDS} s "
                            "from now: a signed post is taken only when fresh")
    try:
        return EmailReplyIn.model_validate_json(body)
    except ValidationError as invalid:
        raise RequestValidationError(invalid.errors(include_url=False, include_context=False)) from None


def body_signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>`: an HMAC-SHA256 of the timestamp, a dot and the exact bytes posted, as Stripe and Standard
    Webhooks (our own outbound webhooks) sign, so the time is covered too."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _unauthorised(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, reason, headers={"WWW-Authenticate": "Bearer"})


def _carriers_case(settings: Settings, carrier: Principal, ref: str) -> str | None:
    """The case a callback's `ref` names, if it is a case of the carrier's tenant (else it is not theirs)."""
    with session_for(settings.database_url) as session:
        case = session.get(CaseRow, _case_of(ref))
        return case.id if case is not None and case.tenant == carrier.tenant else None


def _said(text: str, placeholder: str) -> str:
    """What the customer sent, as a reply can hold it; a blank message is still kept (as the placeholder)."""
    clipped = text[:2000]
    return clipped if clipped.strip() else placeholder


def _case_of(idempotency_key: str) -> str:
    """Our message keys begin with the case id (`case-...:template:n`)."""
    return idempotency_key.split(":", 1)[0]


def _store_status(settings: Settings, key: str, outcome: DeliveryStatus) -> None:
    with session_for(settings.database_url) as session:
        set_delivery_status(session, key, outcome)
