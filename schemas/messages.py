"""Outbound messages: the workflow names a template and its facts; the messaging activity renders and sends."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from schemas.channels import Channel, Language
from schemas.money import Money
from schemas.privacy import AccessReport, Findings
from schemas.progress import CaseProgress


class DeliveryStatus(StrEnum):
    """What the carrier says happened. `sent` is provisional: the final word may come later by webhook."""

    sent = "sent"
    delivered = "delivered"  # for a call: answered
    failed = "failed"
    no_answer = "no_answer"
    bounced = "bounced"
    rejected = "rejected"  # the address can never receive this (invalid number, opted out at the carrier)

    @property
    def reached(self) -> bool:
        return self in (DeliveryStatus.sent, DeliveryStatus.delivered)


class MessageFacts(BaseModel):
    """Everything a template may name. Kept small: long texts stay out of workflow history."""

    customer_name: str
    store: str | None = None
    amount: Money | None = Field(default=None, description="Formatted for the customer's language when rendered.")
    case_reference: str
    refund_destination: str | None = None
    refunded: bool = Field(default=False, description="The refund has gone out (a closing message says it stays).")
    time_zone: str = "Europe/Helsinki"
    topic: str | None = Field(default=None, description="What the customer wrote about.")
    reply_due: datetime | None = Field(default=None, description="When a person will have replied, at the latest.")
    reply_text: str | None = Field(default=None, description="An agent's personal reply, sent as written.")
    voucher_code: str | None = None
    confirmation_code: str | None = Field(default=None, description="Set by the messaging activity only, never "
                                          "by a workflow: a one-time code is in no history.")
    compensation_product: str | None = None
    compensation_credit: Money | None = Field(default=None, description="Goodwill given as a credit: its value, "
                                              "written in the customer's language (the product's name is English).")
    account: str | None = Field(default=None, description="The bank account a one-time code confirms, masked "
                                "(country and last four): the customer sees which account they would approve.")
    access_report: AccessReport | None = Field(default=None, description="S5: the reads of the customer's data "
                                               "(capped by the privacy policy).")
    findings: Findings | None = Field(default=None, description="S5: what the investigation found and did.")
    owner: str | None = Field(default=None, description="The accountable owner's account id, as the workflow has it.")
    details: dict[str, Any] | None = Field(default=None, description="The incident's details, as its kind declares "
                                           "them (`kinds/<kind>.py`): `details.product` in a template.")
    owner_name: str | None = Field(default=None, description="The owner's display name, looked up when the "
                                   "message is rendered (not carried in workflow history).")


class NextMessageFacts(BaseModel):
    """What the case's next message would be made of (the `message_facts` query, for the staff's preview): the
    customer's language, the channels the contact plan would try (the one that last reached them first; opted-out
    ones left out) and the facts a template is given."""

    language: Language
    channels: list[Channel]
    facts: MessageFacts


class MessagePreview(BaseModel):
    """A message as the customer would receive it next, with the recovery-quality check's verdict on it."""

    template: str = Field(examples=["overcharge/thank_you"])
    language: Language
    channel: Channel
    subject: str = Field(description="The email subject (other channels send only the body).")
    body: str = Field(description="As the customer would read it; contact details and bank accounts masked as "
                      "everywhere in staff views.")
    sms_segments: int | None = Field(description="What a text of this body is billed as (None for other channels).")
    passes: bool = Field(description="The quality check finds nothing wrong (`problems` is empty).")
    problems: list[str] = Field(description="What the check finds, each naming template, channel, language and "
                                "dimension: a missing apology, blame, a placeholder, too many SMS segments.")


class OutboundMessage(BaseModel):
    case_id: str
    idempotency_key: str = Field(description="One message per case and step: a retried send never texts twice.")
    channel: Channel
    to: str
    template: str = Field(examples=["overcharge/ask_destination"])
    language: Language
    facts: MessageFacts
    progress: CaseProgress


class CodeMessage(OutboundMessage):
    """The one-time code's text: the code is bound to this case and this account, so it confirms nothing else."""

    iban: str | None = Field(default=None, description="The account the code confirms (None: a code texted before "
                             "codes were bound to an account).")


class DeliveryUpdate(BaseModel):
    """A carrier's later word on a message (a call answered or not, an email bounced), sent to the workflow."""

    idempotency_key: str
    status: DeliveryStatus


class MessageReceipt(BaseModel):
    message_id: int
    status: DeliveryStatus
    provider: str
    provider_ref: str


class CodeCheck(BaseModel):
    """What the customer sent back, to compare with the one-time code texted to the number on file."""

    case_id: str
    text: str = Field(max_length=2000)
    iban: str | None = Field(default=None, description="The account the code must have been texted for.")
