"""Doors for carriers: inbound SMS, call answers and delivery reports from Twilio, inbound email from a mail
gateway; and the inbox of replies that matched no open case (kept, never dropped)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool
from temporalio.service import RPCError
from twilio.request_validator import RequestValidator

from api.auth import ReaderDep, require
from api.deps import SessionDep, SettingsDep, TemporalDep
from intake.replies import WorkflowGone, deliver_reply
from privacy.masking import masked_inbound
from providers.messaging.twilio import FINAL_STATUSES
from schemas.api import EmailReplyIn, InboundMessageView, ReplyAccepted, ReplyIn
from schemas.auth import Principal, Scope
from schemas.channels import Channel
from schemas.messages import DeliveryStatus, DeliveryUpdate
from settings import Settings
from store.db import session_for
from store.messages import set_delivery_status
from store.replies import match_open_case, unmatched

router = APIRouter(tags=["inbound"])
CarrierDep = Annotated[Principal, Depends(require(Scope.messages_inbound))]
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


@router.post("/webhooks/twilio/sms", response_class=Response)
async def twilio_inbound_sms(request: Request, settings: SettingsDep, temporal: TemporalDep,
                             _carrier: CarrierDep) -> Response:
    """An SMS from a customer (Twilio's form post), matched to their open case by number and reference."""
    form = await _twilio_form(request, settings)
    sender, text = form.get("From", ""), form.get("Body", "")
    reply = ReplyIn(channel=Channel.sms, text=_said(text, "(empty)"), sender=sender[:320],
                    provider_message_id=form.get("MessageSid"))
    await _deliver_matched(temporal, settings, reply, sender, text)
    return Response(EMPTY_TWIML, media_type="text/xml")


@router.post("/webhooks/twilio/voice", response_class=Response)
async def twilio_call_answer(request: Request, settings: SettingsDep, temporal: TemporalDep, _carrier: CarrierDep,
                             ref: Annotated[str, Query(max_length=300)]) -> Response:
    """What the customer keyed or said during our call (Twilio's Gather)."""
    form = await _twilio_form(request, settings)
    said = form.get("Digits") or form.get("SpeechResult") or ""
    reply = ReplyIn(channel=Channel.voice, text=_said(said, "(nothing)"), sender=form.get("To"),
                    provider_message_id=form.get("CallSid"))
    await _deliver_or_keep(temporal, settings, _case_of(ref), reply)
    return Response('<?xml version="1.0" encoding="UTF-8"?><Response><Say>Thank you.</Say></Response>',
                    media_type="text/xml")


@router.post("/webhooks/twilio/status", status_code=status.HTTP_204_NO_CONTENT)
async def twilio_delivery_report(request: Request, settings: SettingsDep, temporal: TemporalDep,
                                 _carrier: CarrierDep, ref: Annotated[str, Query(max_length=300)]) -> None:
    """A message's or call's final fate; the contact plan falls back on failures and calls not answered."""
    form = await _twilio_form(request, settings)
    outcome = FINAL_STATUSES.get(form.get("MessageStatus") or form.get("CallStatus") or "")
    if outcome is None:
        return
    await run_in_threadpool(_store_status, settings, ref, outcome)
    try:
        await temporal.get_workflow_handle(_case_of(ref)).signal(
            "delivery_updated", DeliveryUpdate(idempotency_key=ref, status=outcome))
    except RPCError:
        pass  # the case has closed since: the report is kept on the message, nothing is left to act


@router.post("/webhooks/email", status_code=status.HTTP_202_ACCEPTED, response_model=ReplyAccepted)
async def inbound_email(email: EmailReplyIn, settings: SettingsDep, temporal: TemporalDep,
                        _carrier: CarrierDep) -> ReplyAccepted:
    reply = ReplyIn(channel=Channel.email, text=_said(email.text, "(empty)"), sender=email.sender,
                    provider_message_id=email.message_id)
    return await _deliver_matched(temporal, settings, reply, email.sender, f"{email.subject}\n{email.text}")


@router.get("/replies/unmatched", response_model=list[InboundMessageView])
def unmatched_replies(session: SessionDep, _reader: ReaderDep,
                      limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[InboundMessageView]:
    """Answers that matched no open case: for an agent to place by hand (sender and bank accounts masked)."""
    return [masked_inbound(InboundMessageView.model_validate(row, from_attributes=True))
            for row in unmatched(session, limit)]


async def _deliver_matched(temporal, settings: Settings, reply: ReplyIn, sender: str, text: str) -> ReplyAccepted:
    def match() -> str | None:
        with session_for(settings.database_url) as session:
            return match_open_case(session, sender, text)

    return await _deliver_or_keep(temporal, settings, await run_in_threadpool(match), reply)


async def _deliver_or_keep(temporal, settings: Settings, case_id: str | None, reply: ReplyIn) -> ReplyAccepted:
    try:
        return await deliver_reply(temporal, settings, case_id, reply)
    except WorkflowGone:  # stored on the case already; a carrier must not retry it forever
        return ReplyAccepted(case_id=case_id, intent=reply.intent, delivered_to_workflow=False)


async def _twilio_form(request: Request, settings: Settings) -> dict[str, str]:
    """Twilio's form fields, after checking its signature when we know the auth token."""
    form = {key: str(value) for key, value in (await request.form()).items()}
    token = settings.twilio_auth_token
    if token is not None:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not RequestValidator(token.get_secret_value()).validate(str(request.url), form, signature):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "the Twilio signature does not match")
    return form


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
