"""SMS and voice calls through Twilio (the official `twilio` SDK).

Twilio's REST API takes no idempotency key. A create that times out after Twilio accepted it is retried by the
activity and the customer gets the message twice: sends here are at-least-once. To make such a duplicate
traceable, our idempotency key rides on the status-callback URL (`?ref=<key>`), so every callback Twilio sends
for either copy names the case step it belongs to.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from providers.messaging import Delivery, MessageRefused, RecipientRejected
from schemas.channels import Channel
from schemas.messages import DeliveryStatus

TWILIO_API_BASE_URL = "https://api.twilio.com"
# How long a call waits in silence after the message for a key press or an answer (Twilio's default is 5).
_ANSWER_WAIT_SECONDS = 8

# Errors about the number itself; https://www.twilio.com/docs/api/errors
_RECIPIENT_ERRORS = {
    13224: "invalid phone number for a call",
    21211: "invalid 'To' number",
    21217: "phone number does not appear to be valid",
    21401: "invalid phone number",
    21407: "this phone number type does not support SMS or MMS",
    21408: "permission to send to this region is not enabled",
    21421: "phone number is invalid",
    21610: "the recipient replied STOP (unsubscribed)",
    21612: "the 'To' number cannot be reached",
    21614: "the 'To' number is not a mobile number",
}
# HTTP statuses Twilio answers when trying again later may work: rate limited, or Twilio itself in trouble.
_TRANSIENT_HTTP = {408, 409, 429}

# Final statuses of a message or call. Any other (queued, accepted, sending, sent, ringing, ...) means Twilio
# has it and the outcome comes later by status callback: DeliveryStatus.sent.
# A call that rang out or was busy is worth another try later: no_answer, not failed.
FINAL_STATUSES = {
    "delivered": DeliveryStatus.delivered, "read": DeliveryStatus.delivered, "completed": DeliveryStatus.delivered,
    "failed": DeliveryStatus.failed, "undelivered": DeliveryStatus.failed, "canceled": DeliveryStatus.failed,
    "busy": DeliveryStatus.no_answer, "no-answer": DeliveryStatus.no_answer,
}


def twilio_client(account_sid: str, auth_token: str, *, api_base_url: str = TWILIO_API_BASE_URL,
                  timeout: float = 10.0) -> Client:
    """A client with a socket timeout (the SDK has none by default), pointed at `api_base_url`.

    The SDK builds every REST URL from the `api` domain's `base_url` at request time, so replacing it sends
    all calls to another host: a local imitation of Twilio in tests, or a regional or proxy endpoint.
    """
    client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
    client.api.base_url = api_base_url
    return client


class TwilioSmsSender:
    name = "twilio"
    channel = Channel.sms

    def __init__(self, client: Client, from_number: str, status_callback_url: str) -> None:
        self._client = client
        self._from_number = from_number
        self._status_callback_url = status_callback_url

    def send(self, idempotency_key: str, to: str, subject: str, body: str) -> Delivery:
        """SMS has no subject; Twilio splits a long body into segments itself."""
        with _recipient_errors(to):
            message = self._client.messages.create(
                to=to, from_=self._from_number, body=body,
                status_callback=with_reference(self._status_callback_url, idempotency_key))
        return Delivery(provider_ref=message.sid, status=FINAL_STATUSES.get(message.status, DeliveryStatus.sent))


class TwilioVoiceCaller:
    """Calls the customer, reads the message out and listens for a key press or a spoken answer.

    What the customer answers is posted by Twilio to `answer_url` (with the same `?ref=<key>`): the inbound
    side turns it into a reply on the case. `language` is the voice's (e.g. "fi-FI"), as `send` does not carry one.
    """

    name = "twilio"
    channel = Channel.voice

    def __init__(self, client: Client, from_number: str, status_callback_url: str, answer_url: str,
                 language: str = "fi-FI") -> None:
        self._client = client
        self._from_number = from_number
        self._status_callback_url = status_callback_url
        self._answer_url = answer_url
        self._language = language

    def send(self, idempotency_key: str, to: str, subject: str, body: str) -> Delivery:
        with _recipient_errors(to):
            call = self._client.calls.create(
                to=to, from_=self._from_number, twiml=self._twiml(idempotency_key, body),
                status_callback=with_reference(self._status_callback_url, idempotency_key))
        return Delivery(provider_ref=call.sid, status=FINAL_STATUSES.get(call.status, DeliveryStatus.sent))

    def _twiml(self, idempotency_key: str, body: str) -> str:
        """The message is said inside the Gather, so the customer may answer before it ends."""
        response = VoiceResponse()
        gather = response.gather(input="dtmf speech", action=with_reference(self._answer_url, idempotency_key),
                                 language=self._language, timeout=_ANSWER_WAIT_SECONDS)
        gather.say(body, language=self._language)
        return str(response)


def with_reference(url: str, idempotency_key: str) -> str:
    """Adds `ref=<key>` to a callback URL, keeping any query it already has."""
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query), ("ref", idempotency_key)])
    return urlunsplit(parts._replace(query=query))


@contextmanager
def _recipient_errors(to: str) -> Iterator[None]:
    """Twilio errors about the number become RecipientRejected; other refusals (HTTP 4xx: 'From' number not
    SMS-capable (21606), body too long (21617), authentication (20003), ...) are MessageRefused. Rate limits,
    5xx and network errors are left to the retry."""
    try:
        yield
    except (TwilioRestException, TwilioServiceException) as error:
        if (reason := _RECIPIENT_ERRORS.get(error.code)) is not None:
            raise RecipientRejected(f"{to}: Twilio {error.code}, {reason}") from error
        status = getattr(error, "status", None)
        if isinstance(status, int) and 400 <= status < 500 and status not in _TRANSIENT_HTTP:
            raise MessageRefused(f"Twilio refuses ({status}, code {error.code}): {error}"[:300]) from error
        raise
