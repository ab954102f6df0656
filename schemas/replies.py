"""The customer's answer, with a structured intent the workflows can act on."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field, StrictInt

from schemas.messages import Channel


class RefundDestinationKind(StrEnum):
    original_card = "original_card"
    service_desk = "service_desk"


class RefundDestination(BaseModel):
    kind: RefundDestinationKind


class IntentKind(StrEnum):
    refund_destination = "refund_destination"
    satisfaction = "satisfaction"
    free_text = "free_text"


class ReplyIntent(BaseModel):
    kind: IntentKind
    destination: RefundDestination | None = None
    score: StrictInt | None = Field(default=None, ge=1, le=5)


class CustomerReply(BaseModel):
    """Delivered to the case's workflow as a signal; the API stores it before signalling."""

    channel: Channel
    text: str = Field(default="", max_length=2000)
    intent: ReplyIntent
    received_at: datetime


_CARD_WORDS = re.compile(r"\b(1|card|kortille|kortti|kortin|kort|kortet)\b", re.IGNORECASE)
_DESK_WORDS = re.compile(r"\b(2|desk|service desk|palvelupiste|palvelupisteest\w*|kassa|disken)\b", re.IGNORECASE)
_SCORE = re.compile(r"^\s*([1-5])\s*[.!]?\s*$")


def interpret_reply(text: str, expecting: IntentKind | None = None) -> ReplyIntent:
    """Reads a free-text SMS/email answer. A bare digit means a score only when a score was asked for."""
    if expecting is IntentKind.satisfaction and (match := _SCORE.match(text)):
        return ReplyIntent(kind=IntentKind.satisfaction, score=int(match.group(1)))
    if _CARD_WORDS.search(text) and not _DESK_WORDS.search(text):
        return _destination(RefundDestinationKind.original_card)
    if _DESK_WORDS.search(text) and not _CARD_WORDS.search(text):
        return _destination(RefundDestinationKind.service_desk)
    return ReplyIntent(kind=IntentKind.free_text)


def _destination(kind: RefundDestinationKind) -> ReplyIntent:
    return ReplyIntent(kind=IntentKind.refund_destination, destination=RefundDestination(kind=kind))
