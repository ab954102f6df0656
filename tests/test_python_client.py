"""The integrators' Python client (`clients/python`, issue 13 item 4) against the real API process over HTTP:
S1 as the README walks it through, and a webhook verified with the client's `verify_webhook`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from service_recovery_client import (
    Customer,
    Incident,
    Money,
    RecoveryApiError,
    RecoveryClient,
    SaleLine,
    TillRecord,
    verify_webhook,
)

from kinds import added_kind
from schemas.auth import PrincipalKind, Scope
from schemas.incidents import IncidentIn, IncidentKind
from settings import PROJECT_DIR, Settings
from tests.harness import Stack, eventually, stop
from tests.test_faults import address_of, free_port, short_policy
from tests.webhook_receiver import WebhookReceiver


@pytest.fixture
def api_process(dev_server, settings: Settings, tmp_path: Path) -> Iterator[str]:
    """`python -m api` as production runs it, on a free port, on the test's server, queue and database."""
    port = free_port()
    environment = {**os.environ, "TEMPORAL_ADDRESS": address_of(dev_server), "API_PORT": str(port),
                   "TEMPORAL_TASK_QUEUE": settings.temporal_task_queue, "DATABASE_URL": settings.database_url,
                   "POLICY": settings.policy.model_dump_json(), "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
                   "ALLOW_UNENCRYPTED_PAYLOADS": "true"}  # the dev server here speaks plain payloads
    with (tmp_path / "api.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "api"], cwd=PROJECT_DIR, env=environment,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


async def healthy(url: str) -> bool:
    try:
        async with httpx.AsyncClient() as http:
            return (await http.get(f"{url}/healthz")).status_code == 200
    except httpx.HTTPError:
        return False


async def test_the_client_walks_s1_through_and_verifies_a_webhook(dev_server, settings: Settings, api_process: str):
    settings = short_policy(settings).model_copy(update={"webhook_allow_private_networks": True})
    async with Stack.running(dev_server, settings) as stack:  # the worker; the API is the process above
        key = stack.key("till-01", Scope.incidents_write, Scope.cases_read, Scope.webhooks_manage,
                        kind=PrincipalKind.integrator)["Authorization"].removeprefix("Bearer ")
        for _ in range(200):
            if await healthy(api_process):
                break
            await asyncio.sleep(0.2)
        client = RecoveryClient(api_process, key)
        with client, WebhookReceiver() as receiver:
            endpoint = await asyncio.to_thread(client.register_webhook, receiver.url,
                                               ["case.opened", "refund.paid"], "integrations@till.example")
            record = TillRecord(store="Prisma Kaleva", transaction_id="T-CLIENT-1", currency="EUR", charged_minor=2485,
                                lines=[SaleLine(product="Coffee 500 g", unit_price_minor=495),
                                       SaleLine(product="Cheese 1 kg", unit_price_minor=995)],
                                customer=Customer(name="Maija Meikäläinen", phone="040 123 4567", language="en"))
            verdict = await asyncio.to_thread(client.post_transaction, record)
            assert verdict.finding == "overcharge" and verdict.difference == Money(amount_minor=995, currency="EUR")

            case_id = verdict.case.case_id
            case = await asyncio.to_thread(client.get_case, case_id)
            assert (case.id, case.kind, case.amount) == (case_id, "overcharge", verdict.difference)

            await eventually(lambda: stack.texts_to("+358401234567"))
            await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": "1"})  # the customer
            await eventually(lambda: len(receiver.deliveries) >= 2)
            refunded = await asyncio.to_thread(client.get_case, case_id)
            events = [verify_webhook(endpoint.secret, d.body, d.headers) for d in receiver.deliveries]

            incident = Incident(external_id="web-77", kind="complaint", source="web_shop", topic="late parcel",
                                customer=Customer(name="Matti Virtanen", email="matti@example.fi"))
            opened = await asyncio.to_thread(client.open_incident, incident)
            again = await asyncio.to_thread(client.open_incident, incident)
            with pytest.raises(RecoveryApiError) as refused:
                bad = incident.model_copy(update={"external_id": "web-78",
                                                  "customer": Customer(name="M", phone="123")})
                await asyncio.to_thread(client.open_incident, bad)

    assert [r.amount for r in refunded.refunds] == [Money(amount_minor=995, currency="EUR")]
    assert [event.type for event in events] == ["case.opened", "refund.paid"]
    assert all(event.data["case_id"] == case_id for event in events)
    assert opened.created and not again.created and again.case_id == opened.case_id
    assert refused.value.status_code == 422 and refused.value.detail[0]["loc"] == ["body", "customer", "phone"]


@pytest.mark.parametrize("kind", list(IncidentKind))
def test_the_client_sends_every_kind_the_server_takes(kind: IncidentKind):
    """A kind added with the workflow kit needs no new client: what the client sends for it (its details too) is
    what the API's own contract accepts."""
    declared = added_kind(kind.value)
    incident = Incident(external_id="I-1", kind=kind.value, source="till", customer=Customer(name="Maija"),
                        amount=Money(amount_minor=995, currency="EUR"), topic="a charge",
                        details=declared.example.model_dump(mode="json") if declared else None)
    sent = IncidentIn.model_validate(incident.model_dump(mode="json", exclude_none=True))
    assert sent.kind == kind and sent.details == incident.details
