"""A till's charge record, in which the engine itself detects over- and undercharges."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from schemas.incidents import Customer, ExternalId, ShortText
from schemas.inputs import WholeNumber
from schemas.money import MAX_MINOR_UNITS, CurrencyCode, Money


class TransactionLine(BaseModel):
    product: ShortText
    unit_price_minor: WholeNumber = Field(ge=0, le=MAX_MINOR_UNITS)
    quantity: WholeNumber = Field(ge=1, le=10_000)


class TransactionRecord(BaseModel):
    """`POST /transactions` body: what was sold, and what was actually charged."""

    store: ShortText
    transaction_id: ExternalId
    currency: CurrencyCode
    lines: list[TransactionLine] = Field(min_length=1, max_length=1000)
    charged_minor: WholeNumber = Field(ge=0, le=MAX_MINOR_UNITS, description="The total actually charged.")
    customer: Customer | None = Field(default=None, description="The customer's contact, if the till knows it.")
    sold_at: AwareDatetime | None = Field(default=None, description="When the sale was made (a major incident's "
                                          "window is read on it; without it, on when the record was received).")

    @model_validator(mode="after")
    def _total_is_representable(self) -> TransactionRecord:
        if self._lines_total() > MAX_MINOR_UNITS:
            raise ValueError("the lines add up to more than the largest amount accepted")
        return self

    def correct_total(self) -> Money:
        return Money(amount_minor=self._lines_total(), currency=self.currency)

    def _lines_total(self) -> int:
        return sum(line.unit_price_minor * line.quantity for line in self.lines)

    def charged(self) -> Money:
        return Money(amount_minor=self.charged_minor, currency=self.currency)
