"""Message carriers: deliver a rendered message on one channel.

Every carrier sorts its errors into two classes. Permanent ones raise a `PermanentFailure` subclass, which the
messaging activity turns into the message's outcome (the contact plan moves to the next channel at once).
Everything else (timeouts, refused connections, 4xx and 5xx answers of an overloaded carrier) is transient and
raised as it is: the activity retries it with backoff, up to the policy's `carrier_give_up_after`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from schemas.channels import Channel
from schemas.messages import DeliveryStatus


class PermanentFailure(Exception):
    """The carrier refused for good: retrying the same message cannot help."""


class RecipientRejected(PermanentFailure):
    """The address can never receive this message (invalid number, hard bounce): retrying cannot help."""


class MessageRefused(PermanentFailure):
    """The carrier refuses the message itself or our account (a header it cannot carry, a sender it does not
    accept, a region we may not text): the address may be fine, but this channel will not carry it."""


def refuse_header_breaks(subject: str) -> None:
    """What a mail system does with a subject holding a line break: refuse to build the header."""
    if any(char in subject for char in "\r\n"):
        raise MessageRefused(f"a line break in the subject cannot be a header: {subject[:60]!r}")


@dataclass(frozen=True)
class Delivery:
    provider_ref: str
    status: DeliveryStatus


class MessageSender(Protocol):
    name: str
    channel: Channel

    def send(self, idempotency_key: str, to: str, subject: str, body: str) -> Delivery: ...
