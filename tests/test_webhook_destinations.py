"""The SSRF guard of outbound webhooks: only http(s), only allowed hosts, never inside the network by default,
judged by the addresses a name resolves to as well as by the name."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from schemas.webhooks import DeliveryOutcome
from tests.harness import Stack
from tests.webhook_receiver import WebhookReceiver
from webhooks.destinations import UnsafeDestination, check_resolved, check_url
from webhooks.sender import pinned_client, post

INSIDE = ["http://127.0.0.1:9/h", "http://localhost/h", "http://api.localhost/h", "http://10.0.0.5/h",
          "http://192.168.1.1/h", "http://169.254.169.254/latest/meta-data", "http://[::1]/h",
          "http://[::ffff:127.0.0.1]/h", "http://100.64.0.1/h", "http://0.0.0.0/h"]


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
        result, error = post(pinned_client(5), url, "127.0.0.1", {"webhook-id": "msg_1"}, "{}")
    assert (result.outcome, error) == (DeliveryOutcome.delivered, None)
    assert receiver.deliveries[0].headers["host"] == f"hooks.invalid:{receiver.server_port}"


def test_the_checked_address_is_what_the_name_resolves_to():
    name = socket.gethostname()
    assert ipaddress.ip_address(check_resolved(f"http://{name}:8080/h", ["*"], allow_private=True)).is_loopback
