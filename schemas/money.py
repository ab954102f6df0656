"""Money as integer minor units plus an ISO 4217 currency: never a float anywhere in the system."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from babel.numbers import format_currency, get_currency_precision, list_currencies
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt

_KNOWN_CURRENCIES = frozenset(list_currencies())
MAX_MINOR_UNITS = 10**12  # a trillion cents: far above any refund, low enough to catch unit mistakes


def _iso_currency(code: str) -> str:
    if code not in _KNOWN_CURRENCIES:
        raise ValueError(f"'{code}' is not an ISO 4217 currency code")
    return code


CurrencyCode = Annotated[
    str, Field(min_length=3, max_length=3, pattern="^[A-Z]{3}$", examples=["EUR"]),
    AfterValidator(_iso_currency),
]


class Money(BaseModel):
    """An amount in the currency's minor unit (cents for EUR).

    9.95 EUR is `{"amount_minor": 995, "currency": "EUR"}`.
    """

    model_config = ConfigDict(frozen=True)

    amount_minor: StrictInt = Field(ge=0, le=MAX_MINOR_UNITS, examples=[995])
    currency: CurrencyCode

    def __add__(self, other: Money) -> Money:
        self._require_same_currency(other)
        return Money(amount_minor=self.amount_minor + other.amount_minor, currency=self.currency)

    def minus(self, other: Money) -> int:
        """Signed difference in minor units (Money itself is never negative)."""
        self._require_same_currency(other)
        return self.amount_minor - other.amount_minor

    def as_decimal(self) -> Decimal:
        return Decimal(self.amount_minor).scaleb(-get_currency_precision(self.currency))

    def format(self, locale: str = "en") -> str:
        """Human wording for messages: 9,95 € in Finnish, €9.95 in English."""
        return format_currency(self.as_decimal(), self.currency, locale=locale)

    def _require_same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def __str__(self) -> str:
        return f"{self.as_decimal()} {self.currency}"
