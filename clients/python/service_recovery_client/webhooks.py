"""Verifying a delivery from the engine: the Standard Webhooks signature over `id.timestamp.body`, checked with
the endpoint's `whsec_...` secret by the `standardwebhooks` package (which also refuses stale timestamps).
Deduplicate on `event.webhook_id`: a delivery can arrive more than once."""

from __future__ import annotations

from collections.abc import Mapping

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from service_recovery_client.models import WebhookEvent

__all__ = ["WebhookVerificationError", "verify_webhook"]


def verify_webhook(secret: str, body: bytes | str, headers: Mapping[str, str]) -> WebhookEvent:
    """The event, if the signature holds; WebhookVerificationError otherwise. Pass the raw body, unparsed."""
    return WebhookEvent.model_validate(Webhook(secret).verify(body, dict(headers)))
