"""Sends one signed delivery (Standard Webhooks headers, v1 HMAC-SHA256 by the `standardwebhooks` package)
and reads the receiver's answer. No redirects are followed: a 3xx is a failed attempt, like any non-2xx."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
from standardwebhooks import Webhook

from schemas.webhooks import AttemptResult, DeliveryOutcome

# A receiver cannot push a retry further out than this with Retry-After.
MAX_RETRY_AFTER = timedelta(hours=24)
_ANSWER_BYTES = 4096  # of a receiver's answer body, at most


def signed_headers(event_id: str, body: str, secrets: list[str], now: datetime) -> dict[str, str]:
    """One `v1,<signature>` per secret, space-separated: during a rotation either secret verifies."""
    signatures = " ".join(Webhook(secret).sign(event_id, now, body) for secret in secrets)
    return {"webhook-id": event_id, "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signatures, "content-type": "application/json",
            "user-agent": "service-recovery-webhooks/1"}


def post(url: str, address: str, headers: dict[str, str], body: str,
         deadline_seconds: float) -> tuple[AttemptResult, str | None]:
    """POSTs to `address` (checked by the SSRF guard) as `url`'s host: its Host header, TLS name and certificate.
    Returns the attempt's outcome, and a short error text when it failed before an answer came.

    The whole attempt (connect, send, the answer's head and the first bytes of its body) has `deadline_seconds`,
    however slowly a receiver drips its answer: httpx's own timeouts are per read. Run on a loop of its own so the
    deadline can cancel it; the activity's thread is back within the deadline."""
    try:
        return asyncio.run(_post_within(url, address, headers, body, deadline_seconds))
    except TimeoutError:
        return AttemptResult(outcome=DeliveryOutcome.failed), f"no complete answer within {deadline_seconds:g} s"


async def _post_within(url: str, address: str, headers: dict[str, str], body: str,
                       deadline_seconds: float) -> tuple[AttemptResult, str | None]:
    target = httpx.URL(url)
    headers = {**headers, "host": target.netloc.decode("ascii")}
    async with asyncio.timeout(deadline_seconds), _pinned_client(deadline_seconds) as client:
        try:
            async with client.stream("POST", target.copy_with(host=address), content=body.encode(), headers=headers,
                                     extensions={"sni_hostname": target.host}) as response:
                await _read_at_most(response, _ANSWER_BYTES)
        except httpx.HTTPError as error:
            return AttemptResult(outcome=DeliveryOutcome.failed), f"{type(error).__name__}: {error}"[:500]
    return _outcome_of(response), None


def _pinned_client(timeout: float) -> httpx.AsyncClient:
    """No redirects, no proxy from the environment, and no kept-alive connections: a connection is made to a
    checked address for one endpoint's host, and must not carry another host's request."""
    return httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False,
                             limits=httpx.Limits(max_keepalive_connections=0))


async def _read_at_most(response: httpx.Response, limit: int) -> None:
    """Nothing of a receiver's body is used: a little is read (so a receiver that answers before reading our
    request is not cut off mid-answer) and the rest left unread, however large."""
    read = 0
    async for chunk in response.aiter_raw():
        read += len(chunk)
        if read >= limit:
            return


def _outcome_of(response: httpx.Response) -> AttemptResult:
    code = response.status_code
    if 200 <= code < 300:
        return AttemptResult(outcome=DeliveryOutcome.delivered, response_code=code)
    if code == 410:
        return AttemptResult(outcome=DeliveryOutcome.gone, response_code=code)
    retry_after = _retry_after(response) if code == 429 or code >= 500 else None
    return AttemptResult(outcome=DeliveryOutcome.failed, response_code=code, retry_after=retry_after)


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
