"""The contact plan's pure rules: channel order, consent, and quiet hours in the customer's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.channels import Channel
from schemas.incidents import Customer, IncidentKind
from schemas.policy import ContactPolicy
from workflows.contact_plan import attempts, channel_order, quiet_hours_end

POLICY = ContactPolicy()
BOTH = Customer(name="Liisa", phone="+358401112222", email="liisa@example.fi")


def test_duplicate_purchase_calls_first_then_texts_then_emails():
    plan = channel_order(POLICY, IncidentKind.duplicate_purchase, BOTH)
    assert [channel for channel, _ in plan] == [Channel.voice, Channel.sms, Channel.email]


def test_the_customers_preferred_channel_goes_first_and_missing_addresses_drop_out():
    prefers_email = BOTH.model_copy(update={"preferred_channel": Channel.email})
    assert channel_order(POLICY, IncidentKind.overcharge, prefers_email)[0] == (Channel.email, "liisa@example.fi")
    phone_only = Customer(name="Liisa", phone="+358401112222")
    assert Channel.email not in {c for c, _ in channel_order(POLICY, IncidentKind.overcharge, phone_only)}


def test_calls_are_tried_twice_and_opted_out_channels_are_skipped():
    plan = channel_order(POLICY, IncidentKind.duplicate_purchase, BOTH)
    tried = [(a.channel, a.number) for a in attempts(POLICY, plan, opted_out={Channel.sms})]
    assert tried == [(Channel.voice, 0), (Channel.voice, 1), (Channel.email, 0)]


def test_half_past_eleven_in_helsinki_waits_for_eight_in_the_morning():
    at_2330_helsinki = datetime(2026, 11, 23, 21, 30, tzinfo=UTC)  # UTC+2 in winter
    assert quiet_hours_end(at_2330_helsinki, "Europe/Helsinki", POLICY) == datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def test_just_after_midnight_waits_for_the_same_morning_and_daytime_does_not_wait():
    at_0010_helsinki_summer = datetime(2026, 6, 30, 21, 10, tzinfo=UTC)  # UTC+3
    assert quiet_hours_end(at_0010_helsinki_summer, "Europe/Helsinki", POLICY) == datetime(2026, 7, 1, 5, 0, tzinfo=UTC)
    assert quiet_hours_end(datetime(2026, 11, 23, 10, 0, tzinfo=UTC), "Europe/Helsinki", POLICY) is None


def test_quiet_hours_follow_the_customers_own_time_zone():
    at_2130_utc = datetime(2026, 11, 23, 21, 30, tzinfo=UTC)
    assert quiet_hours_end(at_2130_utc, "Europe/Lisbon", POLICY) == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert quiet_hours_end(datetime(2026, 11, 23, 19, 0, tzinfo=UTC), "Europe/Lisbon", POLICY) is None


def test_a_landline_only_customer_is_called_where_the_kind_would_text():
    """Undercharges text, then email: a customer known only by a landline is called in the text's place."""
    landline_only = Customer(name="Liisa", phone="+35891234567")
    assert channel_order(POLICY, IncidentKind.undercharge, landline_only) == [(Channel.voice, "+35891234567")]
    assert channel_order(POLICY, IncidentKind.undercharge, BOTH)[0][0] is Channel.sms, "mobiles are still texted"
