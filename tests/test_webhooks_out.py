"""Outbound webhooks (issue 13, item 1): an integrator registers a real HTTP receiver on localhost and hears
about its cases, signed per Standard Webhooks and verified here with the `standardwebhooks` package.

On the dev server in real time, with the retry schedule and the case's delays compressed to seconds.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.webhooks import REFUSED_SHOWN, WebhookActivities
from api.app import create_app
from schemas.auth import PrincipalKind, Scope
from schemas.progress import CaseOutcome
from schemas.webhooks import DisableRequest
from settings import Settings
from store.tables import SandboxOutboxEntry, WebhookAttemptRow, WebhookEndpointRow, WebhookEventRow
from temporal_client import data_converter
from tests import harness
from tests.harness import TENANT, Stack, eventually, start_worker, stop
from tests.scenarios.test_s1_till_overcharge import PHONE, till_record
from tests.scenarios.test_s3_s4_complaints import complaint
from tests.test_exactly_once import RefusingPayments
from tests.test_faults import address_of, free_port, short_policy
from tests.webhook_receiver import WebhookReceiver
from worker import Providers, sandbox_providers

OWNER = "integrations@till.example"
S1_EVENTS = ["case.opened", "case.customer_reached", "refund.paid", "case.closed"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Receivers on localhost are allowed (a test setting); retries come after a tenth of a second."""
    settings = short_policy(harness.test_settings(tmp_path), reply_timeout=timedelta(minutes=5))
    return settings.model_copy(update={"webhook_allow_private_networks": True,
                                       "webhook_retry_schedule": [timedelta(milliseconds=100)] * 4})


def integrator(stack: Stack, name: str = "till-01", tenant: str = TENANT) -> dict[str, str]:
    return stack.key(name, Scope.incidents_write, Scope.cases_read, Scope.webhooks_manage,
                     kind=PrincipalKind.integrator, tenant=tenant)


async def register(stack: Stack, key: dict[str, str], url: str, events: list[str]) -> dict:
    response = await stack.api.post("/webhook-endpoints", headers=key,
                                    json={"url": url, "event_types": events, "owner_email": OWNER})
    assert response.status_code == 201, response.text
    return response.json()


async def open_complaint(stack: Stack, key: dict[str, str], external_id: str) -> str:
    response = await stack.api.post("/incidents", headers=key, json={
        "external_id": external_id, "kind": "complaint", "source": "feedback_form", "topic": "rude clerk",
        "customer": {"name": "Maija Meikäläinen", "email": "maija@example.com"}})
    assert response.status_code == 201, response.text
    return response.json()["case_id"]


async def test_an_s1_case_reaches_the_integrator_as_signed_events_in_order_each_once(live_stack: Stack):
    stack = live_stack
    till = integrator(stack)
    with WebhookReceiver() as receiver:
        endpoint = await register(stack, till, receiver.url, S1_EVENTS)
        assert endpoint["secret"].startswith("whsec_") and endpoint["tenant"] == TENANT

        verdict = (await stack.api.post("/transactions", headers=till, json=till_record("T-WH-1"))).json()
        case_id = verdict["case"]["case_id"]
        await eventually(lambda: stack.texts_to(PHONE))
        await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": "1"})
        await eventually(lambda: stack.texts_to(PHONE)[2:])  # thanked, then asked for a score
        await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": "5"})
        assert await stack.env.client.get_workflow_handle(case_id).result() == CaseOutcome.recovered

        await eventually(lambda: len(receiver.deliveries) >= 4)
        await asyncio.sleep(1)  # anything extra (a duplicate, an unsubscribed type) would arrive meanwhile
        payloads = [delivery.verified(endpoint["secret"]) for delivery in receiver.deliveries]

    assert [payload["type"] for payload in payloads] == S1_EVENTS
    assert len({delivery.webhook_id for delivery in receiver.deliveries}) == 4, "each webhook-id once"
    sequences = [payload["data"]["sequence"] for payload in payloads]
    assert sequences == sorted(sequences) and sequences[0] == 1
    assert all(payload["data"]["case_id"] == case_id and payload["version"] == 1 for payload in payloads)
    refund, closed = payloads[2]["data"], payloads[3]["data"]
    assert refund["amount"] == {"amount_minor": 995, "currency": "EUR"}
    assert (closed["status"], closed["outcome"], closed["satisfaction"]) == ("closed", "recovered", 5)
    body = b"".join(delivery.body for delivery in receiver.deliveries).decode()
    assert PHONE not in body and "Maija" not in body, "no personal data in a webhook"


