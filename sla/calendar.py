"""Business calendars: when the clock of a business-time SLA runs.

A `BusinessCalendar` says which dates are business days (workdays that are neither public holidays of a country
nor closing days of our own) and the opening hours on them, in one time zone. Its arithmetic answers "when will
8 business hours have passed since this complaint?" and "when does the 5th business day end?".

Everything here is pure and deterministic, so workflow code may call it: every instant is passed in (no clock is
read), nothing is random, and importing the module reads no files of its own. Holiday tables come from the
`holidays` package, computed per (country, subdivision, year) on first use and memoised; the memo never changes
an answer. Two things keep `holidays` inside a workflow's rules: holiday names are never translated (that reads
files, the environment and `locale`), and every country's holiday class is imported up front (`holidays` would
otherwise import a country's module on first use, in the middle of a workflow). Workflow modules import this
module inside `workflow.unsafe.imports_passed_through()`, as they do `schemas`, so the sandbox does not import
all of `holidays` again for every workflow run.

Finland, the default. The `holidays` FI table lists Midsummer Eve and Christmas Eve among the public holidays.
In law they are ordinary days, but they are bank holidays, nearly every workplace is closed, and the act on
computing statutory time limits (150/1930) does not let a deadline end on them either: we keep them as closed
days. A holiday that falls on a weekend is not moved to a weekday in Finland, and `holidays` moves none.
All arithmetic is done on UTC instants, so weeks in which the clocks change (the last Sundays of March and
October) have the same business hours as any other week.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays.countries
from holidays import HolidayBase
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

_DAY = timedelta(days=1)
# How far `add_business_time` looks ahead before it gives up: durations are hours to a few months.
_HORIZON = timedelta(days=3660)


def to_utc(instant: datetime) -> datetime:
    """The same instant in UTC; naive datetimes are refused, since their instant is a guess."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{instant!r} is naive: business time needs an aware datetime")
    return instant.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(to_utc)]
"""An aware datetime, kept in UTC so that serialized state reads the same whoever wrote it."""


def _skip_translation(table: HolidayBase) -> None:
    """Replaces `HolidayBase._init_translation`: holiday names stay in the country's own language. Translating them
    reads files, the environment's language and `locale`, none of which a workflow may touch; we only use dates."""
    table.tr = str  # str(name) is name


@cache
def _entity(country: str) -> type[HolidayBase]:
    """The `holidays` class of a country, by its ISO 3166-1 alpha-2 code, made to skip name translations."""
    entity = getattr(holidays.countries, country, None)
    if not (isinstance(entity, type) and issubclass(entity, HolidayBase) and entity.country == country):
        raise ValueError(f"no holiday calendar for country {country!r}")
    return type(entity.__name__, (entity,), {"_init_translation": _skip_translation})


def _holiday_table(country: str, subdivision: str | None, year: int | None) -> HolidayBase:
    """The `holidays` table of a country for one year or, with None, for none (to check the arguments)."""
    try:
        return _entity(country)(subdiv=subdivision, years=year)
    except NotImplementedError as e:
        raise ValueError(f"no holiday calendar for subdivision {subdivision!r} of {country}") from e


@lru_cache(maxsize=256)
def _public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """The public holidays of one year. A pure function of its arguments, so memoising it is safe."""
    return frozenset(_holiday_table(country, subdivision, year).keys())


