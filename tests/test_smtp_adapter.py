"""The SMTP adapter against a real SMTP server (aiosmtpd) on a local port: what arrives is what the customer reads."""

from __future__ import annotations

import email
import smtplib
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller

from providers.messaging import MessageRefused, RecipientRejected
from providers.messaging.smtp import SmtpEmailSender, message_id_for
from schemas.messages import DeliveryStatus

FROM = "Asiakaspalvelu <palvelu@kauppa.example>"
BODY = "Hei Maija,\nveloitimme sinulta liikaa: palautamme 9,95 € tilillesi.\nTerveisin, Kauppa"


class Inbox:
    """Keeps every message the server accepted, parsed the way a mail client would."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        parsed = email.message_from_bytes(envelope.original_content, policy=default_policy)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"


class Refuses:
    """A server that answers one SMTP stage with a fixed reply, as a real relay does for a dead mailbox."""

    def __init__(self, stage: str, reply: str) -> None:
        setattr(self, f"handle_{stage}", self._refuse)
        self._reply = reply

    async def _refuse(self, server, session, envelope, *args) -> str:
        return self._reply


@contextmanager
def smtp_server(handler) -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def test_the_customer_receives_the_text_as_written() -> None:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        sender = SmtpEmailSender("127.0.0.1", port, FROM)
        delivery = sender.send("case-1:overcharge/ask_destination:1", "maija@example.fi", "Palautus 9,95 €", BODY)

    [(mail_from, rcpt_tos, message)] = inbox.received
    assert mail_from == "palvelu@kauppa.example"
    assert rcpt_tos == ["maija@example.fi"]
    assert message["To"] == "maija@example.fi"
    assert message["From"] == FROM
    assert message["Subject"] == "Palautus 9,95 €"
    assert message.get_content().splitlines() == BODY.splitlines()
    assert delivery.status == DeliveryStatus.sent


def test_a_resent_message_carries_the_same_message_id() -> None:
    inbox = Inbox()
    key = "case-1:overcharge/ask_destination:1"
    with smtp_server(inbox) as port:
        sender = SmtpEmailSender("127.0.0.1", port, FROM)
        first = sender.send(key, "maija@example.fi", "Palautus", BODY)
        second = sender.send(key, "maija@example.fi", "Palautus", BODY)

    ids = [message["Message-ID"] for _, _, message in inbox.received]
    assert ids == [message_id_for(key, FROM)] * 2
    assert first.provider_ref == second.provider_ref == ids[0]
    assert ids[0].endswith("@kauppa.example>")
    assert inbox.received[0][2]["X-Idempotency-Key"] == key


@pytest.mark.parametrize("stage", ["RCPT", "DATA"])
def test_a_dead_mailbox_is_rejected_for_good(stage: str) -> None:
    with smtp_server(Refuses(stage, "550 5.1.1 Mailbox does not exist")) as port:
        sender = SmtpEmailSender("127.0.0.1", port, FROM)
        with pytest.raises(RecipientRejected):
            sender.send("case-2:overcharge/ask_destination:1", "ei.ole@example.fi", "Palautus", BODY)


@pytest.mark.parametrize("stage", ["RCPT", "DATA"])
def test_a_busy_server_is_left_to_the_retry(stage: str) -> None:
    with smtp_server(Refuses(stage, "451 4.3.0 Try again later")) as port:
        sender = SmtpEmailSender("127.0.0.1", port, FROM)
        with pytest.raises(smtplib.SMTPException):
            sender.send("case-3:overcharge/ask_destination:1", "maija@example.fi", "Palautus", BODY)


def test_an_unreachable_server_is_left_to_the_retry() -> None:
    with smtp_server(Inbox()) as port:
        pass
    with pytest.raises(ConnectionRefusedError):
        SmtpEmailSender("127.0.0.1", port, FROM).send("case-3:thank_you:1", "maija@example.fi", "Kiitos", BODY)


def test_a_sender_the_relay_refuses_is_refused_for_good() -> None:
    with smtp_server(Refuses("MAIL", "550 5.7.1 Sender not allowed")) as port:
        with pytest.raises(MessageRefused, match="550"):
            SmtpEmailSender("127.0.0.1", port, FROM).send("case-4:thank_you:1", "maija@example.fi", "Kiitos", BODY)


def test_a_subject_with_a_line_break_is_refused_before_the_relay_sees_it() -> None:
    inbox = Inbox()
    with smtp_server(inbox) as port, pytest.raises(MessageRefused, match="compose"):
        SmtpEmailSender("127.0.0.1", port, FROM).send("case-5:thank_you:1", "maija@example.fi",
                                                       "Kiitos\r\nBcc: everyone@example.fi", BODY)
    assert inbox.received == []
