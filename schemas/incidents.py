"""What an integrator reports: an incident about one customer, which becomes one recovery case."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Annotated, Any
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from kinds import ADDED, added_kind, added_kinds
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


IncidentKind = StrEnum("IncidentKind", [(name, name) for name in (
    "overcharge",
    "undercharge",
    "duplicate_purchase",
    "complaint",  # feedback or a complaint that needs a person's reply (S3, S4)
    "data_misuse",  # the customer's personal data misused (S5); `occurred_at`: when, roughly
    *ADDED,  # the kinds added with the scaffold (`kinds/__init__.py`)
)], module=__name__)
IncidentKind.__doc__ = "Each kind is recovered by one workflow type (see `workflows/registry.py`)."


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

    model_config = ConfigDict(json_schema_extra=lambda schema: schema.update(_incident_rule()))

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
    details: dict[str, Any] | None = Field(
        default=None, validate_default=True, description="What the kind needs to know besides the fields above, as "
        "the kind declares it (`kinds/<kind>.py`; the schema per kind is in this body's rules). Only kinds that "
        "declare details take them.", examples=[{"product": "Burana 400 mg, 30 tablets"}])

    @field_validator("details")
    @classmethod
    def _details_as_the_kind_declares(cls, details: dict[str, Any] | None,
                                      info: ValidationInfo) -> dict[str, Any] | None:
        kind = added_kind(info.data.get("kind"))
        if kind is None:
            if details:
                raise ValueError("this kind takes no details")
            return None
        return kind.details.model_validate(details or {}).model_dump(mode="json")

    @model_validator(mode="after")
    def _money_incidents_name_an_amount(self) -> IncidentIn:
        if self.kind in MONEY_KINDS and (self.amount is None or self.amount.amount_minor == 0):
            raise ValueError(f"an {self.kind} incident needs an amount above zero")
        if self.kind is IncidentKind.complaint and not (self.topic or self.description):
            raise ValueError("a complaint needs a topic or a description: the acknowledgement names it")
        return self


MONEY_KINDS = frozenset({IncidentKind.overcharge, IncidentKind.undercharge, IncidentKind.duplicate_purchase})
_NO_DETAILS = {"properties": {"details": {"type": "null"}}}


@cache
def _incident_rule() -> dict:
    """What the validators demand, in the OpenAPI document: per kind, the fields it needs (an added kind's
    details are looked up here, when the document is first made, not when this module loads)."""
    plain = set(IncidentKind) - MONEY_KINDS - {IncidentKind.complaint} - {kind.name for kind in added_kinds()}
    return documented_rule(
        {"allOf": [{"properties": {"kind": {"enum": sorted(plain)}}}, _NO_DETAILS]},
        {"allOf": [{"properties": {"kind": {"const": IncidentKind.complaint}}}, _NO_DETAILS,
                   documented_rule(present("topic"), present("description", minLength=1))]},
        {"allOf": [{"properties": {"kind": {"enum": sorted(MONEY_KINDS)}}}, _NO_DETAILS,
                   present("amount", properties={"amount_minor": {"minimum": 1}})]},
        *({"allOf": [{"properties": {"kind": {"const": kind.name}}}, _details_rule(kind.details)]}
          for kind in added_kinds()))


def _details_rule(details: type[BaseModel]) -> dict:
    schema = details.model_json_schema()
    if schema.get("required"):
        return present("details", **schema)
    return {"properties": {"details": {"anyOf": [schema, {"type": "null"}]}}}
