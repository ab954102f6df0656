"""What the client sends and reads. Only the fields an integrator needs are named; answers keep any others
(`extra="allow"`), so a newer server never breaks an older client. The full contract is the server's OpenAPI
document at /docs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


class Money(BaseModel):
    """Integer minor units (cents) and an ISO 4217 code: 9.95 EUR is `Money(amount_minor=995, currency="EUR")`."""

    amount_minor: int
    currency: str


class Customer(BaseModel):
    name: str
    phone: str | None = Field(default=None, description="As you store it, e.g. '040 123 4567'.")
    email: str | None = None
    language: Literal["fi", "sv", "en"] = "fi"


class Incident(BaseModel):
    """`external_id` is yours: sending the same one again returns the same case."""

    external_id: str
    # Text, not a closed list: a kind added to the server (docs/adding-a-workflow.md) is sent without a new client;
    # the server refuses an unknown one with a 422 naming `kind`.
    kind: str = Field(description="The incident's kind, e.g. 'overcharge' or 'stock_shortfall' (see /docs).")
    source: Literal["till", "web_shop", "contact_centre", "feedback_form", "social_media"]
    customer: Customer
    amount: Money | None = None
    store: str | None = None
    transaction_ref: str | None = None
    description: str | None = None
    topic: str | None = None
    details: dict[str, Any] | None = Field(default=None, description="What the kind declares besides the fields "
                                           "above, e.g. {'product': '...'} for a stock_shortfall (see /docs).")


class SaleLine(BaseModel):
    product: str
    unit_price_minor: int
    quantity: int = 1


class TillRecord(BaseModel):
    """A sale as the till recorded it; the engine finds over- and undercharges in it itself."""

    store: str
    transaction_id: str
    currency: str
    lines: list[SaleLine]
    charged_minor: int
    customer: Customer | None = None


class OpenedCase(_Answer):
    case_id: str
    created: bool


class TransactionVerdict(_Answer):
    finding: str
    difference: Money
    case: OpenedCase | None


class Refund(_Answer):
    amount: Money
    destination: str
    status: str


class Case(_Answer):
    id: str
    external_id: str
    kind: str
    status: str
    step: str
    outcome: str | None
    amount: Money | None
    refunds: list[Refund] = []
    satisfaction: int | None = None


class TimelineEntry(_Answer):
    at: datetime
    step: str
    note: str


class WebhookEndpoint(_Answer):
    id: str
    url: str
    event_types: list[str]
    enabled: bool
    secret: str | None = Field(default=None, description="Only when registered or rotated: keep it to verify.")


class WebhookEvent(_Answer):
    """A delivery's body: `type` such as `refund.paid`, and `data` with the case's id, status and amounts."""

    type: str
    version: int
    timestamp: datetime
    data: dict
