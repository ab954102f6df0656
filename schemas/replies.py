"""The customer's answer, with a structured intent the workflows can act on."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from schemas.channels import Channel
from schemas.inputs import documented_rule, present, whole_number
from schemas.phrasings import NEGATION, a_short_choice, account_alone, alone, destinations_named, own_words


def _valid_iban(text: str) -> str:
    """ISO 13616 as the maintained `schwifty` registry knows it: the country's exact length and account format,
    its national checksum where it has one, and the mod-97 check digits. Any failure is a ValueError."""
    try:
        return IBAN(re.sub(r"\s+", "", text).upper()).compact
    except SchwiftyException as invalid:
        raise ValueError(f"not a valid IBAN: {invalid}") from invalid


# `format: iban`: OpenAPI's custom format for what JSON Schema cannot check (the mod-97 check digits).
Iban = Annotated[str, Field(max_length=42, examples=["FI2112345600000785"], json_schema_extra={"format": "iban"}),
                 AfterValidator(_valid_iban)]


class RefundDestinationKind(StrEnum):
    original_card = "original_card"
    bank_account = "bank_account"
    service_desk = "service_desk"


class RefundDestination(BaseModel):
    model_config = ConfigDict(json_schema_extra=documented_rule(
        {"allOf": [{"properties": {"kind": {"const": "bank_account"}}}, present("iban")]},
        {"properties": {"kind": {"enum": ["original_card", "service_desk"]}, "iban": {"type": "null"}}}))

    kind: RefundDestinationKind
    iban: Iban | None = None

    @property
    def masked_account(self) -> str | None:
        """What a text to the customer shows of the account: its country and last four characters."""
        # Asterisks, not bullets: a bullet is outside GSM-7 and would make the code text a costlier UCS-2 SMS.
        return f"{self.iban[:2]} **** {self.iban[-4:]}" if self.iban else None

    @model_validator(mode="after")
    def _bank_account_has_an_iban(self) -> RefundDestination:
        if (self.kind is RefundDestinationKind.bank_account) != (self.iban is not None):
            raise ValueError("an IBAN is given exactly when the destination is a bank account")
        return self


class IntentKind(StrEnum):
    refund_destination = "refund_destination"
    satisfaction = "satisfaction"
    confirmation = "confirmation"
    opt_out = "opt_out"
    free_text = "free_text"


class ReplyIntent(BaseModel):
    kind: IntentKind
    destination: RefundDestination | None = None
    score: whole_number(ge=1, le=5) | None = None


class CustomerReply(BaseModel):
    """Delivered to the case's workflow as a signal; the API stores it before signalling. `intent` is given
    when an agent stated it or the text is a STOP; otherwise the workflow reads `text` knowing what it asked."""

    channel: Channel
    text: str = Field(default="", max_length=2000)
    intent: ReplyIntent | None
    received_at: datetime
    sender: str | None = Field(default=None, max_length=320, description="The carrier's sender address: a text "
                               "is the customer's own only from the number on file.")
    authenticated: bool | None = Field(default=None, description="True when the door the reply came through vouches "
                                       "for its channel and sender: a carrier's webhook, or a staff account recording "
                                       "a call (`agent`). False when they are only the caller's word (an integrator, "
                                       "a form): such a reply answers questions but never proves a bank account. "
                                       "None in replies signalled before the field existed (read by the old rule).")
    message_id: int | None = Field(default=None, description="The stored message's id, when the signal may be sent "
                                   "again (a reply attached by hand is re-sent on a retry): the case reads each once.")

    wide_reading: bool = Field(default=False, description="Set by the workflow (under a patch) when the reply came: "
                               "read it as customers write (schemas/phrasings.py). Replies that came before are "
                               "read by the strict rules they were read by, so open cases replay.")

    def read_as(self, expecting: IntentKind | None, offered: frozenset[int] | None = None) -> ReplyIntent:
        return self.intent or interpret_reply(self.text, expecting, offered, wide=self.wide_reading)


_STOP = re.compile(r"^\s*(stop|lopeta|sluta|unsubscribe)\s*[.!]?\s*$", re.IGNORECASE)
_IBAN_START = re.compile(r"\b[A-Z]{2}[0-9]{2}", re.IGNORECASE)
_CARD_WORDS = re.compile(r"\b(1|card|kortille|kortti|kortin|kort|kortet)\b", re.IGNORECASE)
_DESK_WORDS = re.compile(r"\b(2|desk|service desk|palvelupiste|palvelupisteest\w*|kassa|disken)\b", re.IGNORECASE)
# "not to the card", "en halua kortille", "inte till kortet": a destination word under a negation is no choice.
_NEGATION = re.compile(r"\b(not|don'?t|do not|no|never|ei|en|älä|älkää|inte|ej)\b", re.IGNORECASE)
_NUMBER = re.compile(r"\b\d+\b")
_YES = re.compile(r"^\s*(yes|kyllä|joo|ok|ja)\s*[.!]?\s*$", re.IGNORECASE)
_SCORE = re.compile(r"^\s*([1-5])\s*[.!]?\s*$")


def interpret_reply(text: str, expecting: IntentKind | None = None,
                    offered: frozenset[int] | None = None, wide: bool = False) -> ReplyIntent:
    """Reads a free-text SMS/email answer. A bare digit means a score only when a score was asked for.

    `offered`: the numbered answers the question offered. Given, a card or desk word is read only without a
    negation in the reply and a number only among those offered ("2 tickets, which one?" to a question offering 1
    alone): anything else is not understood, and asked again. Never a guess where money goes.
    `wide`: also as customers really write (`_read_widely`)."""
    if _STOP.match(text):
        return ReplyIntent(kind=IntentKind.opt_out)
    if wide:
        return _read_widely(own_words(text), expecting, offered)
    if expecting is IntentKind.satisfaction and (match := _SCORE.match(text)):
        return ReplyIntent(kind=IntentKind.satisfaction, score=int(match.group(1)))
    if (iban := _find_iban(text)) is not None:
        return _destination(RefundDestination(kind=RefundDestinationKind.bank_account, iban=iban))
    if offered is not None and _unsure(text, offered):
        return ReplyIntent(kind=IntentKind.free_text)
    if _CARD_WORDS.search(text) and not _DESK_WORDS.search(text):
        return _destination(RefundDestination(kind=RefundDestinationKind.original_card))
    if _DESK_WORDS.search(text) and not _CARD_WORDS.search(text):
        return _destination(RefundDestination(kind=RefundDestinationKind.service_desk))
    if _YES.match(text):
        return ReplyIntent(kind=IntentKind.confirmation)
    return ReplyIntent(kind=IntentKind.free_text)


_NUMBERED = {1: "card", 2: "desk"}
_KINDS = {"card": RefundDestinationKind.original_card, "desk": RefundDestinationKind.service_desk}


def _read_widely(text: str, expecting: IntentKind | None, offered: frozenset[int] | None) -> ReplyIntent:
    """Finnish, Swedish and English as written: quoted mail left out, a score as "5/5" or "viisi", a choice as
    "yks" or "krotille". Not understood (asked again): a negation in the clause of an account number, or anywhere
    beside a card or desk word; a number not offered; two destinations at once; an account number with a typo."""
    number, numbers = alone(text), {int(digits) for digits in _NUMBER.findall(text)}
    if expecting is IntentKind.satisfaction and number in range(1, 6) and not NEGATION.search(text):
        return ReplyIntent(kind=IntentKind.satisfaction, score=number)
    if (found := _find_iban_at(text)) is not None:
        iban, start, end = found
        if not account_alone(text, start, end):  # "älä maksa tilille FI21 ...", "FI21 ... or the card"
            return ReplyIntent(kind=IntentKind.free_text)
        return _destination(RefundDestination(kind=RefundDestinationKind.bank_account, iban=iban))
    numbers |= {number} if number is not None else set()
    named = destinations_named(text) | {_NUMBERED[n] for n in numbers & (offered or set(_NUMBERED))}
    not_offered = offered is not None and (bool(numbers - offered) or not _offers_all(offered, named))
    if len(named) == 1 and not not_offered and not NEGATION.search(text) and a_short_choice(text):
        return _destination(RefundDestination(kind=_KINDS[named.pop()]))
    return ReplyIntent(kind=IntentKind.confirmation if _YES.match(text) and not named else IntentKind.free_text)


def _offers_all(offered: frozenset[int], named: set[str]) -> bool:
    """A card or desk word is read only when the question offered that answer (duplicate purchase: 1 alone)."""
    return all(number in offered for number, kind in _NUMBERED.items() if kind in named)


def _unsure(text: str, offered: frozenset[int]) -> bool:
    return bool(_NEGATION.search(text)) or any(int(number) not in offered for number in _NUMBER.findall(text))


def _find_iban(text: str) -> str | None:
    found = _find_iban_at(text)
    return found[0] if found else None


def _find_iban_at(text: str) -> tuple[str, int, int] | None:
    """An IBAN written in one piece or in space-separated groups, with where it starts and ends in `text`.
    Candidates end only where a word ends: cutting a mistyped IBAN short until the check digits happen to pass
    would pay a stranger."""
    for start in _IBAN_START.finditer(text):
        spans = [(word.start(), word.end()) for word in re.finditer(r"\S+", text[start.start():])]
        words = [text[start.start():][a:b].strip(".,;:!?()\"'") for a, b in spans]
        for count in range(min(len(words), 9), 0, -1):
            try:
                return _valid_iban("".join(words[:count])), start.start(), start.start() + spans[count - 1][1]
            except ValueError:
                continue
    return None


def _destination(destination: RefundDestination) -> ReplyIntent:
    return ReplyIntent(kind=IntentKind.refund_destination, destination=destination)
