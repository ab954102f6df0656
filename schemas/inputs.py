"""Input types for what arrives at the edge, so that the API refuses with a 422 naming the field what would
otherwise break later (a line break in a text that becomes an email header, a blank name, a datetime without a
zone), and so that what the OpenAPI document calls valid is accepted (3.0 is an integer, example.test a domain)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
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
    """A datetime arrives as text (RFC 3339); a number is not silently read as seconds since 1970, nor is a
    number written as text (every query parameter is text: `?since=0.6`)."""
    if isinstance(value, int | float) or (isinstance(value, str) and _is_a_number(value)):
        raise ValueError("write the datetime as text with a time zone, e.g. 2026-05-05T09:00:00+03:00")
    return value


def _is_a_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
CLOCK_SKEW = timedelta(minutes=5)  # a sender's clock a little ahead of ours is not an event in the future
# The words of the 422s below: the fuzz test accepts a refused valid-looking datetime only when they are named.
PAST_INSTANT_RULE = "must not lie in the future nor before 1970"
KEPT_YEARS_RULE = "must lie within the years 1970 to 2099 (UTC)"


def _day_within_kept_years(day: date) -> date:
    """A filter's day: the same years as FilterInstant (a day near year 1 or 9999 overflows once a day is added)."""
    if not EARLIEST.date() <= day < LATEST.date():
        raise ValueError(KEPT_YEARS_RULE)
    return day


def _in_the_past(instant: datetime) -> datetime:
    """An event that happened: not ahead of our clock, not before 1970. Year 1 at +14:00 or year 9999 at -14:00
    parse, but would overflow wherever the instant is moved to UTC or has time added to it."""
    if not EARLIEST <= instant <= datetime.now(UTC) + CLOCK_SKEW:
        raise ValueError(f"{PAST_INSTANT_RULE} (a clock up to {CLOCK_SKEW.seconds // 60} minutes ahead is tolerated)")
    return instant


def _within_kept_years(instant: datetime) -> datetime:
    """A filter's bound: no case lies outside these years, and date arithmetic near year 1 or 9999 overflows."""
    if not EARLIEST <= instant < LATEST:
        raise ValueError(KEPT_YEARS_RULE)
    return instant


PastInstant = Annotated[AwareDatetime, BeforeValidator(_written_out), AfterValidator(_in_the_past), Field(
    description="With a time zone, e.g. 2026-05-05T09:00:00+03:00 or ...Z; not in the future (a clock ahead by "
                "up to 5 minutes is tolerated) and not before 1970.")]
FilterInstant = Annotated[AwareDatetime, BeforeValidator(_written_out), AfterValidator(_within_kept_years), Field(
    description="With a time zone; from 1970-01-01T00:00:00Z up to, not including, 2100-01-01T00:00:00Z. A bound "
                "outside those years is refused (422 naming the parameter).")]
FilterDay = Annotated[date, AfterValidator(_day_within_kept_years), Field(
    description="A day (YYYY-MM-DD) from 1970-01-01 to 2099-12-31; outside those years it is refused (422).")]


def _integral_number(value: object) -> object:
    """JSON has one number type: 3.0 is the integer 3 (JSON Schema agrees); 3.5, "3" and true are not."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def whole_number(**bounds: int) -> object:
    """An integer as JSON writes it, within `bounds` (ge, le, ...). The bounds come before the validator, or
    pydantic leaves them out of the JSON schema of an optional field."""
    return Annotated[int, Field(strict=True, **bounds), BeforeValidator(_integral_number)]


WholeNumber = whole_number()
# A database row id (SQLite's and PostgreSQL's BIGINT): a larger number in a path would overflow the driver (a 500).
ROW_ID_MAX = 2**63 - 1


def _each_once(values: object) -> object:
    """JSON has no sets: an array of distinct items (`uniqueItems` in the OpenAPI document) that repeats one is
    refused, not silently collapsed (a role listed twice may be a typo for another)."""
    if isinstance(values, list):
        seen: list[object] = []
        for value in values:
            if value in seen:
                raise ValueError(f"lists {value!r} more than once; each item may appear once")
            seen.append(value)
    return values


def distinct(item: type, **bounds: int) -> object:
    """A set of `item`s as JSON writes it: an array naming each at most once, within `bounds` (min_length...).
    As in `whole_number`, the bounds come before the validator, or pydantic misplaces them in the JSON schema."""
    return Annotated[set[item], Field(**bounds), BeforeValidator(_each_once)]


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
