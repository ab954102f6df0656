"""Money in ISO 4217 units: the digits come from the standard, never from a display library."""

import re

import pytest
from iso4217 import Currency
from pydantic import ValidationError

from providers.payments import RefundRejected
from providers.payments.stripe import stripe_amount
from schemas.money import ISO_MINOR_DIGITS, Money


def test_huf_has_two_minor_digits_as_iso_4217_says() -> None:
    huf = Money(amount_minor=10000, currency="HUF")
    assert str(huf) == "100.00 HUF"
    assert huf.format("en") == "HUF100.00"
    assert huf.format("fi").replace("\xa0", " ") == "100,00 HUF"
    assert stripe_amount(huf) == 10000  # not 1,000,000


@pytest.mark.parametrize(("amount", "english"), [
    (Money(amount_minor=995, currency="EUR"), "€9.95"),
    (Money(amount_minor=1500, currency="JPY"), "¥1,500"),
    (Money(amount_minor=995, currency="KWD"), "KWD0.995"),
    (Money(amount_minor=5, currency="ISK"), "ISK5"),
    (Money(amount_minor=12345, currency="CLF"), "CLF1.2345"),
])
def test_amounts_are_shown_with_exactly_the_iso_digits(amount: Money, english: str) -> None:
    assert amount.format("en") == english


@pytest.mark.parametrize("code", ["XXX", "XAU", "XDR", "FIM", "EUX"])
def test_codes_that_are_not_payable_currencies_are_refused(code: str) -> None:
    with pytest.raises(ValidationError, match="ISO 4217"):
        Money(amount_minor=100, currency=code)


@pytest.mark.parametrize("currency", [c for c in Currency if c.exponent is not None], ids=lambda c: c.code)
def test_every_active_iso_code_round_trips_through_money_and_stripe(currency: Currency) -> None:
    """Each active code with a minor unit is accepted, formatted with its ISO digits in every language we write,
    and converted to Stripe's unit without loss (or refused, never rounded)."""
    one_unit = Money(amount_minor=10**currency.exponent, currency=currency.code)
    assert one_unit.as_decimal() == 1
    for locale in ("fi", "sv", "en"):
        digits_shown = re.sub(r"\D", "", one_unit.format(locale))
        assert digits_shown == "1" + "0" * currency.exponent, (locale, one_unit.format(locale))
    try:
        in_stripe = stripe_amount(one_unit)
    except RefundRejected:
        assert currency.exponent > 3  # only a four-digit unit (CLF) cannot be sent as one whole unit
        return
    assert in_stripe in (1, 100, 1000)
    assert ISO_MINOR_DIGITS[currency.code] == currency.exponent
