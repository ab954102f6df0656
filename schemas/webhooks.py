"""Outbound webhooks (Standard Webhooks): the events integrators may subscribe to, their thin versioned payloads,
the endpoint routes' bodies and views, and the inputs of the delivery workflow."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, UrlConstraints

from schemas.inputs import EmailAddress
from schemas.money import Money

PAYLOAD_VERSION = 1
WebhookUrl = Annotated[AnyHttpUrl, UrlConstraints(max_length=2000, allowed_schemes=["http", "https"])]


class EventType(StrEnum):
    case_opened = "case.opened"
    customer_reached = "case.customer_reached"
    awaiting_customer = "case.awaiting_customer"
    refund_paid = "refund.paid"
    refund_failed = "refund.failed"
    compensation_granted = "compensation.granted"
    sla_at_risk = "sla.at_risk"
    sla_breached = "sla.breached"
    escalated = "case.escalated"
    closed = "case.closed"
    cancelled = "case.cancelled"


class EventData(BaseModel):
    """What a receiver learns: ids, state, amounts, times and links. Never a name, number or address: a
    receiver that needs more asks `GET /cases/{id}` with its key."""

    case_id: str
    external_id: str
    kind: str
    status: str
    step: str
    sequence: int = Field(description="1, 2, 3... per case: receivers order a case's events by it.")
    amount: Money | None = None
    outcome: str | None = None
    satisfaction: int | None = None
    links: dict[str, str]


class EventPayload(BaseModel):
    """The body of every delivery, as the Standard Webhooks spec lays it out (`type`, `timestamp`, `data`)."""

    type: EventType
    version: int = PAYLOAD_VERSION
    timestamp: datetime
    data: EventData


class EndpointIn(BaseModel):
    """`POST /webhook-endpoints`. An endpoint hears about the cases of the registering key's tenant, never of
    another tenant (`tenant`, if given, must be the key's own)."""

    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl
    event_types: list[EventType] = Field(min_length=1, max_length=len(EventType))
    description: str = Field(default="", max_length=500)
    owner_email: EmailAddress = Field(description="Told when the endpoint is disabled (410, or retries ran out).")
    tenant: str | None = Field(default=None, max_length=200, description="The key's own tenant; another is refused.")


class EndpointUpdate(BaseModel):
    """`PATCH /webhook-endpoints/{id}`: only what is given changes. `enabled: false` disables."""

    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl | None = None
    event_types: list[EventType] | None = Field(default=None, min_length=1, max_length=len(EventType))
    description: str | None = Field(default=None, max_length=500)
    owner_email: EmailAddress | None = None
    enabled: bool | None = None


class EndpointView(BaseModel):
    id: str
    tenant: str | None
    url: str
    event_types: list[EventType]
    description: str
    owner_email: str | None
    enabled: bool
    disabled_reason: str | None
    created_at: datetime


class EndpointWithSecret(EndpointView):
    """Shown when the endpoint is made and when its secret is rotated: verify deliveries with `secret`."""

    secret: str = Field(examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])
    previous_secret_valid_until: datetime | None = Field(
        default=None, description="After a rotation, deliveries carry signatures by both secrets until then.")


class DeliveryOutcome(StrEnum):
    delivered = "delivered"  # a 2xx
    failed = "failed"  # anything else, retried on the schedule
    gone = "gone"  # 410: the receiver asks us to stop; the endpoint is disabled
    refused = "refused"  # the URL points where we may not send (SSRF guard); not sent
    endpoint_disabled = "endpoint_disabled"  # disabled meanwhile: not sent


class DeliveryView(BaseModel):
    """One attempt to deliver one event to one endpoint."""

    event_id: str = Field(description="The `webhook-id` header: the same on every attempt of this event.")
    event_type: EventType
    case_id: str
    attempt: int
    redelivery: bool
    outcome: DeliveryOutcome
    response_code: int | None
    error: str | None
    at: datetime


class RedeliveryAccepted(BaseModel):
    event_id: str
    endpoint_id: str


# -- the delivery workflow's inputs -------------------------------------------------------------------


class WebhookActivity(StrEnum):
    attempt = "attempt_webhook"
    disable_endpoint = "disable_webhook_endpoint"


class WebhookJob(BaseModel):
    """One event to deliver. `job_id` is the event id, or a fresh id when someone asked for a redelivery."""

    job_id: str
    event_id: str
    redelivery: bool = False


class WebhookStream(BaseModel):
    """One endpoint's events about one case: delivered one after another, in the case's order."""

    endpoint_id: str
    case_id: str
    schedule: list[timedelta] = Field(description="Waits between attempts; its length is the retries allowed.")
    queued: list[WebhookJob] = Field(default=[], description="Carried over when the stream continues as new.")
    history_limit: int = Field(default=2000, description="Events of history after which the stream continues as "
                               "new (sooner if Temporal suggests it), so redeliveries cannot grow it without end.")


class AttemptRequest(BaseModel):
    endpoint_id: str
    event_id: str
    job_id: str
    attempt: int
    redelivery: bool


class AttemptResult(BaseModel):
    outcome: DeliveryOutcome
    response_code: int | None = None
    retry_after: timedelta | None = Field(default=None, description="The receiver's Retry-After on 429/5xx.")


class DisableRequest(BaseModel):
    endpoint_id: str
    reason: str
