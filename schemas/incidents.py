"""What an integrator reports: an incident about one customer, which becomes one recovery case."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from schemas.channels import Channel, Language
from schemas.inputs import EmailAddress, PastInstant, SingleLine, documented_rule, present, single_line
from schemas.money import Money
from schemas.phones import PhoneNumber, PhoneType, at_the_edge, phone_type

E164Phone = PhoneNumber  # accepted as written ("040 123 4567"), kept in E.164
ExternalId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$", examples=["till-42-7781"])]
ShortText = SingleLine
_TIME_ZONES = frozenset(available_timezones())


def _known_time_zone(name: str) -> str:
    if name not in _TIME_ZONES:
        raise ValueError(f"'{name}' is not an IANA time zone such as Europe/Helsinki")
    return name


TimeZoneName = Annotated[str, Field(max_length=64, json_schema_extra={"enum": sorted(_TIME_ZONES)}),
                         AfterValidator(_known_time_zone)]


class IncidentKind(StrEnum):
    """Each kind is recovered by one workflow type (see `workflows/registry.py`)."""

    overcharge = "overcharge"
    undercharge = "undercharge"
    duplicate_purchase = "duplicate_purchase"
    complaint = "complaint"  # feedback or a complaint that needs a person's reply (S3, S4)
    data_misuse = "data_misuse"  # the customer's personal data misused (S5); `occurred_at`: when, roughly


class IncidentSource(StrEnum):
    till = "till"
    web_shop = "web_shop"
    contact_centre = "contact_centre"
    feedback_form = "feedback_form"
    social_media = "social_media"
    transaction_monitor = "transaction_monitor"  # the engine found the error itself in POST /transactions


class Customer(BaseModel):
    """Who was failed. A name is always known; a phone or email is needed to reach them directly."""

    name: ShortText
    phone: E164Phone | None = None
    email: EmailAddress | None = None
    city: single_line(100) | None = Field(default=None, description="Helps the directory look-up by name.")
    language: Language = Language.fi
    time_zone: TimeZoneName = "Europe/Helsinki"
    preferred_channel: Channel | None = None
    phone_type: PhoneType | None = Field(default=None, description="Set by the engine from the number: a "
                                         "landline is called or emailed, never texted.")

    @model_validator(mode="after")
    def _tell_landlines_apart(self) -> Customer:
        # Only once, where the case comes in: the saved type decides the channels on every replay, whatever a later
        # `phonenumbers` metadata says of the number.
        if self.phone and (self.phone_type is None or at_the_edge.get()):
            self.phone_type = phone_type(self.phone)
        return self


class IncidentIn(BaseModel):
    """`POST /incidents` body. `external_id` is the integrator's own id: posting it again returns the same case."""

    model_config = ConfigDict(json_schema_extra=lambda schema: schema.update(_INCIDENT_RULE))

    external_id: ExternalId
    kind: IncidentKind
    source: IncidentSource
    customer: Customer
    amount: Money | None = Field(default=None, description="The amount the customer was failed by.")
    store: ShortText | None = Field(default=None, description="Where it happened, named to the customer.")
    transaction_ref: ExternalId | None = None
    description: str | None = Field(default=None, max_length=4000)
    occurred_at: PastInstant | None = None
    owner: ShortText | None = Field(default=None, description="A suggested owner: a staff account's id or email in "
                                    "this tenant (unknown: 422); else the policy's triage owner.")
    topic: ShortText | None = Field(default=None, description="What the customer wrote about, in their words "
                                    "(named in the acknowledgement).", examples=["14 € charged twice for TV sport"])

    @model_validator(mode="after")
    def _money_incidents_name_an_amount(self) -> IncidentIn:
        if self.kind in MONEY_KINDS and (self.amount is None or self.amount.amount_minor == 0):
            raise ValueError(f"an {self.kind} incident needs an amount above zero")
        if self.kind is IncidentKind.complaint and not (self.topic or self.description):
            raise ValueError("a complaint needs a topic or a description: the acknowledgement names it")
        return self


MONEY_KINDS = frozenset({IncidentKind.overcharge, IncidentKind.undercharge, IncidentKind.duplicate_purchase})
# What `_money_incidents_name_an_amount` demands, in the OpenAPI document: per kind, the fields it needs.
_INCIDENT_RULE = documented_rule(
    {"properties": {"kind": {"enum": sorted(set(IncidentKind) - MONEY_KINDS - {IncidentKind.complaint})}}},
    {"allOf": [{"properties": {"kind": {"const": IncidentKind.complaint}}},
               documented_rule(present("topic"), present("description", minLength=1))]},
    {"allOf": [{"properties": {"kind": {"enum": sorted(MONEY_KINDS)}}},
               present("amount", properties={"amount_minor": {"minimum": 1}})]})
