"""A personal reply states a fact of the case; an amount counts however people write it in our customers'
languages, with the currency's ISO 4217 digits, and never rounded."""

from __future__ import annotations

import pytest

from intake.personal import missing_from_reply, states_amount
from schemas.money import Money
from store.tables import CaseRow


@pytest.mark.parametrize(("minor", "currency", "written"), [
    (1500, "JPY", "1 500 ¥"), (1500, "JPY", "1500 jeniä"), (1500, "JPY", "¥1,500"),
    (995, "KWD", "0,995 KWD"), (995, "KWD", "KWD 0.995"),
    (1400, "EUR", "14,00 €"), (1400, "EUR", "€14.00"), (1400, "EUR", "14 €"), (150000, "EUR", "1 500,00 €"),
    (150000, "EUR", "€1,500.00"), (10000, "HUF", "100,00 Ft"),
])
def test_an_amount_is_read_as_people_write_it(minor, currency, written):
    assert states_amount(f"we have returned {written} to you", Money(amount_minor=minor, currency=currency))


@pytest.mark.parametrize(("minor", "currency", "written"), [
    (995, "KWD", "1.00 KWD"), (995, "KWD", "1 KWD"), (1500, "JPY", "15,00 ¥"), (1400, "EUR", "14,50 €"),
    (300, "EUR", "ref 3F9A1C07"),
])
def test_a_rounded_or_other_amount_is_not_the_amount(minor, currency, written):
    assert not states_amount(f"we have returned {written} to you", Money(amount_minor=minor, currency=currency))


def test_a_reply_naming_the_yen_amount_as_written_is_personal():
    case = CaseRow(id="case-1", reference="3F9A1C07", integrator="t", external_id="x", kind="complaint",
                   source="feedback_form", status="open", step="personal_reply", customer_name="Yuki Tanaka",
                   amount_minor=1500, currency="JPY", opened_at="2026-01-01T00:00:00Z")
    assert missing_from_reply("Hello Yuki, we refund the 1500 yen. Aino", "Aino", case) == []
    [missing] = missing_from_reply("Hello Yuki, we are sorry. Aino", "Aino", case)
    assert "¥1,500" in missing and "1,500.00" not in missing


def test_a_case_whose_customer_name_is_blank_is_checked_without_failing():
    case = CaseRow(id="case-2", reference="3F9A1C08", integrator="t", external_id="y", kind="complaint",
                   source="feedback_form", status="open", step="personal_reply", customer_name=" ",
                   store="Prisma Kaleva", opened_at="2026-01-01T00:00:00Z")
    assert missing_from_reply("Hello, about your visit to Prisma Kaleva. Aino", "Aino", case) == []
