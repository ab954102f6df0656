"""Message carriers: deliver a rendered message on one channel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from schemas.channels import Channel
from schemas.messages import DeliveryStatus


class RecipientRejected(Exception):
    """The address can never receive this message (invalid number, hard bounce): retrying cannot help."""


@dataclass(frozen=True)
class Delivery:
    provider_ref: str
    status: DeliveryStatus


class MessageSender(Protocol):
    name: str
    channel: Channel

    def send(self, idempotency_key: str, to: str, subject: str, body: str) -> Delivery: ...
