"""Request bodies of the case routes that are not shared with workflows."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from schemas.channels import Channel
from schemas.replies import ReplyIntent


class ReplyIn(BaseModel):
    """The customer's answer: from an inbound SMS/email, or an agent recording what was said on the phone.

    Give `intent` when it is known (an agent's form); otherwise the engine reads `text`.
    """

    channel: Channel
    text: str = Field(default="", max_length=2000)
    intent: ReplyIntent | None = None
    sender: str | None = Field(default=None, max_length=320)
    provider_message_id: str | None = Field(default=None, max_length=200,
                                            description="The carrier's id: a redelivered webhook is stored once.")

    @model_validator(mode="after")
    def _says_something(self) -> ReplyIn:
        if self.intent is None and not self.text.strip():
            raise ValueError("a reply needs text or an intent")
        return self


class ReplyAccepted(BaseModel):
    case_id: str
    intent: ReplyIntent
    delivered_to_workflow: bool
