"""Integrators' webhook endpoints, their secrets, and the record of every delivery attempt."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from schemas.webhooks import (
    AttemptRequest,
    AttemptResult,
    DeliveryOutcome,
    DeliveryView,
    EndpointIn,
    EndpointView,
    EndpointWithSecret,
)
from store.tables import WebhookAttemptRow, WebhookEndpointRow, WebhookEventRow, utcnow

# After a rotation the old secret still signs for a day, so receivers can roll their configuration over.
ROTATION_GRACE = timedelta(hours=24)


def new_secret() -> str:
    """`whsec_` and 32 random bytes in base64, the form the `standardwebhooks` libraries take."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def create_endpoint(session: Session, spec: EndpointIn, tenant: str | None, created_by: str,
                    integrator: str | None = None) -> WebhookEndpointRow:
    """`integrator`: the integrator registering it, whose cases alone it hears; None for a staff tool's."""
    row = WebhookEndpointRow(id=f"ep_{secrets.token_hex(12)}", tenant=tenant, integrator=integrator, url=str(spec.url),
                             event_types=sorted(spec.event_types), description=spec.description,
                             owner_email=spec.owner_email, secret=new_secret(), created_by=created_by)
    session.add(row)
    session.commit()
    return row


def endpoints_of(session: Session, tenant: str | None, integrator: str | None = None) -> list[WebhookEndpointRow]:
    """A tenant's endpoints (`integrator`: only those it registered); `None`: every endpoint (the relay)."""
    query = select(WebhookEndpointRow).order_by(col(WebhookEndpointRow.created_at))
    if tenant is not None:
        query = query.where(WebhookEndpointRow.tenant == tenant)
    if integrator is not None:
        query = query.where(WebhookEndpointRow.integrator == integrator)
    return list(session.exec(query).all())


def rotate_secret(session: Session, row: WebhookEndpointRow) -> WebhookEndpointRow:
    row.previous_secret, row.previous_secret_until = row.secret, utcnow() + ROTATION_GRACE
    row.secret = new_secret()
    session.add(row)
    session.commit()
    return row


def signing_secrets(row: WebhookEndpointRow, now: datetime) -> list[str]:
    """The current secret, and the previous one during its grace period (a signature by each)."""
    keep_previous = row.previous_secret and row.previous_secret_until and row.previous_secret_until > now
    return [row.secret, row.previous_secret] if keep_previous else [row.secret]


def disable(session: Session, endpoint_id: str, reason: str) -> WebhookEndpointRow | None:
    """Disables the endpoint (once: a retry finds it disabled and returns it as it is, so the owner's notice, keyed
    by when it was disabled, is sent again until it goes out); None when there is no such endpoint."""
    row = session.get(WebhookEndpointRow, endpoint_id)
    if row is None or row.disabled_at is not None:
        return row
    row.disabled_at, row.disabled_reason = utcnow(), reason[:500]
    session.add(row)
    session.commit()
    return row


def record_attempt(session: Session, request: AttemptRequest, result: AttemptResult, error: str | None) -> None:
    session.add(WebhookAttemptRow(
        attempt_key=f"{request.endpoint_id}:{request.job_id}:{request.attempt}", endpoint_id=request.endpoint_id,
        event_id=request.event_id, attempt=request.attempt, redelivery=request.redelivery, outcome=result.outcome,
        response_code=result.response_code, error=error[:500] if error else None))
    try:
        session.commit()
    except IntegrityError:  # a retried activity: the first record of this attempt stands
        session.rollback()


def record_missed(session: Session, endpoint_id: str, event_id: str, job_id: str | None = None) -> None:
    """An event not sent because the endpoint is disabled (attempt 0): shown in its deliveries, to redeliver."""
    request = AttemptRequest(endpoint_id=endpoint_id, event_id=event_id, job_id=job_id or event_id, attempt=0,
                             redelivery=False)
    record_attempt(session, request, AttemptResult(outcome=DeliveryOutcome.endpoint_disabled),
                   "not sent: the endpoint was disabled; redeliver it once enabled")


def was_delivered(session: Session, endpoint_id: str, event_id: str) -> bool:
    return session.exec(select(WebhookAttemptRow.id).where(
        WebhookAttemptRow.endpoint_id == endpoint_id, WebhookAttemptRow.event_id == event_id,
        WebhookAttemptRow.outcome == "delivered")).first() is not None


def recent_attempts(session: Session, endpoint_id: str, limit: int) -> list[DeliveryView]:
    rows = session.exec(select(WebhookAttemptRow, WebhookEventRow)
                        .join(WebhookEventRow, col(WebhookEventRow.id) == col(WebhookAttemptRow.event_id))
                        .where(WebhookAttemptRow.endpoint_id == endpoint_id)
                        .order_by(col(WebhookAttemptRow.id).desc()).limit(limit)).all()
    return [DeliveryView(event_id=attempt.event_id, event_type=event.type, case_id=event.case_id,
                         attempt=attempt.attempt, redelivery=attempt.redelivery, outcome=attempt.outcome,
                         response_code=attempt.response_code, error=attempt.error, at=attempt.at)
            for attempt, event in rows]


def view_of(row: WebhookEndpointRow) -> EndpointView:
    return EndpointView(id=row.id, tenant=row.tenant, url=row.url, event_types=row.event_types,
                        description=row.description, owner_email=row.owner_email, enabled=row.disabled_at is None,
                        disabled_reason=row.disabled_reason, created_at=row.created_at)


def view_with_secret(row: WebhookEndpointRow) -> EndpointWithSecret:
    return EndpointWithSecret(**view_of(row).model_dump(), secret=row.secret,
                              previous_secret_valid_until=row.previous_secret_until)
