"""Deliver one webhook attempt to an integrator's endpoint, and disable an endpoint (telling its owner)."""

from __future__ import annotations

import json
import logging

from temporalio import activity

from providers.messaging import MessageSender
from schemas.webhooks import AttemptRequest, AttemptResult, DeliveryOutcome, DisableRequest, WebhookActivity
from settings import Settings
from store.db import session_for
from store.tables import WebhookEndpointRow, WebhookEventRow, utcnow
from store.webhook_endpoints import disable, record_attempt, record_missed, signing_secrets, was_delivered
from webhooks.destinations import UnsafeDestination, check_resolved
from webhooks.sender import post, signed_headers

log = logging.getLogger(__name__)
REFUSED_SHOWN = "not sent: the URL's host resolves to an address this service does not call"


class WebhookActivities:
    def __init__(self, settings: Settings, owner_email: MessageSender) -> None:
        self._settings = settings
        self._owner_email = owner_email

    @activity.defn(name=WebhookActivity.attempt)
    def attempt_webhook(self, request: AttemptRequest) -> AttemptResult:
        """One POST, recorded. An event this endpoint already took is not sent again (a redelivery is)."""
        with session_for(self._settings.database_url) as session:
            endpoint = session.get(WebhookEndpointRow, request.endpoint_id)
            event = session.get(WebhookEventRow, request.event_id)
            if endpoint is None or endpoint.disabled_at is not None:
                if endpoint is not None:
                    record_missed(session, endpoint.id, request.event_id, request.job_id)
                return AttemptResult(outcome=DeliveryOutcome.endpoint_disabled)
            if not request.redelivery and was_delivered(session, endpoint.id, event.id):
                return AttemptResult(outcome=DeliveryOutcome.delivered)
        result, error = self._send(endpoint, event)
        with session_for(self._settings.database_url) as session:
            record_attempt(session, request, result, error)
        return result

    @activity.defn(name=WebhookActivity.disable_endpoint)
    def disable_webhook_endpoint(self, request: DisableRequest) -> None:
        """Idempotent, and the owner is told at least once: the notice is sent on every try (keyed by when the
        endpoint was disabled, so a provider that takes keys sends it once) until a try gets through."""
        with session_for(self._settings.database_url) as session:
            endpoint = disable(session, request.endpoint_id, request.reason)
        if endpoint is not None:
            self._owner_email.send(f"{endpoint.id}:disabled:{endpoint.disabled_at.isoformat()}", endpoint.owner_email,
                                   f"Webhook endpoint {endpoint.url} disabled", _disabled_notice(endpoint))

    def _send(self, endpoint: WebhookEndpointRow, event: WebhookEventRow) -> tuple[AttemptResult, str | None]:
        settings = self._settings
        try:
            address = check_resolved(endpoint.url, settings.webhook_allowed_hosts,
                                     settings.webhook_allow_private_networks)
        except UnsafeDestination as refused:
            # The detail (an internal address, an internal name) is for the operator's log, not the integrator.
            log.warning("webhook endpoint %s refused: %s", endpoint.id, refused)
            return AttemptResult(outcome=DeliveryOutcome.refused), REFUSED_SHOWN
        now = utcnow()
        body = json.dumps(event.payload, separators=(",", ":"), ensure_ascii=False)
        headers = signed_headers(event.id, body, signing_secrets(endpoint, now), now)
        return post(endpoint.url, address, headers, body, settings.webhook_timeout_seconds)


def _disabled_notice(endpoint: WebhookEndpointRow) -> str:
    return (f"We stopped sending webhooks to {endpoint.url} ({endpoint.id}): {endpoint.disabled_reason}. "
            f"Fix the receiver, then enable it again with PATCH /webhook-endpoints/{endpoint.id} "
            "{\"enabled\": true} and redeliver what it missed.")