class BusinessCalendar(BaseModel):
    """Business days and opening hours in one time zone. Frozen and hashable: a case keeps the calendar it was
    opened under, and a policy change never moves a running case's deadlines."""

    model_config = ConfigDict(frozen=True)

    country: str = Field(default="FI", description="ISO 3166-1 code whose public holidays are closed days.")
    subdivision: str | None = Field(default=None, description="e.g. FI '01' (Åland) adds Autonomy Day, 9 June.")
    time_zone: str = Field(default="Europe/Helsinki", description="IANA name; opening hours are local to it.")
    opens: time = time(8)
    closes: time = Field(default=time(16), description="After `opens` on the same day: no overnight hours.")
    workdays: tuple[int, ...] = Field(default=(0, 1, 2, 3, 4), description="date.weekday() numbers, Monday = 0.")
    extra_holidays: tuple[date, ...] = Field(default=(), description="Our own closed days, besides public ones.")

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown time zone {name!r}") from e
        return name

    @field_validator("workdays")
    @classmethod
    def _weekdays(cls, days: tuple[int, ...]) -> tuple[int, ...]:
        if not days or not all(0 <= d <= 6 for d in days):
            raise ValueError("workdays must be a non-empty set of weekday numbers 0 (Monday) to 6 (Sunday)")
        return tuple(sorted(set(days)))

    @field_validator("extra_holidays")
    @classmethod
    def _sorted_dates(cls, days: tuple[date, ...]) -> tuple[date, ...]:
        return tuple(sorted(set(days)))

    @model_validator(mode="after")
    def _consistent(self) -> BusinessCalendar:
        if self.opens.tzinfo or self.closes.tzinfo:
            raise ValueError("opening hours are wall-clock times in `time_zone`, without a zone of their own")
        if not self.opens < self.closes:
            raise ValueError("the calendar must close after it opens, on the same day")
        _holiday_table(self.country, self.subdivision, None)
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def is_business_day(self, day: date) -> bool:
        """A workday that is neither a public holiday nor one of our extra closed days."""
        if isinstance(day, datetime):
            raise TypeError("pass a local date: for an instant use calendar.local_date(instant)")
        return (day.weekday() in self.workdays and day not in self.extra_holidays
                and day not in _public_holidays(self.country, self.subdivision, day.year))

    def local_date(self, instant: datetime) -> date:
        """The calendar date of an instant in the calendar's time zone."""
        return to_utc(instant).astimezone(self.zone).date()

    def opening_hours(self, day: date) -> tuple[datetime, datetime] | None:
        """Opening and closing of a business day as UTC instants; None when the day is not a business day."""
        if not self.is_business_day(day):
            return None
        zone = self.zone
        return (datetime.combine(day, self.opens, zone).astimezone(UTC),
                datetime.combine(day, self.closes, zone).astimezone(UTC))

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest instant (UTC) by which `duration` of business time has passed since `start`.

        Only opening hours on business days count, so a start outside them starts the clock at the next
        opening. "Earliest" settles the edges: a duration that runs out exactly at closing time ends at closing
        time (not at the next opening), and a zero duration ends at `start`. It is the inverse of
        `business_time_between`: business_time_between(start, add_business_time(start, d)) == d.
        """
        start = to_utc(start)
        if duration < timedelta(0):
            raise ValueError("business time runs forward only")
        if not duration:
            return start
        remaining = duration
        for opens, closes in self._windows(start, self.local_date(start) + _HORIZON):
            if remaining <= closes - opens:
                return opens + remaining
            remaining -= closes - opens
        raise ValueError(f"{duration} of business time does not fit in the next {_HORIZON.days} days")

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from `start` to `end`; zero when `end` is not after `start`."""
        start, end = to_utc(start), to_utc(end)
        total = timedelta(0)
        for opens, closes in self._windows(start, self.local_date(end)):
            if opens >= end:
                break
            total += min(closes, end) - opens
        return total

    def add_business_days(self, start: datetime, days: int) -> datetime:
        """Within `days` business days: the closing time (UTC) of the `days`-th business day after `start`'s date.

        The local date of `start` never counts, whatever the hour and whether or not it is a business day (as
        the day of the event does not count in Finnish statutory time limits); day 1 is the first business day
        after it. Feedback at 09:00 on Monday 4 May 2026 is due within 5 business days by 16:00 on Monday
        11 May 2026; feedback on Saturday 9 May 2026 is due by 16:00 on Monday 18 May 2026 (Ascension Day,
        Thursday 14 May, does not count).
        """
        if days < 1:
            raise ValueError("count at least one business day")
        day = self.local_date(start)
        while days:
            day += _DAY
            if self.is_business_day(day):
                days -= 1
        return datetime.combine(day, self.closes, self.zone).astimezone(UTC)

    def _windows(self, start: datetime, last_day: date) -> Iterator[tuple[datetime, datetime]]:
        """Opening hours (UTC) from the local date of `start` to `last_day`, cut to begin no earlier than `start`.
        Windows that ended before `start` are skipped."""
        day = self.local_date(start)
        while day <= last_day:
            hours = self.opening_hours(day)
            if hours and hours[1] > start:
                yield max(hours[0], start), hours[1]
            day += _DAY
