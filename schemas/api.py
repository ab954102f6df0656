"""Request bodies of the case routes that are not shared with workflows."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.channels import Channel
from schemas.inputs import EmailAddress, SingleLine, documented_rule, present
from schemas.replies import ReplyIntent

# RFC 5322 allows a Message-ID of a whole line (998 characters); Twilio's ids are 34. One limit for both doors, so
# a webhook that passed its own model never fails the reply model built from it.
ProviderMessageId = Annotated[str, Field(max_length=998)]


class ReplyIn(BaseModel):
    """The customer's answer: from an inbound SMS/email, or an agent recording what was said on the phone.

    Give `intent` when it is known (an agent's form); otherwise the engine reads `text`.
    """

    model_config = ConfigDict(json_schema_extra=documented_rule(present("intent"), present("text", pattern=r"\S")))

    channel: Channel
    text: str = Field(default="", max_length=2000)
    intent: ReplyIntent | None = None
    sender: str | None = Field(default=None, max_length=320)
    provider_message_id: ProviderMessageId | None = Field(
        default=None, description="The carrier's id: a redelivered webhook is stored once.")

    @model_validator(mode="after")
    def _says_something(self) -> ReplyIn:
        if self.intent is None and not self.text.strip():
            raise ValueError("a reply needs text or an intent")
        return self


class ReplyAccepted(BaseModel):
    case_id: str | None = Field(description="Null when the reply matched no open case; it is kept for an agent.")
    intent: ReplyIntent | None = Field(description="The intent given, or a STOP; null when the case itself reads "
                                                   "the text, knowing what it asked (\"1\": a score or the card).")
    delivered_to_workflow: bool


class AssignmentIn(BaseModel):
    owner: SingleLine = Field(description="The named person accountable from now on.")
    reason: str = Field(min_length=3, max_length=500, description="Why: shown on the case's timeline.")


AuthResult = Literal["pass", "fail", "softfail", "neutral", "none", "temperror", "permerror"]


class EmailReplyIn(BaseModel):
    """An inbound email, as a mail gateway posts it (already parsed), with the gateway's authentication
    verdicts on the sender's domain (SPF on the envelope, DKIM on the signature)."""

    sender: EmailAddress
    subject: str = Field(default="", max_length=500)
    text: str = Field(max_length=20000)
    message_id: str = Field(min_length=1, max_length=998,
                            description="The email's Message-ID: required, so a post sent twice is stored once.")
    spf: AuthResult = "none"
    dkim: AuthResult = "none"

    def verdict(self) -> str:
        return f"spf={self.spf} dkim={self.dkim}"


class InboundMessageView(BaseModel):
    id: int
    channel: str
    from_address: str | None
    body: str
    created_at: datetime
    senders_open_cases: list[str] = Field(default_factory=list, description="References of the tenant's open cases "
                                          "whose customer's number or email is this reply's sender: where it may "
                                          "belong, and where its sender is not the customer if it is not listed.")