async def test_a_failing_receiver_gets_the_same_webhook_id_until_it_answers_2xx(live_stack: Stack):
    stack = live_stack
    till = integrator(stack)
    with WebhookReceiver(answers=[500, 500, 500, 200]) as receiver:
        endpoint = await register(stack, till, receiver.url, ["case.opened"])
        await open_complaint(stack, till, "fb-retry")
        await eventually(lambda: len(receiver.deliveries) >= 4)
        await asyncio.sleep(0.5)

    assert len(receiver.deliveries) == 4, "delivered once: no attempt after the 200"
    assert len({delivery.webhook_id for delivery in receiver.deliveries}) == 1
    assert all(delivery.verified(endpoint["secret"])["type"] == "case.opened" for delivery in receiver.deliveries)
    attempts = (await stack.api.get(f"/webhook-endpoints/{endpoint['id']}/deliveries", headers=till)).json()
    assert [(a["attempt"], a["outcome"], a["response_code"]) for a in reversed(attempts)] == [
        (1, "failed", 500), (2, "failed", 500), (3, "failed", 500), (4, "delivered", 200)]


async def until_disabled(stack: Stack, till: dict[str, str],
                         receiver: WebhookReceiver) -> tuple[dict, WebhookEndpointRow]:
    """Registers the receiver for `case.opened`, opens a case, and waits until the endpoint is disabled."""
    endpoint = await register(stack, till, receiver.url, ["case.opened"])
    await open_complaint(stack, till, "fb-1")
    return endpoint, await eventually(lambda: _disabled(stack, endpoint["id"]))


async def test_410_disables_the_endpoint_and_tells_its_owner(live_stack: Stack):
    stack = live_stack
    till = integrator(stack)
    with WebhookReceiver(answers=[410]) as receiver:
        endpoint, view = await until_disabled(stack, till, receiver)
        await open_complaint(stack, till, "fb-2")
        await asyncio.sleep(1)

    assert len(receiver.deliveries) == 1, "nothing is sent to an endpoint that said Gone"
    assert "410" in view.disabled_reason
    [notice] = await eventually(lambda: stack.rows(SandboxOutboxEntry, to_address=OWNER))
    assert endpoint["url"] in notice.body and "410" in notice.body
    shown = (await stack.api.get(f"/webhook-endpoints/{endpoint['id']}", headers=till)).json()
    assert shown["enabled"] is False


async def test_after_the_last_attempt_fails_the_endpoint_is_disabled_and_its_owner_told(live_stack: Stack):
    stack = live_stack
    till = integrator(stack)
    with WebhookReceiver(answers=[503]) as receiver:
        _, view = await until_disabled(stack, till, receiver)

    assert len(receiver.deliveries) == 1 + len(stack.settings.webhook_retry_schedule)
    assert "failed on all 5 attempts" in view.disabled_reason
    assert await eventually(lambda: stack.rows(SandboxOutboxEntry, to_address=OWNER))


async def test_retry_after_on_429_is_honoured(live_stack: Stack):
    stack = live_stack
    till = integrator(stack)
    with WebhookReceiver(answers=[429, 200], headers={"Retry-After": "2"}) as receiver:
        await register(stack, till, receiver.url, ["case.opened"])
        await open_complaint(stack, till, "fb-slow-down")
        await eventually(lambda: len(receiver.deliveries) >= 1)
        first = time.monotonic()
        await eventually(lambda: len(receiver.deliveries) >= 2)
        waited = time.monotonic() - first

    assert waited >= 1.5, "the schedule said 0.1 s; the receiver asked for 2 s and got them"


