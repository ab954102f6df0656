"""A local stand-in for a form-posting or searched JSON API (Twilio's, Stripe's, a CRM's), served over real HTTP
for the official SDKs and our adapters to talk to. Subclasses decide the answer; every request is kept for the test
to inspect."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar
from urllib.parse import parse_qsl


@dataclass(frozen=True)
class Received:
    path: str
    form: dict[str, str]
    headers: dict[str, str]


class FormApiStandIn(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: list[Received] = []
        self.fail_with: tuple[int, dict] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"

    def answer(self, request: Received) -> tuple[int, dict]:
        """The status and JSON body for `request`."""
        raise NotImplementedError


class _Handler(BaseHTTPRequestHandler):
    server: FormApiStandIn

    def do_POST(self) -> None:
        form = dict(parse_qsl(self.rfile.read(int(self.headers["Content-Length"])).decode()))
        self._answer(Received(self.path, form, dict(self.headers)))

    def do_GET(self) -> None:
        """A search (a CRM's): the query string is the form."""
        path, _, query = self.path.partition("?")
        self._answer(Received(path, dict(parse_qsl(query)), dict(self.headers)))

    def _answer(self, request: Received) -> None:
        self.server.received.append(request)
        status, payload = self.server.answer(request)
        answer = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args) -> None:
        """Quiet: pytest shows the assertions, not an access log."""


Server = TypeVar("Server", bound=FormApiStandIn)


@contextmanager
def serving(server: Server) -> Iterator[Server]:
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
