"""What an integrator reports: an incident about one customer, which becomes one recovery case."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, EmailStr, Field, model_validator

from schemas.money import Money

E164Phone = Annotated[str, Field(pattern=r"^\+[1-9][0-9]{6,14}$", examples=["+358401234567"])]
ExternalId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$", examples=["till-42-7781"])]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]


class IncidentKind(StrEnum):
    """Each kind is recovered by one workflow type (see `workflows/registry.py`)."""

    overcharge = "overcharge"
    undercharge = "undercharge"


class IncidentSource(StrEnum):
    till = "till"
    web_shop = "web_shop"
    contact_centre = "contact_centre"
    feedback_form = "feedback_form"
    social_media = "social_media"
    transaction_monitor = "transaction_monitor"  # the engine found the error itself in POST /transactions


class Language(StrEnum):
    fi = "fi"
    sv = "sv"
    en = "en"


class Customer(BaseModel):
    """Who was failed. A name is always known; a phone or email is needed to reach them directly."""

    name: ShortText
    phone: E164Phone | None = None
    email: EmailStr | None = None
    language: Language = Language.fi
    time_zone: str = Field(default="Europe/Helsinki", max_length=64)


class IncidentIn(BaseModel):
    """`POST /incidents` body. `external_id` is the integrator's own id: posting it again returns the same case."""

    external_id: ExternalId
    kind: IncidentKind
    source: IncidentSource
    customer: Customer
    amount: Money | None = Field(default=None, description="The amount the customer was failed by.")
    store: ShortText | None = Field(default=None, description="Where it happened, named to the customer.")
    transaction_ref: ExternalId | None = None
    description: str | None = Field(default=None, max_length=4000)
    occurred_at: datetime | None = None

    @model_validator(mode="after")
    def _money_incidents_name_an_amount(self) -> IncidentIn:
        if self.kind in MONEY_KINDS and (self.amount is None or self.amount.amount_minor == 0):
            raise ValueError(f"an {self.kind} incident needs an amount above zero")
        return self


MONEY_KINDS = frozenset({IncidentKind.overcharge, IncidentKind.undercharge})
