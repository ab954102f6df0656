"""S2, the ticket that could not be printed: the customer paid twice and we only know their name.

The engine finds their number in the directory (on the record), calls (no answer, twice), falls back to a text,
reads the IBAN in their answer, returns the overpaid amount there exactly once, and follows up.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from providers.messaging.sandbox import SandboxSender
from providers.payments.sandbox import SandboxPayments
from schemas.auth import PrincipalKind, Scope
from schemas.channels import Channel
from schemas.messages import DeliveryStatus
from schemas.progress import CaseOutcome
from security.codec import new_key_entry
from settings import Settings
from store.db import session_for
from store.directory import add_customer
from store.tables import AccessRecordRow, SandboxOutboxEntry
from temporal_client import data_converter
from tests.harness import Stack, eventually
from tests.test_payload_codec import client_with, history_shown_by_cli
from worker import Providers

pytestmark = pytest.mark.both_databases  # the read model's behaviour on SQLite and PostgreSQL alike

PHONE = "+358501234567"
IBAN = "FI2112345600000785"


def paid_twice(external_id: str = "vr-helpdesk-5512", name: str = "Jukka Lahtinen") -> dict:
    return {"external_id": external_id, "kind": "duplicate_purchase", "source": "contact_centre",
            "store": "Tampere station", "amount": {"amount_minor": 2490, "currency": "EUR"},
            "customer": {"name": name, "city": "Tampere", "language": "en"}, "owner": "aino.agent",
            "description": "Online ticket could not be printed; a second ticket was sold at the counter."}


@pytest.fixture
async def unanswered_phone(time_skipping: WorkflowEnvironment, settings: Settings) -> AsyncIterator[Stack]:
    """The directory knows the customer; their phone rings out when we call."""
    with session_for(settings.database_url) as session:
        add_customer(session, "Jukka Lahtinen", city="Tampere", phone=PHONE, email="jukka@example.fi")
    url = settings.database_url
    senders = {Channel.sms: SandboxSender(url, Channel.sms), Channel.email: SandboxSender(url, Channel.email),
               Channel.voice: SandboxSender(url, Channel.voice, outcomes={PHONE: DeliveryStatus.no_answer})}
    async with Stack.running(time_skipping, settings, Providers(SandboxPayments(url), senders)) as stack:
        yield stack


def channels_used(stack: Stack) -> list[str]:
    return [entry.channel for entry in stack.rows(SandboxOutboxEntry)]


async def test_found_by_name_called_texted_refunded_to_the_iban_once(unanswered_phone: Stack):
    stack = unanswered_phone
    opened = await stack.api.post("/incidents", json=paid_twice())
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]

    [first_call] = await eventually(lambda: stack.rows(SandboxOutboxEntry, channel="voice"))
    assert "charged twice" in first_call.body and first_call.to_address == PHONE
    [look_up] = stack.rows(AccessRecordRow, case_id=case_id)
    assert (look_up.actor, look_up.fields) == ("aino.agent", ["email", "phone"])
    assert look_up.purpose == "return a double payment to the customer"

    await stack.skip(stack.settings.policy.contact.attempt_spacing + timedelta(minutes=1))
    await eventually(lambda: channels_used(stack) == ["voice", "voice", "sms"])
    [text] = stack.texts_to(PHONE)
    assert "€24.90" in text.body and "IBAN" in text.body

    carrier = stack.key("twilio", Scope.messages_inbound, kind=PrincipalKind.integrator)
    answer = await stack.api.post("/webhooks/twilio/sms", headers=carrier, data={
        "From": PHONE, "Body": "Thanks! FI21 1234 5600 0007 85", "MessageSid": "SM0001"})
    assert answer.status_code == 200 and "<Response" in answer.text

    [refund] = await eventually(lambda: stack.refunds(case_id))
    assert (refund.amount_minor, refund.destination) == (2490, "bank_account")
    await eventually(lambda: len(stack.texts_to(PHONE)) == 2)
    assert "sent €24.90 to your bank account" in stack.texts_to(PHONE)[1].body

    await stack.skip(stack.settings.policy.follow_up_delay)
    await eventually(lambda: len(stack.texts_to(PHONE)) == 3)
    assert channels_used(stack) == ["voice", "voice", "sms", "sms", "sms"], "once texts worked, no more calls"
    await stack.api.post("/webhooks/twilio/sms", headers=carrier,
                         data={"From": PHONE, "Body": "5", "MessageSid": "SM2"})
    assert await stack.env.client.get_workflow_handle(case_id).result() == CaseOutcome.recovered
    assert len(stack.ledger()) == 1
    case = (await stack.api.get(f"/cases/{case_id}")).json()
    assert (case["owner"], case["satisfaction"]) == ("aino.agent", 5)
    assert all("your fault" not in entry.body.lower() for entry in stack.rows(SandboxOutboxEntry))


async def test_two_people_of_that_name_are_never_guessed_between(unanswered_phone: Stack):
    stack = unanswered_phone
    with session_for(stack.settings.database_url) as session:
        add_customer(session, "Jukka Lahtinen", city="Tampere", phone="+358409999999")
    case_id = (await stack.api.post("/incidents", json=paid_twice("vr-5513"))).json()["case_id"]

    await eventually(lambda: stack.case(case_id).status == "needs_attention")
    assert stack.rows(SandboxOutboxEntry) == [], "nobody was contacted"
    [look_up] = stack.rows(AccessRecordRow, case_id=case_id)
    assert look_up.fields == ["name"], "no contact details were read"
    timeline = (await stack.api.get(f"/cases/{case_id}/timeline")).json()
    assert any("ambiguous (2 matches); not guessed" in entry["note"] for entry in timeline)
    assert stack.case(case_id).owner == "aino.agent"


async def test_temporal_never_holds_the_customers_data_in_clear(dev_server: WorkflowEnvironment, settings: Settings):
    """The whole S2 case with payload keys on: its history, as `temporal workflow show` prints it, holds neither
    the phone number, the email, the IBAN nor the name."""
    keys = SecretStr(new_key_entry())
    settings = settings.model_copy(update={"payload_keys": keys})
    client = client_with(dev_server, data_converter(settings))
    with session_for(settings.database_url) as session:
        add_customer(session, "Jukka Lahtinen", city="Tampere", phone=PHONE, email="jukka@example.fi")
    async with Stack.running(dev_server, settings, client=client) as stack:
        case_id = (await stack.api.post("/incidents", json=paid_twice("vr-enc-1"))).json()["case_id"]
        await eventually(lambda: stack.rows(SandboxOutboxEntry, channel="voice"))
        await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "agent", "text": f"my IBAN is {IBAN}"})
        await eventually(lambda: stack.refunds(case_id))
        history = await history_shown_by_cli(dev_server, case_id)
    assert "send_message" in history and "refund" in history, "the CLI did show the history"
    for secret in (PHONE, "jukka@example.fi", IBAN, "FI21 1234", "Lahtinen"):
        assert secret not in history, secret