async def test_a_worker_killed_between_attempts_still_delivers(dev_server: WorkflowEnvironment, settings: Settings,
                                                               tmp_path: Path):
    settings = settings.model_copy(update={"webhook_retry_schedule": [timedelta(seconds=4)]})
    first = start_worker(address_of(dev_server), settings, tmp_path / "worker-1.log")
    second = None
    try:
        async with asyncio.timeout(90), Stack.running(dev_server, settings, with_worker=False) as stack:
            till = integrator(stack)
            with WebhookReceiver(answers=[500, 200]) as receiver:
                endpoint = await register(stack, till, receiver.url, ["case.opened"])
                await open_complaint(stack, till, "fb-crash")
                await eventually(lambda: stack.rows(WebhookAttemptRow))  # the first attempt is over
                first.send_signal(signal.SIGKILL)  # the retry is 4 s away, held by Temporal, not the worker
                first.wait(timeout=10)
                second = start_worker(address_of(dev_server), settings, tmp_path / "worker-2.log")
                await eventually(lambda: len(receiver.deliveries) >= 2, within=60)

            assert len({delivery.webhook_id for delivery in receiver.deliveries}) == 1
            assert receiver.deliveries[-1].verified(endpoint["secret"])["type"] == "case.opened"
    finally:
        if first.poll() is None:
            first.kill()
        if second is not None:
            stop(second)


async def test_redelivery_and_secret_rotation(live_stack: Stack):
    stack = live_stack
    till = integrator(stack)
    with WebhookReceiver() as receiver:
        endpoint = await register(stack, till, receiver.url, ["case.opened"])
        await open_complaint(stack, till, "fb-again")
        await eventually(lambda: receiver.deliveries)
        rotated = (await stack.api.post(f"/webhook-endpoints/{endpoint['id']}/rotate-secret", headers=till)).json()
        assert rotated["secret"] != endpoint["secret"] and rotated["previous_secret_valid_until"]

        [event] = stack.rows(WebhookEventRow, type="case.opened")
        again = await stack.api.post(f"/webhook-endpoints/{endpoint['id']}/deliveries/{event.id}/redeliver",
                                     headers=till)
        assert again.status_code == 202, again.text
        await eventually(lambda: len(receiver.deliveries) >= 2)

    redelivered = receiver.deliveries[1]
    assert redelivered.webhook_id == receiver.deliveries[0].webhook_id == event.id
    for secret in (endpoint["secret"], rotated["secret"]):  # signed by both during the grace day
        assert redelivered.verified(secret)["type"] == "case.opened"


async def test_endpoints_are_the_integrators_own(live_stack: Stack):
    """Another tenant's integrator neither sees nor registers for this tenant's endpoints."""
    stack = live_stack
    till, shop = integrator(stack, "till-01"), integrator(stack, "shop-02", tenant="rival")
    mine = await register(stack, till, "https://hooks.till.example/recovery", ["case.closed"])
    assert (await stack.api.get(f"/webhook-endpoints/{mine['id']}", headers=shop)).status_code == 404
    assert (await stack.api.get("/webhook-endpoints", headers=shop)).json() == []
    assert [e["id"] for e in (await stack.api.get("/webhook-endpoints", headers=till)).json()] == [mine["id"]]
    foreign = await stack.api.post("/webhook-endpoints", headers=shop, json={
        "url": "https://shop.example/h", "event_types": ["case.opened"], "owner_email": OWNER, "tenant": TENANT})
    assert foreign.status_code == 403

    disabled = await stack.api.patch(f"/webhook-endpoints/{mine['id']}", headers=till, json={"enabled": False})
    assert disabled.json()["enabled"] is False
    no_scope = stack.key("till-01", Scope.incidents_write, kind=PrincipalKind.integrator)
    assert (await stack.api.get("/webhook-endpoints", headers=no_scope)).status_code == 403


def _disabled(stack: Stack, endpoint_id: str) -> WebhookEndpointRow | None:
    [row] = stack.rows(WebhookEndpointRow, id=endpoint_id)
    return row if row.disabled_at is not None else None


