"""Input types for what arrives at the edge, so that the API refuses with a 422 naming the field what would
otherwise break later (a line break in a text that becomes an email header, a blank name, a datetime without a
zone), and so that what the OpenAPI document calls valid is accepted (3.0 is an integer, example.test a domain)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field

# No control characters (CR, LF, tab, NUL, C1) and no Unicode line or paragraph separators: a single line stays
# a single line in an email subject, an SMS and a log. At least one character that is not a space.
_LINE_CHAR = r"[^\x00-\x1f\x7f-\x9f\u2028\u2029]"
SINGLE_LINE_PATTERN = rf"^{_LINE_CHAR}*[^\s\x00-\x1f\x7f-\x9f\u2028\u2029]{_LINE_CHAR}*$"


def single_line(max_length: int) -> object:
    """A one-line text of up to `max_length` characters (store names, topics, names of people)."""
    return Annotated[str, Field(min_length=1, max_length=max_length, pattern=SINGLE_LINE_PATTERN)]


SingleLine = single_line(200)

def _written_out(value: object) -> object:
    """A datetime arrives as text (RFC 3339); a number is not silently read as seconds since 1970."""
    if isinstance(value, int | float):
        raise ValueError("write the datetime as text with a time zone, e.g. 2026-05-05T09:00:00+03:00")
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_written_out),
                    Field(description="With a time zone, e.g. 2026-05-05T09:00:00+03:00 or ...Z.")]

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _within_kept_years(instant: datetime) -> datetime:
    return min(max(instant, EARLIEST), LATEST)


FilterInstant = Annotated[AwareDatetime, BeforeValidator(_written_out), AfterValidator(_within_kept_years), Field(
    description="With a time zone. A bound before 1970 or after 2099 filters as if it were that year's edge: "
                "no case lies outside, and date arithmetic near year 1 or 9999 would overflow.")]


def _integral_number(value: object) -> object:
    """JSON has one number type: 3.0 is the integer 3 (JSON Schema agrees); 3.5, "3" and true are not."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def whole_number(**bounds: int) -> object:
    """An integer as JSON writes it, within `bounds` (ge, le, ...). The bounds come before the validator, or
    pydantic leaves them out of the JSON schema of an optional field."""
    return Annotated[int, Field(strict=True, **bounds), BeforeValidator(_integral_number)]


WholeNumber = whole_number()


def _deliverable_address(address: str) -> str:
    """RFC 5322 syntax, as email-validator checks it, without refusing reserved test domains (example.test):
    nothing is looked up, and a bounce is an outcome the contact plan handles."""
    try:
        return validate_email(address, check_deliverability=False, test_environment=True).normalized
    except EmailNotValidError as error:
        raise ValueError(f"not an email address: {error}") from error


EmailAddress = Annotated[str, Field(max_length=320, json_schema_extra={"format": "email"}),
                         AfterValidator(_deliverable_address)]


def present(name: str, **constraints: object) -> dict:
    """JSON Schema: `name` is given, not null, and meets `constraints` (for `documented_rule`)."""
    return {"required": [name], "properties": {name: {"not": {"type": "null"}, **constraints}}}


def documented_rule(*alternatives: dict) -> dict:
    """A model's `json_schema_extra` for a rule its validator enforces across fields: the body matches one of
    `alternatives`. The OpenAPI document then tells clients (and the fuzz test) exactly what is accepted."""
    return {"anyOf": list(alternatives)}
