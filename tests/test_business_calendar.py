"""Business calendars and SLA clocks, on real Finnish dates.

The default calendar is Finnish: 08:00-16:00 Helsinki time, Monday to Friday, public holidays closed (Midsummer
Eve and Christmas Eve included). Every expected instant below was counted by hand from a real calendar.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from sla.calendar import BusinessCalendar
from sla.clock import Pause, SlaClock, SlaState

HELSINKI = ZoneInfo("Europe/Helsinki")
FINLAND = BusinessCalendar()
REPLY = timedelta(hours=8)  # a personal reply within 8 business hours
HOUR, MICROSECOND = timedelta(hours=1), timedelta(microseconds=1)


def helsinki(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=HELSINKI)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# -- which days are business days --------------------------------------------------------------------------------

@pytest.mark.parametrize("holiday", [
    date(2026, 1, 1),  # New Year's Day, Thursday
    date(2026, 1, 6),  # Epiphany, Tuesday
    date(2026, 4, 3),  # Good Friday
    date(2026, 4, 6),  # Easter Monday
    date(2026, 5, 1),  # Vappu, Friday
    date(2026, 5, 14),  # Ascension Day, Thursday
    date(2026, 6, 19),  # Midsummer Eve, Friday: not a holiday in law, closed in practice
    date(2026, 12, 24),  # Christmas Eve, Thursday: likewise
    date(2026, 12, 25),  # Christmas Day, Friday
    date(2027, 12, 6),  # Independence Day, Monday
])
def test_finnish_public_holidays_on_weekdays_are_not_business_days(holiday: date):
    assert holiday.weekday() < 5
    assert not FINLAND.is_business_day(holiday)


@pytest.mark.parametrize("workday", [
    date(2026, 5, 4),  # an ordinary Monday
    date(2026, 12, 7),  # the Monday after Independence Day on Sunday 6 December: holidays are not moved in Finland
    date(2026, 12, 28),  # the Monday after Christmas
    date(2026, 6, 9),  # Åland's Autonomy Day, a holiday in Åland only
])
def test_ordinary_weekdays_are_business_days(workday: date):
    assert FINLAND.is_business_day(workday)


def test_weekends_are_not_business_days():
    assert not FINLAND.is_business_day(date(2026, 5, 9))  # Saturday
    assert not FINLAND.is_business_day(date(2026, 5, 10))  # Sunday


def test_aland_closes_on_its_autonomy_day_tuesday_9_june_2026():
    assert not BusinessCalendar(subdivision="01").is_business_day(date(2026, 6, 9))


def test_our_own_closing_days_count_as_holidays():
    calendar = BusinessCalendar(extra_holidays=[date(2026, 5, 15)])  # the Friday after Ascension Day
    assert not calendar.is_business_day(date(2026, 5, 15))
    start = helsinki(2026, 5, 13, 12)  # Wednesday noon
    assert calendar.add_business_time(start, REPLY) == helsinki(2026, 5, 18, 12)  # Monday noon


def test_a_calendar_is_frozen_hashable_and_normalised():
    calendar = BusinessCalendar(workdays={4, 0, 1, 2, 3}, extra_holidays=[date(2026, 5, 15), date(2026, 1, 2)])
    assert calendar.workdays == (0, 1, 2, 3, 4)
    assert calendar.extra_holidays == (date(2026, 1, 2), date(2026, 5, 15))
    assert hash(calendar) == hash(BusinessCalendar(extra_holidays=[date(2026, 1, 2), date(2026, 5, 15)]))
    with pytest.raises(ValidationError):
        calendar.opens = time(9)


@pytest.mark.parametrize("settings", [
    {"time_zone": "Europe/Tampere"},
    {"opens": time(16), "closes": time(8)},
    {"opens": time(8, tzinfo=UTC)},
    {"country": "XX"},
    {"country": "fi"},
    {"subdivision": "99"},
    {"workdays": []},
    {"workdays": [5, 7]},
])
def test_a_calendar_that_cannot_be_right_is_refused(settings: dict):
    with pytest.raises(ValidationError):
        BusinessCalendar(**settings)


def test_naive_datetimes_and_instants_as_dates_are_refused():
    with pytest.raises(ValueError, match="naive"):
        FINLAND.add_business_time(datetime(2026, 5, 4, 9), REPLY)
    with pytest.raises(TypeError):
        FINLAND.is_business_day(helsinki(2026, 5, 4, 9))


# -- business time -----------------------------------------------------------------------------------------------

def test_easter_2026_complaint_thursday_2_april_at_closing_is_answered_by_tuesday_7_april():
    complaint = helsinki(2026, 4, 2, 16)  # Maundy Thursday, as the office closes
    # Good Friday, the weekend and Easter Monday are closed: the 8 hours are all of Tuesday.
    assert FINLAND.add_business_time(complaint, REPLY) == helsinki(2026, 4, 7, 16) == utc(2026, 4, 7, 13)
    assert FINLAND.add_business_days(complaint, 5) == helsinki(2026, 4, 13, 16)  # Tue, Wed, Thu, Fri, Mon


def test_easter_2027_complaint_thursday_25_march_spans_the_clock_change():
    complaint = helsinki(2027, 3, 25, 16)  # 14:00 UTC; summer time starts on Easter Sunday 28 March
    deadline = FINLAND.add_business_time(complaint, REPLY)
    assert deadline == helsinki(2027, 3, 30, 16) == utc(2027, 3, 30, 13)
    assert FINLAND.add_business_days(complaint, 5) == utc(2027, 4, 5, 13)  # Monday 5 April, 16:00 summer time


def test_s3_the_saturday_27_april_2013_complaint():
    """S3: the complaint came on Saturday 27 April 2013, the first answer six days later (Friday 3 May), the blog
    on Sunday 5 May. Within "5 business days" that answer was on time (Vappu, Wednesday 1 May, does not count),
    so only an hour-based reply target with an escalation catches this case, on Monday 29 April."""
    complaint = helsinki(2013, 4, 27, 11)
    assert FINLAND.add_business_days(complaint, 5) == helsinki(2013, 5, 6, 16)
    assert FINLAND.add_business_time(complaint, REPLY) == helsinki(2013, 4, 29, 16)
    clock = SlaClock(started_at=complaint, target=REPLY)
    assert clock.instant_at_share(0.75) == helsinki(2013, 4, 29, 14)  # when the supervisor hears of it
    assert clock.state(helsinki(2013, 5, 3, 10)) is SlaState.breached


def test_s4_feedback_before_christmas_2026_is_answered_by_new_years_eve():
    feedback = helsinki(2026, 12, 22, 10)  # Tuesday
    # Wed 23 (1); Christmas Eve, Christmas Day, the weekend closed; Mon 28 (2), Tue 29 (3), Wed 30 (4), Thu 31 (5).
    assert FINLAND.add_business_days(feedback, 5) == helsinki(2026, 12, 31, 16) == utc(2026, 12, 31, 14)
    assert FINLAND.add_business_time(feedback, REPLY) == helsinki(2026, 12, 23, 10)


def test_s4_feedback_before_midsummer_2026_skips_midsummer_eve():
    feedback = helsinki(2026, 6, 17, 12)  # Wednesday
    # Thu 18 (1); Midsummer Eve Fri 19 and the weekend closed; Mon 22 (2), Tue 23 (3), Wed 24 (4), Thu 25 (5).
    assert FINLAND.add_business_days(feedback, 5) == helsinki(2026, 6, 25, 16) == utc(2026, 6, 25, 13)


def test_the_weekend_does_not_count():
    assert FINLAND.add_business_time(helsinki(2026, 5, 8, 14), 4 * HOUR) == helsinki(2026, 5, 11, 10)
    assert FINLAND.business_time_between(helsinki(2026, 5, 8, 15), helsinki(2026, 5, 11, 9)) == 2 * HOUR


@pytest.mark.parametrize("start, deadline", [
    (helsinki(2026, 5, 4, 6, 30), helsinki(2026, 5, 4, 9)),  # Monday before opening: from 08:00
    (helsinki(2026, 5, 4, 20), helsinki(2026, 5, 5, 9)),  # Monday evening: from Tuesday 08:00
    (helsinki(2026, 5, 9, 12), helsinki(2026, 5, 11, 9)),  # Saturday: from Monday 08:00
    (helsinki(2026, 4, 30, 15, 30), helsinki(2026, 5, 4, 8, 30)),  # Thursday before Vappu: 30 min, then Monday
])
def test_outside_opening_hours_the_clock_starts_at_the_next_opening(start: datetime, deadline: datetime):
    assert FINLAND.add_business_time(start, HOUR) == deadline


def test_a_duration_that_runs_out_at_closing_time_ends_at_closing_time():
    assert FINLAND.add_business_time(helsinki(2026, 5, 4, 8), REPLY) == helsinki(2026, 5, 4, 16)
    assert FINLAND.add_business_time(helsinki(2026, 5, 4, 8), REPLY + MICROSECOND) > helsinki(2026, 5, 5, 8)
    assert FINLAND.add_business_time(helsinki(2026, 5, 9, 12), timedelta(0)) == helsinki(2026, 5, 9, 12)


def test_any_time_zone_in_utc_out():
    start = helsinki(2026, 5, 4, 9)
    in_new_york = start.astimezone(ZoneInfo("America/New_York"))
    deadline = FINLAND.add_business_time(in_new_york, REPLY)
    assert deadline == FINLAND.add_business_time(start, REPLY) == utc(2026, 5, 5, 6)
    assert deadline.tzinfo is UTC


def test_no_business_time_backwards():
    assert FINLAND.business_time_between(helsinki(2026, 5, 5, 12), helsinki(2026, 5, 4, 12)) == timedelta(0)
    with pytest.raises(ValueError):
        FINLAND.add_business_time(helsinki(2026, 5, 4, 9), -HOUR)


def test_daylight_saving_weeks_have_the_same_business_hours():
    # Summer time starts on Sunday 29 March 2026: Friday 14:00 is 12:00 UTC, Monday 14:00 is 11:00 UTC.
    assert FINLAND.add_business_time(helsinki(2026, 3, 27, 14), REPLY) == utc(2026, 3, 30, 11)
    assert FINLAND.business_time_between(helsinki(2026, 3, 27, 8), helsinki(2026, 3, 30, 16)) == 16 * HOUR
    # It ends on Sunday 25 October 2026: Friday 14:00 is 11:00 UTC, Monday 14:00 is 12:00 UTC.
    assert FINLAND.add_business_time(helsinki(2026, 10, 23, 14), REPLY) == utc(2026, 10, 26, 12)
    assert FINLAND.business_time_between(helsinki(2026, 10, 23, 8), helsinki(2026, 10, 26, 16)) == 16 * HOUR


def test_a_night_shift_over_the_clock_change_counts_real_hours():
    nights = BusinessCalendar(workdays=tuple(range(7)), opens=time(1), closes=time(5))
    # 01:00-05:00 on Sunday 29 March 2026 is three real hours (03:00 jumps to 04:00); on 25 October five.
    assert nights.business_time_between(helsinki(2026, 3, 29), helsinki(2026, 3, 29, 12)) == 3 * HOUR
    assert nights.add_business_time(helsinki(2026, 3, 29, 1), 3 * HOUR) == utc(2026, 3, 29, 2)
    assert nights.business_time_between(helsinki(2026, 10, 25), helsinki(2026, 10, 25, 12)) == 5 * HOUR


def test_three_months_of_business_time_cross_every_spring_holiday():
    start = helsinki(2026, 3, 2, 8)  # Monday; Easter, Vappu and Ascension Day follow
    deadline = FINLAND.add_business_time(start, 60 * REPLY)  # 60 full business days, the first being 2 March
    assert deadline == helsinki(2026, 5, 28, 16)
    assert deadline == FINLAND.add_business_days(start, 59)
    assert FINLAND.business_time_between(start, deadline) == 60 * REPLY


def test_adding_business_time_is_the_exact_inverse_of_measuring_it():
    durations = [MICROSECOND, HOUR, 8 * HOUR - MICROSECOND, REPLY, REPLY + MICROSECOND, timedelta(days=3)]
    starts = [helsinki(2026, 3, 30) + k * timedelta(hours=5, minutes=7) for k in range(60)]  # across Easter 2026
    for start in starts:
        for duration in durations:
            end = FINLAND.add_business_time(start, duration)
            assert FINLAND.business_time_between(start, end) == duration, (start, duration)
            assert FINLAND.business_time_between(start, end - MICROSECOND) < duration, (start, duration)


# -- business days -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("start, deadline", [
    (helsinki(2026, 5, 4, 9), helsinki(2026, 5, 11, 16)),  # Monday: Tue, Wed, Thu, Fri, Mon
    (helsinki(2026, 5, 4, 7), helsinki(2026, 5, 11, 16)),  # before opening, the start day still does not count
    (helsinki(2026, 5, 9, 12), helsinki(2026, 5, 18, 16)),  # Saturday: Ascension Day Thursday 14 May skipped
    (helsinki(2026, 5, 1, 12), helsinki(2026, 5, 8, 16)),  # on Vappu itself: Mon 4 to Fri 8
    (helsinki(2026, 5, 3, 23, 30), helsinki(2026, 5, 8, 16)),  # Sunday 23:30: Monday is day 1
])
def test_within_five_business_days_ends_at_closing_of_the_fifth_business_day_after_the_start_date(
        start: datetime, deadline: datetime):
    assert FINLAND.add_business_days(start, 5) == deadline


def test_the_start_date_is_the_date_in_the_calendars_time_zone():
    sunday_night_in_utc = utc(2026, 5, 3, 22, 30)  # already Monday 01:30 in Helsinki
    assert FINLAND.add_business_days(sunday_night_in_utc, 5) == helsinki(2026, 5, 11, 16)


def test_zero_business_days_is_refused():
    with pytest.raises(ValueError):
        FINLAND.add_business_days(helsinki(2026, 5, 4, 9), 0)


# -- the SLA clock -----------------------------------------------------------------------------------------------

START = helsinki(2026, 5, 4, 9)  # Monday; without pauses, 8 business hours end on Tuesday at 09:00


def clock(*pauses: tuple[datetime, datetime | None]) -> SlaClock:
    return SlaClock(started_at=START, target=REPLY, pauses=[Pause(start=a, end=b) for a, b in pauses])


def test_without_pauses_the_deadline_is_the_business_time_target():
    assert clock().deadline == helsinki(2026, 5, 5, 9) == utc(2026, 5, 5, 6)


@pytest.mark.parametrize("pause, covered, deadline", [
    ((helsinki(2026, 5, 4, 11), helsinki(2026, 5, 4, 14, 30)), timedelta(hours=3, minutes=30),
     helsinki(2026, 5, 5, 12, 30)),
    ((helsinki(2026, 5, 4, 15), helsinki(2026, 5, 6, 10)), timedelta(hours=11), helsinki(2026, 5, 6, 12)),
    ((helsinki(2026, 5, 4, 17), helsinki(2026, 5, 5, 7)), timedelta(0), helsinki(2026, 5, 5, 9)),  # a night
])
def test_a_pause_moves_the_deadline_by_the_business_time_it_covered(pause, covered: timedelta, deadline: datetime):
    assert FINLAND.business_time_between(*pause) == covered
    assert clock(pause).deadline == deadline
    assert clock(pause).deadline == FINLAND.add_business_time(clock().deadline, covered)


def test_a_pause_after_the_deadline_does_not_move_it():
    late = (helsinki(2026, 5, 5, 10), helsinki(2026, 5, 6, 10))
    assert clock(late).deadline == clock().deadline
    assert clock(late).state(helsinki(2026, 5, 5, 11)) is SlaState.breached  # a breach stays a breach


def test_while_waiting_on_the_customer_the_clock_stands_still():
    waiting = clock().pause(helsinki(2026, 5, 4, 11))  # two hours used
    assert waiting.paused_since == utc(2026, 5, 4, 8)
    assert waiting.deadline is None
    assert waiting.state(helsinki(2026, 5, 5, 15)) is SlaState.paused
    assert waiting.used(helsinki(2026, 5, 5, 15)) == 2 * HOUR
    assert waiting.remaining(helsinki(2026, 5, 5, 15)) == 6 * HOUR
    answered = waiting.resume(helsinki(2026, 5, 6, 10))  # Wednesday 10:00: six hours left
    assert answered.deadline == helsinki(2026, 5, 6, 16)
    assert answered.state(helsinki(2026, 5, 6, 10)) is SlaState.on_track


def test_pausing_and_resuming_twice_changes_nothing():
    waiting = clock().pause(helsinki(2026, 5, 4, 11))
    assert waiting.pause(helsinki(2026, 5, 4, 12)) == waiting
    answered = waiting.resume(helsinki(2026, 5, 4, 13))
    assert answered.resume(helsinki(2026, 5, 4, 14)) == answered


def test_at_risk_from_three_quarters_of_the_target_breached_only_after_the_deadline():
    at_risk = helsinki(2026, 5, 4, 15)  # 6 of 8 hours used
    assert clock().instant_at_share(0.75) == clock().instant_at_share(Fraction(3, 4)) == at_risk
    assert clock().share_used(at_risk) == Fraction(3, 4)
    assert clock().state(at_risk - MICROSECOND) is SlaState.on_track
    assert clock().state(at_risk) is SlaState.at_risk
    assert clock().state(helsinki(2026, 5, 4, 20)) is SlaState.at_risk  # the evening uses no business time
    assert clock().state(helsinki(2026, 5, 5, 9)) is SlaState.at_risk  # exactly at the deadline: still on time
    assert clock().state(helsinki(2026, 5, 5, 9) + MICROSECOND) is SlaState.breached
    assert clock().state(helsinki(2026, 5, 4, 13), at_risk_share=0.5) is SlaState.at_risk


def test_shares_of_the_target_are_exact():
    assert clock().instant_at_share(0.1) == helsinki(2026, 5, 4, 9, 48)  # 48 minutes, not 47:59.999999
    assert clock().instant_at_share(Fraction(1, 3)) == helsinki(2026, 5, 4, 11, 40)
    hour = SlaClock(started_at=START, target=HOUR)
    assert hour.instant_at_share(Fraction(1, 7)) == START + timedelta(microseconds=514_285_715)  # rounded up
    assert clock().instant_at_share(0) == START
    assert clock().instant_at_share(1.5) == helsinki(2026, 5, 5, 13)
    with pytest.raises(ValueError):
        clock().instant_at_share(-0.1)


def test_a_clock_survives_serialization_as_workflow_state():
    paused = clock((helsinki(2026, 5, 4, 11), helsinki(2026, 5, 4, 12))).pause(helsinki(2026, 5, 4, 14))
    data = paused.model_dump_json()
    assert '"started_at":"2026-05-04T06:00:00Z"' in data and '"target":"PT8H"' in data
    assert SlaClock.model_validate_json(data) == paused


@pytest.mark.parametrize("pauses", [
    [(helsinki(2026, 5, 4, 8), helsinki(2026, 5, 4, 10))],  # before the clock started
    [(helsinki(2026, 5, 4, 12), helsinki(2026, 5, 4, 11))],  # ends before it starts
    [(helsinki(2026, 5, 4, 10), None), (helsinki(2026, 5, 4, 12), None)],  # an open pause that is not the last
    [(helsinki(2026, 5, 4, 10), helsinki(2026, 5, 4, 12)), (helsinki(2026, 5, 4, 11), None)],  # overlapping
])
def test_pauses_that_cannot_have_happened_are_refused(pauses):
    with pytest.raises(ValidationError):
        clock(*pauses)


def test_a_clock_needs_a_target_and_aware_instants():
    with pytest.raises(ValidationError):
        SlaClock(started_at=START, target=timedelta(0))
    with pytest.raises(ValidationError):
        SlaClock(started_at=datetime(2026, 5, 4, 9), target=REPLY)
    with pytest.raises(ValueError, match="naive"):
        clock().state(datetime(2026, 5, 4, 9))


# -- fit for workflow code ---------------------------------------------------------------------------------------

def test_importing_and_computing_read_no_files():
    """Workflow code may not touch files, the locale or the environment. `holidays` translates holiday names from
    files chosen by the environment's language (here Finnish, so a translation would be read); we never do."""
    program = textwrap.dedent("""
        import sys
        import holidays, pydantic
        class Warm(pydantic.BaseModel):  # pydantic reads its plugins' entry points once, for the first model
            x: int = 0
        opened = []
        sys.addaudithook(lambda event, args: opened.append(args[0]) if event == "open" else None)
        from datetime import date
        from sla.calendar import BusinessCalendar
        from sla.clock import SlaClock
        imported = [path for path in opened if not str(path).endswith((".py", ".pyc"))]
        before = len(opened)
        calendar = BusinessCalendar(subdivision="01")
        assert not calendar.is_business_day(date(2031, 6, 9))
        print(imported, opened[before:])
    """)
    result = subprocess.run([sys.executable, "-B", "-c", program], capture_output=True, text=True, timeout=60,
                            cwd=Path(__file__).parents[1], env={"LANGUAGE": "fi"}, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] []"