async def test_a_late_complaint_records_sla_and_escalation_events_in_the_outbox(stack: Stack):
    """On the time-skipping server, without an endpoint: which events a complaint left unanswered produces."""
    case_id = (await stack.api.post("/incidents", json=complaint("fb-late"))).json()["case_id"]
    await stack.skip(timedelta(hours=30))  # past 75 % and past the deadline of the public complaint's reply
    await eventually(lambda: "sla.breached" in _event_types(stack, case_id))
    events = _event_types(stack, case_id)
    assert {"case.opened", "sla.at_risk", "sla.breached", "case.escalated"} <= events


def _event_types(stack: Stack, case_id: str) -> set[str]:
    return {row.type for row in stack.rows(WebhookEventRow, case_id=case_id)}


async def test_a_refund_refused_for_good_records_refund_failed_with_its_amount(time_skipping: WorkflowEnvironment,
                                                                             settings: Settings):
    providers = Providers(payments=RefusingPayments(settings.database_url), senders=sandbox_providers(settings).senders)
    async with Stack.running(time_skipping, settings, providers) as stack:
        case_id = (await stack.api.post("/transactions", json=till_record("T-WH-2"))).json()["case"]["case_id"]
        await eventually(lambda: stack.texts_to(PHONE))
        await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": "1"})
        [failed] = await eventually(lambda: stack.rows(WebhookEventRow, case_id=case_id, type="refund.failed"))
    assert failed.payload["data"]["amount"] == {"amount_minor": 995, "currency": "EUR"}
    assert not stack.rows(WebhookEventRow, case_id=case_id, type="refund.paid")


class _MailOnSecondTry:
    """An owner's mail server that is down for the first notice, as SMTP sometimes is."""

    name, channel = "flaky-smtp", "email"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.tries = 0

    def send(self, idempotency_key: str, to: str, subject: str, body: str):
        self.tries += 1
        if self.tries == 1:
            raise ConnectionError("mail server down")
        self.sent.append((idempotency_key, to, body))


async def test_the_owner_is_told_even_when_the_first_notice_fails(stack: Stack):
    endpoint = await register(stack, integrator(stack), "https://hooks.till.example/h", ["case.opened"])
    mail = _MailOnSecondTry()
    activities = WebhookActivities(stack.settings, owner_email=mail)
    request = DisableRequest(endpoint_id=endpoint["id"], reason="the receiver answered 410 Gone")

    with pytest.raises(ConnectionError):
        activities.disable_webhook_endpoint(request)
    activities.disable_webhook_endpoint(request)  # the activity's retry: the endpoint is disabled already

    [(key, to, body)] = mail.sent
    assert to == OWNER and "410 Gone" in body
    activities.disable_webhook_endpoint(request)  # once more: the same key, so a keyed provider sends it once
    assert mail.sent[1][0] == key


async def test_no_key_acts_on_another_tenants_endpoints(stack: Stack):
    till, shop = integrator(stack, "till-01"), integrator(stack, "shop-02")
    mine = await register(stack, till, "https://hooks.till.example/recovery", ["case.opened"])
    base = f"/webhook-endpoints/{mine['id']}"
    assert (await stack.api.patch(base, headers=shop, json={"url": "https://evil.example/h"})).status_code == 404
    assert (await stack.api.post(f"{base}/rotate-secret", headers=shop)).status_code == 404
    assert (await stack.api.get(f"{base}/deliveries", headers=shop)).status_code == 404
    shops_case = await open_complaint(stack, shop, "fb-shop")
    [shops_event] = await eventually(lambda: stack.rows(WebhookEventRow, case_id=shops_case))
    assert (await stack.api.post(f"{base}/deliveries/{shops_event.id}/redeliver", headers=till)).status_code == 404
    assert (await stack.api.post(f"{base}/deliveries/{shops_event.id}/redeliver", headers=shop)).status_code == 404

    staff = stack.key("ops-anna", Scope.webhooks_manage)  # a person's key with the scope but not admin
    assert (await stack.api.patch(base, headers=staff, json={"url": "https://evil.example/h"})).status_code == 403
    assert (await stack.api.post(f"{base}/rotate-secret", headers=staff)).status_code == 403
    assert (await stack.api.post("/webhook-endpoints", headers=staff, json={
        "url": "https://evil.example/h", "event_types": ["case.opened"], "owner_email": OWNER})).status_code == 403
    [row] = stack.rows(WebhookEndpointRow, id=mine["id"])
    assert row.url == "https://hooks.till.example/recovery" and row.secret == mine["secret"]


