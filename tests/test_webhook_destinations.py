"""The SSRF guard of outbound webhooks: only http(s), only allowed hosts, never inside the network by default,
judged by the addresses a name resolves to as well as by the name."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import threading
import time

import pytest

from schemas.webhooks import DeliveryOutcome
from tests.harness import Stack
from tests.webhook_receiver import WebhookReceiver
from webhooks.destinations import UnsafeDestination, check_resolved, check_url
from webhooks.sender import post

INSIDE = ["http://127.0.0.1:9/h", "http://localhost/h", "http://api.localhost/h", "http://10.0.0.5/h",
          "http://192.168.1.1/h", "http://169.254.169.254/latest/meta-data", "http://[::1]/h",
          "http://[::ffff:127.0.0.1]/h", "http://100.64.0.1/h", "http://0.0.0.0/h",
          # IPv6 forms that lead to an IPv4 address inside, and IPv6's own old internal range:
          "http://[64:ff9b::a00:5]/h", "http://[64:ff9b:1::a9fe:a9fe]/h", "http://[2002:7f00:1::1]/h",
          "http://[::7f00:1]/h", "http://[::ffff:0:7f00:1]/h", "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/h",
          "http://[fec0::1]/h"]


@pytest.mark.parametrize("url", INSIDE)
def test_addresses_inside_the_network_are_refused(url: str):
    with pytest.raises(UnsafeDestination):
        check_url(url, ["*"], allow_private=False)
    assert check_url(url, ["*"], allow_private=True)  # the development setting lets them through


def test_a_name_is_judged_by_what_it_resolves_to():
    # This machine's own name resolves to a loopback address (/etc/hosts), though the name looks harmless.
    name = socket.gethostname()
    check_url(f"http://{name}/h", ["*"], allow_private=False)
    with pytest.raises(UnsafeDestination, match="not a public address"):
        check_resolved(f"http://{name}/h", ["*"], allow_private=False)


def test_only_http_and_allowed_hosts():
    with pytest.raises(UnsafeDestination, match="http"):
        check_url("ftp://hooks.example.com/h", ["*"], allow_private=False)
    with pytest.raises(UnsafeDestination, match="not among"):
        check_url("https://evil.example.net/h", ["*.example.com"], allow_private=False)
    assert check_url("https://hooks.example.com/h", ["*.example.com"], allow_private=False) == "hooks.example.com"
    assert check_url("https://93.184.216.34/h", ["*"], allow_private=False) == "93.184.216.34"
    assert check_url("https://[64:ff9b::5db8:d822]/h", ["*"], allow_private=False)  # NAT64 of a public address
    assert check_url("https://[2606:4700::1111]/h", ["*"], allow_private=False)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/h", "http://169.254.169.254/latest/meta-data"])
async def test_registering_an_endpoint_inside_the_network_is_a_422_naming_the_url(stack: Stack, url: str):
    response = await stack.api.post("/webhook-endpoints", json={
        "url": url, "event_types": ["case.opened"], "owner_email": "ops@example.com"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "url"]


def test_a_delivery_connects_to_the_checked_address_not_to_a_second_look_up():
    """`hooks.invalid` resolves nowhere: the POST reaches the receiver only because it goes to the address the
    guard checked, carrying the endpoint's name as its Host."""
    with WebhookReceiver() as receiver:
        url = f"http://hooks.invalid:{receiver.server_port}/hooks"
        result, error = post(url, "127.0.0.1", {"webhook-id": "msg_1"}, "{}", 5)
    assert (result.outcome, error) == (DeliveryOutcome.delivered, None)
    assert receiver.deliveries[0].headers["host"] == f"hooks.invalid:{receiver.server_port}"


def test_the_checked_address_is_what_the_name_resolves_to():
    name = socket.gethostname()
    assert ipaddress.ip_address(check_resolved(f"http://{name}:8080/h", ["*"], allow_private=True)).is_loopback


class _RawReceiver:
    """A receiver misbehaving below HTTP: `answer(connection)` writes whatever it likes after the request."""

    def __init__(self, answer) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.sent = 0
        self._answer = answer
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        connection, _ = self._socket.accept()
        connection.recv(65536)
        with contextlib.suppress(OSError):
            self._answer(self, connection)
        connection.close()

    def write(self, connection: socket.socket, data: bytes) -> None:
        connection.sendall(data)
        self.sent += len(data)


def _drip(receiver: _RawReceiver, connection: socket.socket) -> None:
    receiver.write(connection, b"HTTP/1.1 200 OK\r\n")
    for _ in range(600):  # a header byte every 0.2 s: each read is quick, the answer never ends
        receiver.write(connection, b"X")
        time.sleep(0.2)


def _flood(receiver: _RawReceiver, connection: socket.socket) -> None:
    receiver.write(connection, b"HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n")
    chunk = b"0" * 65536
    while receiver.sent < 10_000_000_000:
        receiver.write(connection, chunk)


async def test_a_receiver_dripping_its_answer_cannot_hold_an_attempt_past_its_deadline():
    receiver = _RawReceiver(_drip)
    url = f"http://hooks.example.com:{receiver.port}/hooks"
    result, error = await asyncio.wait_for(asyncio.to_thread(post, url, "127.0.0.1", {}, "{}", 1.0), timeout=20)
    assert result.outcome is DeliveryOutcome.failed and error == "no complete answer within 1 s"


async def test_a_huge_answer_is_not_read():
    receiver = _RawReceiver(_flood)
    url = f"http://hooks.example.com:{receiver.port}/hooks"
    result, error = await asyncio.wait_for(asyncio.to_thread(post, url, "127.0.0.1", {}, "{}", 10.0), timeout=20)
    assert (result.outcome, error) == (DeliveryOutcome.delivered, None)
    assert receiver.sent < 100_000_000, "the body was left unread, not taken whole into memory"


def test_a_name_look_up_that_hangs_is_bounded(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: time.sleep(3))
    with pytest.raises(UnsafeDestination, match="did not resolve within 0.5 s"):
        check_resolved("http://hooks.example.com/h", ["*"], allow_private=False, within=0.5)
