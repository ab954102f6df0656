"""Sends one signed delivery (Standard Webhooks headers, v1 HMAC-SHA256 by the `standardwebhooks` package)
and reads the receiver's answer. No redirects are followed: a 3xx is a failed attempt, like any non-2xx."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
from standardwebhooks import Webhook

from schemas.webhooks import AttemptResult, DeliveryOutcome

# A receiver cannot push a retry further out than this with Retry-After.
MAX_RETRY_AFTER = timedelta(hours=24)


def signed_headers(event_id: str, body: str, secrets: list[str], now: datetime) -> dict[str, str]:
    """One `v1,<signature>` per secret, space-separated: during a rotation either secret verifies."""
    signatures = " ".join(Webhook(secret).sign(event_id, now, body) for secret in secrets)
    return {"webhook-id": event_id, "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signatures, "content-type": "application/json",
            "user-agent": "service-recovery-webhooks/1"}


def pinned_client(timeout: float) -> httpx.Client:
    """No redirects, no proxy from the environment, and no kept-alive connections: a connection is made to a
    checked address for one endpoint's host, and must not carry another host's request."""
    return httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False,
                        limits=httpx.Limits(max_keepalive_connections=0))


def post(client: httpx.Client, url: str, address: str, headers: dict[str, str],
         body: str) -> tuple[AttemptResult, str | None]:
    """POSTs to `address` (checked by the SSRF guard) as `url`'s host: its Host header, TLS name and certificate.
    Returns the attempt's outcome, and a short error text when it failed before an answer came."""
    target = httpx.URL(url)
    headers = {**headers, "host": target.netloc.decode("ascii")}
    try:
        response = client.post(target.copy_with(host=address), content=body.encode(), headers=headers,
                               extensions={"sni_hostname": target.host})
    except httpx.HTTPError as error:
        return AttemptResult(outcome=DeliveryOutcome.failed), f"{type(error).__name__}: {error}"
    code = response.status_code
    if 200 <= code < 300:
        return AttemptResult(outcome=DeliveryOutcome.delivered, response_code=code), None
    if code == 410:
        return AttemptResult(outcome=DeliveryOutcome.gone, response_code=code), None
    retry_after = _retry_after(response) if code == 429 or code >= 500 else None
    return AttemptResult(outcome=DeliveryOutcome.failed, response_code=code, retry_after=retry_after), None


def _retry_after(response: httpx.Response) -> timedelta | None:
    """Seconds or an HTTP date, capped; anything unreadable is ignored (the schedule decides)."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        wait = timedelta(seconds=int(value))
    else:
        try:
            wait = parsedate_to_datetime(value) - datetime.now(UTC)
        except (TypeError, ValueError):
            return None
    return min(max(wait, timedelta(0)), MAX_RETRY_AFTER)
