"""Outbound messages: the workflow names a template and its facts; the messaging activity renders and sends."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from schemas.incidents import Language
from schemas.money import Money
from schemas.progress import CaseProgress


class Channel(StrEnum):
    sms = "sms"
    email = "email"
    voice = "voice"
    agent = "agent"  # an agent recording what the customer said on the phone


class DeliveryStatus(StrEnum):
    sent = "sent"
    delivered = "delivered"
    failed = "failed"


class MessageFacts(BaseModel):
    """Everything a template may name. Kept small: long texts stay out of workflow history."""

    customer_name: str
    store: str | None = None
    amount: Money | None = Field(default=None, description="Formatted for the customer's language when rendered.")
    case_reference: str
    refund_destination: str | None = None


class OutboundMessage(BaseModel):
    case_id: str
    idempotency_key: str = Field(description="One message per case and step: a retried send never texts twice.")
    channel: Channel
    to: str
    template: str = Field(examples=["overcharge/ask_destination"])
    language: Language
    facts: MessageFacts
    progress: CaseProgress


class MessageReceipt(BaseModel):
    message_id: int
    status: DeliveryStatus
    provider: str
    provider_ref: str
