"""Email through any SMTP relay (the standard library's `smtplib`).

SMTP has no idempotency key: if the connection drops after the relay accepted the message, the activity's retry
sends it again. The `Message-ID` is derived from our idempotency key, so such a duplicate carries the same id
and mail systems and readers downstream can recognise it; `X-Idempotency-Key` names the case step in clear.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from providers.messaging import Delivery, MessageRefused, RecipientRejected
from schemas.channels import Channel
from schemas.messages import DeliveryStatus


class SmtpEmailSender:
    name = "smtp"
    channel = Channel.email

    def __init__(self, host: str, port: int, from_address: str, *, username: str | None = None,
                 password: str | None = None, starttls: bool = False, timeout: float = 10.0) -> None:
        self._host = host
        self._port = port
        self._from_address = from_address
        self._credentials = (username, password) if username and password else None
        self._starttls = starttls
        self._timeout = timeout

    def send(self, idempotency_key: str, to: str, subject: str, body: str) -> Delivery:
        """Hands the message to the relay. A 5xx about the recipient means the address is dead
        (`RecipientRejected`); any other 5xx (our sender, our login, the message) and a message that cannot be
        composed are `MessageRefused`. 4xx and network errors raise as they are, so the activity retries them."""
        try:
            message = self._compose(idempotency_key, to, subject, body)
        except ValueError as error:  # e.g. a line break in a header: the same on every attempt
            raise MessageRefused(f"cannot compose the email to {to}: {error}") from error
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                if self._starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self._credentials:
                    smtp.login(*self._credentials)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as refused:
            if all(code >= 500 for code, _ in refused.recipients.values()):
                raise RecipientRejected(f"{to}: {refused.recipients}") from refused
            raise
        except smtplib.SMTPDataError as error:
            if error.smtp_code >= 500:
                raise RecipientRejected(f"{to}: {error.smtp_code} {error.smtp_error!r}") from error
            raise
        except smtplib.SMTPResponseException as error:  # sender refused, authentication, ... at the relay
            if error.smtp_code >= 500:
                raise MessageRefused(f"the relay refuses: {error.smtp_code} {error.smtp_error!r}") from error
            raise
        return Delivery(provider_ref=message["Message-ID"], status=DeliveryStatus.sent)

    def _compose(self, idempotency_key: str, to: str, subject: str, body: str) -> EmailMessage:
        """Quoted-printable keeps "9,95 €" intact through relays that do not speak 8BITMIME."""
        message = EmailMessage()
        message["From"] = self._from_address
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = message_id_for(idempotency_key, self._from_address)
        message["X-Idempotency-Key"] = idempotency_key
        message.set_content(body, charset="utf-8", cte="quoted-printable")
        return message


def message_id_for(idempotency_key: str, from_address: str) -> str:
    """The same key always gives the same id. Hashed, because keys hold characters (`:`) that a Message-ID
    may not; the domain is the sender's, as RFC 5322 recommends."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    domain = from_address.rpartition("@")[2].strip("> ") or "localhost"
    return f"<{digest}@{domain}>"
