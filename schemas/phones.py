"""Phone numbers as people write them (`040 123 4567`), parsed with Google's `phonenumbers` and kept in E.164
(`+358401234567`). Numbers without a country code are read in the default region: the policy's (FI unless
configured), which the API sets for each request. Landlines are told apart, because they cannot take a text.

Strict checks run only where a number comes in (the API sets `at_the_edge` for each request). A case's saved
input is decoded again by the worker on every workflow task: there a number kept in E.164 is taken as it is,
because a number accepted once must never stop a case because a later `phonenumbers` release judges it
differently."""

from __future__ import annotations

import re
from contextvars import ContextVar
from enum import StrEnum
from typing import Annotated

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType, ValidationResult
from pydantic import AfterValidator, Field

default_region: ContextVar[str] = ContextVar("default_phone_region", default="FI")
at_the_edge: ContextVar[bool] = ContextVar("phone_at_the_edge", default=False)
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")

# Every region's metadata now (0.2 s, under 1 MB), not lazily on first use: a lazy load inside the workflow
# sandbox (workers re-validate case inputs there) fails mid-import and leaves phonenumbers' metadata lock held,
# which hangs every later parse in the process (seen with the API and the worker in separate processes).
phonenumbers.PhoneMetadata.load_all()

_WHY_IMPOSSIBLE = {
    ValidationResult.INVALID_COUNTRY_CODE: "its country code does not exist",
    ValidationResult.TOO_SHORT: "it is too short",
    ValidationResult.INVALID_LENGTH: "it has the wrong number of digits",
    ValidationResult.TOO_LONG: "it is too long",
}


# Numbers we text or call. Premium-rate, shared-cost, toll-free, pagers and the like cost the customer or us
# money, or reach no person.
_REACHABLE = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE,
                        PhoneNumberType.VOIP})


class PhoneType(StrEnum):
    mobile = "mobile"
    landline = "landline"  # called, never texted
    unknown = "unknown"  # e.g. a number plan that does not tell mobiles apart: texted, as before


def normalise_phone(text: str, region: str | None = None) -> str:
    """The number in E.164; ValueError saying why when it cannot be a phone number."""
    try:
        number = phonenumbers.parse(text, region or default_region.get())
    except NumberParseException as error:
        raise ValueError(f"'{text}' is not a phone number ({error._msg})") from None
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible not in (ValidationResult.IS_POSSIBLE, ValidationResult.IS_POSSIBLE_LOCAL_ONLY):
        raise ValueError(f"'{text}' is not a possible phone number: {_WHY_IMPOSSIBLE.get(possible, 'unknown')}")
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"'{text}' is not a valid number in its numbering plan (a digit wrong?)")
    if phonenumbers.number_type(number) not in _REACHABLE:
        raise ValueError(f"'{text}' is not a mobile or landline number (premium-rate, shared-cost and toll-free "
                         "numbers are not texted or called)")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _read_phone(text: str) -> str:
    """Strict where a number comes in; a kept E.164 number is taken as it is everywhere else (see above)."""
    if not at_the_edge.get() and _E164.match(text):
        return text
    return normalise_phone(text)


def as_phone_address(address: str) -> str:
    """A sender or opt-out address in the form cases keep: numbers in E.164, anything else (email) as it is."""
    if "@" in address:
        return address
    try:
        return normalise_phone(address)
    except ValueError:
        return address


def phone_type(e164: str) -> PhoneType:
    kind = phonenumbers.number_type(phonenumbers.parse(e164))
    if kind == PhoneNumberType.MOBILE:
        return PhoneType.mobile
    return PhoneType.landline if kind == PhoneNumberType.FIXED_LINE else PhoneType.unknown


# `format: phone`: OpenAPI's custom format for what JSON Schema cannot check (a number that exists in its plan).
PhoneNumber = Annotated[str, Field(min_length=1, max_length=40, examples=["+358401234567", "040 123 4567"],
                                   json_schema_extra={"format": "phone"},
                                   description="As written; stored in E.164. Without a country code, the "
                                   "policy's default region (FI) applies."),
                        AfterValidator(_read_phone)]
