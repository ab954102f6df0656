"""A real HTTP receiver on localhost for outbound webhooks: it keeps every request and answers from a script
(a list of status codes, the last one repeated), as an integrator's endpoint would."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]
    body: bytes
    arrived_at: float = field(default_factory=time.time)

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    def verified(self, secret: str) -> dict:
        """The payload, once the `standardwebhooks` package has checked its signature with `secret`."""
        return Webhook(secret).verify(self.body, self.headers)


class WebhookReceiver(ThreadingHTTPServer):
    def __init__(self, answers: list[int] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers = list(answers or [200])
        self.answer_headers = headers or {}
        self.deliveries: list[Delivery] = []
        self.arrived = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/hooks"

    def next_answer(self) -> int:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def __enter__(self) -> WebhookReceiver:
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: WebhookReceiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.deliveries.append(Delivery({k.lower(): v for k, v in self.headers.items()}, body))
        self.server.arrived.set()
        status = self.server.next_answer()
        self.send_response(status)
        for name, value in self.server.answer_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args) -> None:
        """Quiet: pytest shows the assertions, not an access log."""
