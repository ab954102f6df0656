"""Money as integer minor units plus an ISO 4217 currency: never a float anywhere in the system."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from babel import Locale
from babel.numbers import NumberPattern, format_currency, parse_pattern
from iso4217 import Currency
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from schemas.inputs import WholeNumber

# The number of minor digits is ISO 4217's (the maintained `iso4217` table), never a display library's: CLDR
# (Babel) says HUF has no decimals, ISO 4217 says two, and the difference is a 100x refund. Codes without a minor
# unit (XXX "no currency", XAU gold, XDR, ...) are not money we pay back; withdrawn codes (FIM) are not in the table.
ISO_MINOR_DIGITS: dict[str, int] = {c.code: c.exponent for c in Currency if c.exponent is not None}
MAX_MINOR_UNITS = 10**12  # a trillion cents: far above any refund, low enough to catch unit mistakes


def minor_digits(currency: str) -> int:
    """ISO 4217's minor unit exponent: 2 for EUR and HUF, 0 for JPY and ISK, 3 for KWD, 4 for CLF."""
    return ISO_MINOR_DIGITS[currency]


def _iso_currency(code: str) -> str:
    if code not in ISO_MINOR_DIGITS:
        raise ValueError(f"'{code}' is not an active ISO 4217 currency with a minor unit")
    return code


CurrencyCode = Annotated[
    str, Field(min_length=3, max_length=3, pattern="^[A-Z]{3}$", examples=["EUR"],
               json_schema_extra={"enum": sorted(ISO_MINOR_DIGITS)}),
    AfterValidator(_iso_currency),
]


class Money(BaseModel):
    """An amount in the currency's minor unit (cents for EUR).

    9.95 EUR is `{"amount_minor": 995, "currency": "EUR"}`.
    """

    model_config = ConfigDict(frozen=True)

    amount_minor: WholeNumber = Field(ge=0, le=MAX_MINOR_UNITS, examples=[995])
    currency: CurrencyCode

    def __add__(self, other: Money) -> Money:
        self._require_same_currency(other)
        return Money(amount_minor=self.amount_minor + other.amount_minor, currency=self.currency)

    def minus(self, other: Money) -> int:
        """Signed difference in minor units (Money itself is never negative)."""
        self._require_same_currency(other)
        return self.amount_minor - other.amount_minor

    def as_decimal(self) -> Decimal:
        """The amount in major units with exactly ISO 4217's digits: Decimal('9.95'), Decimal('100.00') for HUF."""
        return Decimal(self.amount_minor).scaleb(-minor_digits(self.currency))

    def format(self, locale: str = "en") -> str:
        """Human wording for messages: 9,95 € in Finnish, €9.95 in English, HUF 100.00 with ISO's two digits.

        Babel formats (symbol, separators, order) but never decides the digits: its pattern is given ISO's."""
        return format_currency(self.as_decimal(), self.currency, format=_pattern(locale, self.currency),
                               locale=locale, currency_digits=False)

    def _require_same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def __str__(self) -> str:
        return f"{self.as_decimal()} {self.currency}"


def _pattern(locale: str, currency: str) -> NumberPattern:
    """The locale's standard currency pattern, with exactly the currency's ISO 4217 number of decimals."""
    pattern = parse_pattern(Locale.parse(locale).currency_formats["standard"].pattern)
    digits = minor_digits(currency)
    pattern.frac_prec = (digits, digits)
    return pattern
