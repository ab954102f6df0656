"""Webhook endpoints: an integrator registers where to hear about the cases it opened, and sees and manages only
the endpoints it registered; a tenant's admin manages every endpoint of the tenant (staff tools' hear all its
cases).

Deliveries follow the Standard Webhooks spec (see README, "Webhooks"); this router manages the endpoints, shows
their recent attempts, and queues redeliveries.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.exceptions import RequestValidationError
from sqlmodel import Session
from temporalio.service import RPCError

from api.auth import require
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.errors import Problem
from schemas.auth import Principal, Scope
from schemas.webhooks import (
    DeliveryView,
    EndpointIn,
    EndpointUpdate,
    EndpointView,
    EndpointWithSecret,
    RedeliveryAccepted,
    WebhookJob,
    WebhookStream,
)
from settings import Settings
from store import webhook_endpoints as endpoints
from store.tables import WebhookEndpointRow, WebhookEventRow, utcnow
from webhooks.destinations import UnsafeDestination, check_url
from webhooks.relay import hand_over

router = APIRouter(prefix="/webhook-endpoints", tags=["webhooks"],
                   responses={404: {"model": Problem, "description": "No such endpoint, or not this key's."}})
# One redelivery of an event per endpoint in this window: asking again inside it queues nothing more (the stream
# drops a job id it has seen), so a loop calling redeliver cannot grow the stream without end.
REDELIVERY_WINDOW_SECONDS = 60


async def _manager(principal: Annotated[Principal, Depends(require(Scope.webhooks_manage))]) -> Principal:
    """An integrator manages the endpoints it registered; a person acts on every endpoint of the tenant, so must be
    an admin."""
    if not principal.sees_only_own_cases and not principal.may(Scope.admin):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only an admin manages the tenant's webhook endpoints")
    return principal


ManagerDep = Annotated[Principal, Depends(_manager)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=EndpointWithSecret)
def register(spec: EndpointIn, session: SessionDep, settings: SettingsDep, manager: ManagerDep) -> EndpointWithSecret:
    """Registers an endpoint and returns its signing secret (`whsec_...`), shown only here and on rotation."""
    _check_destination(str(spec.url), settings)
    if spec.tenant not in (None, manager.tenant):  # every endpoint hears its own tenant's cases, never another's
        raise HTTPException(status.HTTP_403_FORBIDDEN, "endpoints are registered for the key's own tenant only")
    return endpoints.view_with_secret(endpoints.create_endpoint(session, spec, manager.tenant, manager.id,
                                                                _integrator_of(manager)))


@router.get("", response_model=list[EndpointView])
def list_endpoints(session: SessionDep, manager: ManagerDep) -> list[EndpointView]:
    return [endpoints.view_of(row)
            for row in endpoints.endpoints_of(session, manager.tenant, _integrator_of(manager))]


@router.get("/{endpoint_id}", response_model=EndpointView)
def get_endpoint(endpoint_id: str, session: SessionDep, manager: ManagerDep) -> EndpointView:
    return endpoints.view_of(_visible(session, endpoint_id, manager))


@router.patch("/{endpoint_id}", response_model=EndpointView)
def update(endpoint_id: str, change: EndpointUpdate, session: SessionDep, settings: SettingsDep,
           manager: ManagerDep) -> EndpointView:
    """Changes what is given. `{"enabled": false}` disables the endpoint; `true` enables it again."""
    row = _visible(session, endpoint_id, manager)
    if change.url is not None:
        _check_destination(str(change.url), settings)
        row.url = str(change.url)
    if change.event_types is not None:
        row.event_types = sorted(change.event_types)
    if change.description is not None:
        row.description = change.description
    if change.owner_email is not None:
        row.owner_email = change.owner_email
    if change.enabled is not None:
        row.disabled_at = None if change.enabled else (row.disabled_at or utcnow())
        row.disabled_reason = None if change.enabled else f"disabled by {manager.id}"
    session.add(row)
    session.commit()
    return endpoints.view_of(row)


@router.post("/{endpoint_id}/rotate-secret", response_model=EndpointWithSecret)
def rotate_secret(endpoint_id: str, session: SessionDep, manager: ManagerDep) -> EndpointWithSecret:
    """A new secret at once; the old one keeps signing beside it for 24 hours, so receivers can switch."""
    return endpoints.view_with_secret(endpoints.rotate_secret(session, _visible(session, endpoint_id, manager)))


@router.get("/{endpoint_id}/deliveries", response_model=list[DeliveryView])
def deliveries(endpoint_id: str, session: SessionDep, manager: ManagerDep,
               limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[DeliveryView]:
    """The endpoint's latest attempts, newest first: outcome, response code, error."""
    return endpoints.recent_attempts(session, _visible(session, endpoint_id, manager).id, limit)


@router.post("/{endpoint_id}/deliveries/{event_id}/redeliver", status_code=status.HTTP_202_ACCEPTED,
             response_model=RedeliveryAccepted,
             responses={409: {"model": Problem, "description": "The endpoint is disabled: enable it first."},
                        503: {"model": Problem, "description": "Temporal is unreachable: ask again shortly."}})
async def redeliver(endpoint_id: str, event_id: str, session: SessionDep, settings: SettingsDep,
                    temporal: TemporalDep, manager: ManagerDep) -> RedeliveryAccepted:
    """Sends the event again (same `webhook-id`), after the case's events already queued for this endpoint. Asked
    again within a minute, it is sent once."""
    row = _visible(session, endpoint_id, manager)
    event = session.get(WebhookEventRow, event_id)
    if event is None or not row.covers(event):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no event {event_id} for this endpoint")
    if row.disabled_at is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "the endpoint is disabled: enable it first")
    stream = WebhookStream(endpoint_id=row.id, case_id=event.case_id, schedule=settings.webhook_retry_schedule)
    window = int(utcnow().timestamp()) // REDELIVERY_WINDOW_SECONDS
    job = WebhookJob(job_id=f"{event.id}:redelivery:{window}", event_id=event.id, redelivery=True)
    try:
        async with asyncio.timeout(settings.intake_start_timeout):
            await hand_over(temporal, settings, stream, job)
    except (RPCError, RuntimeError, TimeoutError) as error:  # RuntimeError: a lazy client that cannot connect
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "Temporal is unreachable: ask again") from error
    return RedeliveryAccepted(event_id=event.id, endpoint_id=row.id)


def _integrator_of(principal: Principal) -> str | None:
    return principal.id if principal.sees_only_own_cases else None


def _visible(session: Session, endpoint_id: str, principal: Principal) -> WebhookEndpointRow:
    """The tenant's endpoint; for an integrator, only one it registered (another's is as good as absent)."""
    row = session.get(WebhookEndpointRow, endpoint_id)
    integrator = _integrator_of(principal)
    if row is None or row.tenant != principal.tenant or integrator not in (None, row.integrator):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no webhook endpoint {endpoint_id}")
    return row


def _check_destination(url: str, settings: Settings) -> None:
    try:
        check_url(url, settings.webhook_allowed_hosts, settings.webhook_allow_private_networks)
    except UnsafeDestination as refused:
        raise RequestValidationError([{"loc": ("body", "url"), "msg": str(refused), "type": "value_error"}]) from None
