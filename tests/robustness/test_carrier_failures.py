"""Every carrier error has a class: a relay that refuses for good (550) moves the contact plan to the next
channel at once, and with every channel refused the case goes to its owner; a relay that is busy once (451) gets
the message delivered on the retry; one that stays busy is given up after the policy's bound, on the timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from providers.messaging import MessageRefused
from providers.messaging.smtp import SmtpEmailSender
from schemas.channels import Channel
from schemas.messages import DeliveryStatus
from settings import Settings
from store.tables import MessageRow, TimelineRow
from tests.harness import Stack, eventually
from tests.scenarios.test_s1_till_overcharge import PHONE, till_record
from tests.test_smtp_adapter import Inbox, Refuses, smtp_server
from worker import sandbox_providers

EMAIL = "maija@example.fi"
CUSTOMER = {"name": "Maija Meikäläinen", "phone": PHONE, "email": EMAIL, "language": "en",
            "preferred_channel": "email"}


class BusyFirst(Inbox):
    """Answers 451 (try again later) to the first `busy` messages, then takes them."""

    def __init__(self, busy: int) -> None:
        super().__init__()
        self.busy = busy

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.busy > 0:
            self.busy -= 1
            return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)


def providers_with_smtp(settings: Settings, port: int, phone_outcome: DeliveryStatus | None = None):
    providers = sandbox_providers(settings)
    providers.senders[Channel.email] = SmtpEmailSender("127.0.0.1", port, "palvelu@kauppa.example")
    if phone_outcome is not None:
        for channel in (Channel.sms, Channel.voice):
            providers.senders[channel].outcomes[PHONE] = phone_outcome
    return providers


async def open_case(stack: Stack, transaction_id: str) -> str:
    record = till_record(transaction_id, customer=CUSTOMER)
    return (await stack.api.post("/transactions", json=record)).json()["case"]["case_id"]


def timeline(stack: Stack, case_id: str) -> list[str]:
    return [entry.note for entry in stack.rows(TimelineRow, case_id=case_id)]


def test_the_sandbox_refuses_a_subject_no_mail_header_can_carry(settings: Settings):
    sandbox = sandbox_providers(settings).senders[Channel.email]
    with pytest.raises(MessageRefused, match="line break"):
        sandbox.send("case-1:ack:0", EMAIL, "Prisma\r\nBcc: all@example.com", "Hello")
    assert sandbox.send("case-1:ack:1", EMAIL, "Prisma Kaleva", "Hello").status is DeliveryStatus.delivered


async def test_a_relay_refusing_every_message_moves_on_to_the_next_channel_then_the_owner(
        dev_server: WorkflowEnvironment, settings: Settings):
    with smtp_server(Refuses("DATA", "550 5.7.1 Message rejected")) as port:
        providers = providers_with_smtp(settings, port, phone_outcome=DeliveryStatus.failed)
        async with Stack.running(dev_server, settings, providers=providers) as stack:
            case_id = await open_case(stack, "T-8001")
            await eventually(lambda: stack.case(case_id).status == "needs_attention")
            messages = stack.rows(MessageRow, case_id=case_id, direction="out")
            assert [(m.channel, m.status) for m in messages][:2] == [("email", "rejected"), ("sms", "failed")]
            assert messages[0].provider_ref.startswith("rejected:") and "550" in messages[0].provider_ref
            [hand_over] = [note for note in timeline(stack, case_id) if "could not reach" in note]
            assert "email rejected" in hand_over and "sms failed" in hand_over


async def test_a_relay_busy_once_delivers_on_the_retry(dev_server: WorkflowEnvironment, settings: Settings):
    inbox = BusyFirst(busy=1)
    with smtp_server(inbox) as port:
        async with Stack.running(dev_server, settings, providers=providers_with_smtp(settings, port)) as stack:
            case_id = await open_case(stack, "T-8002")
            [(_, recipients, message)] = await eventually(lambda: inbox.received)
            assert recipients == [EMAIL] and "€9.95" in message.get_content()
            await eventually(lambda: stack.case(case_id).status == "waiting_on_customer")
            [sent] = stack.rows(MessageRow, case_id=case_id, direction="out")
            assert (sent.channel, sent.status, inbox.busy) == ("email", "sent", 0)
            assert stack.texts_to(PHONE) == [], "delivered by email: no fallback needed"


async def test_a_relay_that_stays_busy_is_given_up_after_the_policys_bound(dev_server: WorkflowEnvironment,
                                                                          settings: Settings):
    contact = settings.policy.contact.model_copy(update={"carrier_give_up_after": timedelta(seconds=4)})
    settings.policy = settings.policy.model_copy(update={"contact": contact})
    with smtp_server(BusyFirst(busy=1_000)) as port:
        async with Stack.running(dev_server, settings, providers=providers_with_smtp(settings, port)) as stack:
            case_id = await open_case(stack, "T-8003")
            [text] = await eventually(lambda: stack.texts_to(PHONE))
            assert "€9.95" in text.body
            assert any(note.startswith("email to the customer given up, still failing after 0:00:04")
                       for note in timeline(stack, case_id))


async def test_an_outage_gives_up_on_the_message_not_on_the_address(dev_server: WorkflowEnvironment,
                                                                    settings: Settings):
    """The relay is down for longer than the policy's bound (a deploy): the question is given up by email, and
    with the phone failing too the case goes to its owner. The relay is back for the next message: the thank-you
    goes by email, because an outage says nothing about the customer's address."""
    contact = settings.policy.contact.model_copy(update={"carrier_give_up_after": timedelta(seconds=3)})
    settings.policy = settings.policy.model_copy(update={"contact": contact, "reply_timeout": timedelta(seconds=5)})
    inbox = BusyFirst(busy=1_000)
    with smtp_server(inbox) as port:
        providers = providers_with_smtp(settings, port, phone_outcome=DeliveryStatus.failed)
        async with Stack.running(dev_server, settings, providers=providers) as stack:
            case_id = await open_case(stack, "T-8004")
            await eventually(lambda: any("could not reach" in note for note in timeline(stack, case_id)))
            inbox.busy = 0
            [(_, recipients, thanks)] = await eventually(lambda: inbox.received)
            assert recipients == [EMAIL] and "refunded €9.95 to your card" in thanks.get_content()
