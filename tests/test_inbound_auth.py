"""Inbound channels prove where they come from: a carrier's key is not enough. The mail gateway signs the body
(HMAC-SHA256 with a shared secret) and reports SPF/DKIM; Twilio signs the public URL it called."""

from __future__ import annotations

import json
import time

import pytest
from pydantic import SecretStr, ValidationError
from twilio.request_validator import RequestValidator

from api.routes.inbound import body_signature
from schemas.auth import PrincipalKind, Scope
from settings import Settings
from store.tables import MessageRow
from tests.harness import Stack, sign_email

PUBLIC = "https://recovery.example.com"
TOKEN = "twilio-auth-token-for-tests"
EMAIL = {"sender": "customer@example.fi", "subject": "Re: your refund", "text": "Thank you", "message_id": "m-1",
         "spf": "pass", "dkim": "fail"}


def carrier(stack: Stack) -> dict[str, str]:
    return stack.key("gateway", Scope.messages_inbound, kind=PrincipalKind.carrier)


async def test_an_email_without_the_gateways_signature_is_refused(stack: Stack):
    content, signed = sign_email(stack.settings, EMAIL)
    key = carrier(stack)
    unsigned = await stack.api.post("/webhooks/email", content=content,
                                    headers={**key, "Content-Type": "application/json"})
    assert unsigned.status_code == 401
    forged = await stack.api.post("/webhooks/email", content=content.replace(b"Thank you", b"Pay FI21 1234"),
                                  headers={**key, **signed})
    assert forged.status_code == 401, "the signature covers the exact body"
    assert stack.rows(MessageRow) == []

    accepted = await stack.api.post("/webhooks/email", content=content, headers={**key, **signed})
    assert accepted.status_code == 202, accepted.text
    [stored] = stack.rows(MessageRow)
    assert (stored.from_address, stored.sender_auth) == ("customer@example.fi", "spf=pass dkim=fail")


async def test_a_signed_email_is_taken_only_fresh_and_once(stack: Stack):
    """Review minor 10: the signature covers a timestamp, so a captured post cannot be replayed later; within the
    five minutes, the required Message-ID makes a replay a duplicate, stored once and told to no case again."""
    key = carrier(stack)
    stale, signed_then = sign_email(stack.settings, EMAIL, at=time.time() - 301)
    assert (await stack.api.post("/webhooks/email", content=stale, headers={**key, **signed_then})).status_code == 401
    content, signed = sign_email(stack.settings, EMAIL)
    moved_on = {**signed, "X-Signature-Timestamp": str(int(time.time()) + 1)}
    assert (await stack.api.post("/webhooks/email", content=content, headers={**key, **moved_on})).status_code == 401
    assert stack.rows(MessageRow) == []

    first = await stack.api.post("/webhooks/email", content=content, headers={**key, **signed})
    replayed = await stack.api.post("/webhooks/email", content=content, headers={**key, **signed})
    assert (first.status_code, replayed.status_code) == (202, 202)
    assert len(stack.rows(MessageRow)) == 1
    no_id = {name: value for name, value in EMAIL.items() if name != "message_id"}
    content = json.dumps(no_id).encode()
    timestamp = str(int(time.time()))
    signature = body_signature(stack.settings.mail_gateway_secret.get_secret_value(), timestamp, content)
    headers = {"X-Signature-Timestamp": timestamp, "Content-Type": "application/json", "X-Signature-256": signature}
    without_id = await stack.api.post("/webhooks/email", content=content, headers={**key, **headers})
    assert without_id.status_code == 422 and without_id.json()["detail"][0]["loc"][-1] == "message_id"


async def test_a_signed_email_is_still_validated_field_by_field(stack: Stack):
    content, signed = sign_email(stack.settings, {**EMAIL, "sender": "not an address"})
    invalid = await stack.api.post("/webhooks/email", content=content, headers={**carrier(stack), **signed})
    assert invalid.status_code == 422 and invalid.json()["detail"][0]["loc"][-1] == "sender"


async def test_twilio_signatures_are_checked_against_the_public_url(stack: Stack):
    stack.app.state.settings = stack.settings.model_copy(update={
        "twilio_account_sid": "AC123", "twilio_auth_token": SecretStr(TOKEN), "public_base_url": PUBLIC})
    form = {"From": "+358401112233", "Body": "1", "MessageSid": "SM-signed"}
    validator = RequestValidator(TOKEN)
    key = carrier(stack)

    unsigned = await stack.api.post("/webhooks/twilio/sms", data=form, headers=key)
    assert unsigned.status_code == 401
    as_seen_inside = validator.compute_signature("http://api/webhooks/twilio/sms", form)
    behind_proxy = await stack.api.post("/webhooks/twilio/sms", data=form,
                                        headers={**key, "X-Twilio-Signature": as_seen_inside})
    assert behind_proxy.status_code == 401, "Twilio signs the URL it called: ours, public"
    signed = validator.compute_signature(f"{PUBLIC}/webhooks/twilio/sms", form)
    accepted = await stack.api.post("/webhooks/twilio/sms", data=form, headers={**key, "X-Twilio-Signature": signed})
    assert accepted.status_code == 200, accepted.text


def test_twilio_cannot_be_configured_without_its_signing_token():
    with pytest.raises(ValidationError, match="TWILIO_AUTH_TOKEN is required"):
        Settings(twilio_account_sid="AC123", twilio_auth_token=None)
