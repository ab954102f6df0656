"""Limits at the door (OWASP API4, unrestricted resource consumption): a bounded request body, read before
anything parses it, and a request rate per API key."""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    """Answers 413 for a body over `max_bytes`. A declared Content-Length is judged at once; a body without
    one (chunked) is read up to the limit first and handed on only if it fits, so no parser ever sees more."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit() or int(length) > self.max_bytes:
                return await self._too_large(send)
            return await self.app(scope, receive, send)
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                return await self._too_large(send)
        return await self.app(scope, _replay(bytes(body), receive), send)

    async def _too_large(self, send: Send) -> None:
        content = json.dumps({"detail": f"request body over {self.max_bytes} bytes"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": content})


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # then whatever comes next: a disconnect
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


class RateLimiter:
    """A token bucket per API key (or per client address, for failed authentications), in this process:
    `per_second` on average, bursts up to `burst`. Several API processes each keep their own buckets, so the
    deployment's limit is theirs added up."""

    MAX_KEYS = 100_000

    def __init__(self, per_second: float, burst: int) -> None:
        self._rate, self._burst = per_second, burst
        # key -> (tokens, when counted), least recently used first: past MAX_KEYS the oldest go, which have had the
        # longest to fill up again anyway. (Clearing them all would hand a flood of made-up keys fresh buckets.)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait_needed(self, key: str, take: bool = True) -> float:
        """0 when the request may go ahead (a token is taken, unless `take` is False); else the seconds until one
        is free."""
        if self._rate <= 0:
            return 0.0
        now = time.monotonic()
        with self._lock:
            tokens, counted = self._buckets.pop(key, (float(self._burst), now))
            tokens = min(float(self._burst), tokens + (now - counted) * self._rate)
            taken = 1 if take and tokens >= 1 else 0
            self._buckets[key] = (tokens - taken, now)
            while len(self._buckets) > self.MAX_KEYS:
                self._buckets.popitem(last=False)
            return 0.0 if tokens >= 1 else (1 - tokens) / self._rate


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
