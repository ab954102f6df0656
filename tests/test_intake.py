"""Intake: one case per external id however often (or concurrently) it is posted; bad input gets a 422
that names the field, never a 500."""

from __future__ import annotations

import asyncio

import pytest

from schemas.auth import PrincipalKind, Scope
from store.accounts import disable_account
from store.db import session_for
from tests.harness import TENANT, Stack, eventually
from tests.scenarios.test_s1_till_overcharge import PHONE, till_record

pytestmark = pytest.mark.both_databases  # the read model's behaviour on SQLite and PostgreSQL alike


def incident(external_id: str = "pos-77-0001", **changes) -> dict:
    body = {"external_id": external_id, "kind": "overcharge", "source": "till", "store": "K-Market Tikkurila",
            "amount": {"amount_minor": 995, "currency": "EUR"},
            "customer": {"name": "Matti Virtanen", "phone": PHONE, "language": "fi"}}
    body.update(changes)
    return body


async def test_the_same_external_id_twice_is_one_case(live_stack: Stack):
    first = await live_stack.api.post("/incidents", json=incident())
    again = await live_stack.api.post("/incidents", json=incident())
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["case_id"] == again.json()["case_id"]
    assert first.json()["links"]["self"] == f"/cases/{first.json()['case_id']}"


async def test_twenty_concurrent_posts_are_one_case_and_one_workflow(live_stack: Stack):
    responses = await asyncio.gather(*(live_stack.api.post("/incidents", json=incident("pos-77-0002"))
                                       for _ in range(20)))
    assert sorted(r.status_code for r in responses) == [200] * 19 + [201]
    [case_id] = {r.json()["case_id"] for r in responses}
    assert (await live_stack.api.get("/cases")).json()["total"] == 1

    await eventually(lambda: live_stack.texts_to(PHONE))
    executions = [wf async for wf in live_stack.env.client.list_workflows(f"WorkflowId = '{case_id}'")]
    assert len(executions) == 1, "exactly one workflow run for the case"
    assert len(live_stack.texts_to(PHONE)) == 1, "and the customer is texted once"


async def test_the_same_external_id_from_another_integrator_is_another_case(live_stack: Stack):
    other = live_stack.key("webshop", Scope.incidents_write, kind=PrincipalKind.integrator)
    mine = (await live_stack.api.post("/incidents", json=incident("shared-id"))).json()
    theirs = (await live_stack.api.post("/incidents", json=incident("shared-id"), headers=other)).json()
    assert mine["case_id"] != theirs["case_id"]


async def test_a_retry_finds_its_case_even_when_the_suggested_owner_is_gone(live_stack: Stack):
    """Review minor 15: the idempotent look-up comes before the owner check, so a retry is never a 422."""
    first = await live_stack.api.post("/incidents", json=incident("pos-77-0150", owner="legal.counsel"))
    with session_for(live_stack.settings.database_url) as session:
        assert disable_account(session, TENANT, "legal.counsel")
    again = await live_stack.api.post("/incidents", json=incident("pos-77-0150", owner="legal.counsel"))
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["case_id"] == first.json()["case_id"]
    assert live_stack.case(first.json()["case_id"]).owner == "legal.counsel"
    fresh = await live_stack.api.post("/incidents", json=incident("pos-77-0151", owner="legal.counsel"))
    assert fresh.status_code == 422, "a new case still needs an owner who is an account"


BAD_INCIDENTS = [
    ({"amount": {"amount_minor": -995, "currency": "EUR"}}, ["body", "amount", "amount_minor"], "greater than"),
    ({"amount": {"amount_minor": 9.95, "currency": "EUR"}}, ["body", "amount", "amount_minor"], "integer"),
    ({"amount": {"amount_minor": "995", "currency": "EUR"}}, ["body", "amount", "amount_minor"], "integer"),
    ({"amount": {"amount_minor": 995, "currency": "EUX"}}, ["body", "amount", "currency"], "ISO 4217"),
    ({"amount": {"amount_minor": 995, "currency": "eur"}}, ["body", "amount", "currency"], "pattern"),
    ({"customer": None}, ["body", "customer"], "valid dictionary"),
    ({"customer": {"name": ""}}, ["body", "customer", "name"], "at least 1"),
    ({"customer": {"name": "A", "phone": "123"}}, ["body", "customer", "phone"], "too short"),
    ({"customer": {"name": "A", "email": "not-an-email"}}, ["body", "customer", "email"], "email"),
    ({"amount": None}, ["body"], "needs an amount above zero"),
    ({"kind": "teleportation"}, ["body", "kind"], "overcharge"),
]


@pytest.mark.parametrize(("change", "location", "reason"), BAD_INCIDENTS)
async def test_bad_incidents_get_a_422_naming_the_field(stack: Stack, change: dict, location: list, reason: str):
    response = await stack.api.post("/incidents", json=incident(**change))
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == location and reason in error["msg"], error


async def test_a_missing_customer_is_named(stack: Stack):
    body = incident()
    del body["customer"]
    [error] = (await stack.api.post("/incidents", json=body)).json()["detail"]
    assert error["loc"] == ["body", "customer"] and error["msg"] == "Field required"


@pytest.mark.parametrize(("change", "location"), [
    ({"lines": []}, ["body", "lines"]),
    ({"charged_minor": 24.85}, ["body", "charged_minor"]),
    ({"lines": [{"product": "Cheese", "unit_price_minor": 995, "quantity": 0}]}, ["body", "lines", 0, "quantity"]),
    ({"currency": "XXY"}, ["body", "currency"]),
])
async def test_bad_transactions_get_a_422_naming_the_field(stack: Stack, change: dict, location: list):
    response = await stack.api.post("/transactions", json=till_record(**change))
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == location


@pytest.mark.parametrize("body", ["", "{", "[]", "null", '{"external_id": 5}'])
async def test_malformed_json_is_a_422_not_a_500(stack: Stack, body: str):
    response = await stack.api.post("/incidents", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422


async def test_an_oversized_body_is_refused(stack: Stack):
    response = await stack.api.post("/incidents", json=incident(description="x" * 300_000))
    assert response.status_code == 413
    assert (await stack.api.get("/cases")).json()["total"] == 0