async def test_redeliver_while_temporal_is_down_is_a_503(stack: Stack, settings: Settings):
    till = integrator(stack)
    endpoint = await register(stack, till, "https://hooks.till.example/h", ["case.opened"])
    case_id = await open_complaint(stack, till, "fb-outage")
    [event] = await eventually(lambda: stack.rows(WebhookEventRow, case_id=case_id))
    nowhere = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True, data_converter=data_converter(settings))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings, temporal=nowhere)),
                                 base_url="http://api", headers=till) as cut_off:
        again = await cut_off.post(f"/webhook-endpoints/{endpoint['id']}/deliveries/{event.id}/redeliver")
    assert again.status_code == 503, again.text


async def test_a_refused_destination_is_shown_without_its_internal_address(time_skipping: WorkflowEnvironment,
                                                                          settings: Settings):
    settings = settings.model_copy(update={"webhook_allow_private_networks": False})
    async with Stack.running(time_skipping, settings) as stack:
        till = integrator(stack)
        # This machine's name passes the check at registration but resolves to a loopback address.
        endpoint = await register(stack, till, f"http://{socket.gethostname()}/hooks", ["case.opened"])
        await open_complaint(stack, till, "fb-inside")
        url = f"/webhook-endpoints/{endpoint['id']}/deliveries"
        [shown] = await eventually(lambda: stack.rows(WebhookAttemptRow, endpoint_id=endpoint["id"]))
        [delivery] = (await stack.api.get(url, headers=till)).json()
    assert delivery["outcome"] == "refused" and delivery["error"] == REFUSED_SHOWN
    assert "127." not in shown.error and socket.gethostname() not in shown.error


async def test_events_missed_while_disabled_show_and_are_sent_once_redelivered(stack: Stack):
    till = integrator(stack)
    with WebhookReceiver() as receiver:
        endpoint = await register(stack, till, receiver.url, ["case.opened"])
        base = f"/webhook-endpoints/{endpoint['id']}"
        await stack.api.patch(base, headers=till, json={"enabled": False})
        case_id = await open_complaint(stack, till, "fb-missed")
        [missed] = await eventually(lambda: stack.rows(WebhookAttemptRow, endpoint_id=endpoint["id"]))
        [shown] = (await stack.api.get(f"{base}/deliveries", headers=till)).json()
        assert shown["outcome"] == "endpoint_disabled" and shown["case_id"] == case_id
        assert receiver.deliveries == []

        await stack.api.patch(base, headers=till, json={"enabled": True})
        again = await stack.api.post(f"{base}/deliveries/{missed.event_id}/redeliver", headers=till)
        assert again.status_code == 202, again.text
        [delivery] = await eventually(lambda: receiver.deliveries)
    assert delivery.webhook_id == missed.event_id


async def test_a_cancelled_case_records_case_cancelled(live_stack: Stack):
    stack = live_stack  # real time: the time-skipping clock may stand at night after earlier tests
    case_id = (await stack.api.post("/incidents", json=complaint("fb-cancel"))).json()["case_id"]
    await eventually(lambda: "case.opened" in _event_types(stack, case_id), within=60)  # a loaded machine is slow
    cancelled = await stack.api.post(f"/cases/{case_id}/cancel", json={"reason": "posted twice by mistake"})
    assert cancelled.status_code == 202, cancelled.text
    try:
        await eventually(lambda: "case.cancelled" in _event_types(stack, case_id), within=60)
    except AssertionError as stuck:
        raise AssertionError(f"{stuck}; the case's history:\n{await stack.history(case_id)}") from None
    assert "case.closed" not in _event_types(stack, case_id)
