"""Headers on every console page and form answer (not the static files): pages carry customer data, so no cache
keeps them (a shared computer's back button, a proxy); and no other site may frame them (clickjacking a Reveal
or an Approve button)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console.session import PATH

HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY",
           "Content-Security-Policy": "frame-ancestors 'none'"}


class ConsoleHeaders:
    """A plain ASGI middleware: the API's own routes pass through untouched (nothing buffered, streams stay)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == PATH or path.startswith(f"{PATH}/")) or path.startswith(f"{PATH}/static/"):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)
