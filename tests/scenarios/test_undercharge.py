"""The till charged too little: the company's mistake. The customer is never asked to pay below the policy
limit, and never blamed above it."""

from __future__ import annotations

import pytest

from schemas.auth import Scope
from schemas.progress import CaseOutcome
from tests.harness import Stack, eventually
from tests.scenarios.test_s1_till_overcharge import PHONE, till_record

pytestmark = pytest.mark.both_databases  # the read model's behaviour on SQLite and PostgreSQL alike


async def test_a_small_undercharge_is_written_off_without_a_word_to_the_customer(stack: Stack):
    verdict = (await stack.api.post("/transactions", json=till_record("U-1", charged_minor=1490 - 500))).json()
    assert verdict["finding"] == "undercharge" and verdict["difference"]["amount_minor"] == 500
    case_id = verdict["case"]["case_id"]

    assert await stack.env.client.get_workflow_handle(case_id).result() == CaseOutcome.written_off
    assert stack.texts_to(PHONE) == [] and stack.ledger() == []
    timeline = (await stack.api.get(f"/cases/{case_id}/timeline")).json()
    assert "below the write-off limit; the customer is not asked" in timeline[-1]["note"]


async def test_a_large_undercharge_is_told_without_blame_and_without_a_demand(stack: Stack):
    lines = [{"product": "Espresso machine", "unit_price_minor": 34900, "quantity": 1}]
    record = till_record("U-2", charged_minor=24900, lines=lines)
    case_id = (await stack.api.post("/transactions", json=record)).json()["case"]["case_id"]

    assert await stack.env.client.get_workflow_handle(case_id).result() == CaseOutcome.customer_informed
    [notice] = await eventually(lambda: stack.texts_to(PHONE))
    assert "undercharged you €100.00" in notice.body and "Our mistake, not yours" in notice.body
    assert "nothing you need to do" in notice.body
    for blame in ("you failed", "your mistake", "you must pay", "owe"):
        assert blame not in notice.body.lower()


async def test_an_undercharge_takes_no_approval_and_no_payment_by_hand(stack: Stack):
    """Its story has neither step: the API says so at once (409), and nothing reaches the workflow."""
    record = till_record("U-3", charged_minor=24900, lines=[{"product": "Espresso machine",
                                                             "unit_price_minor": 34900, "quantity": 1}])
    case_id = (await stack.api.post("/transactions", json=record)).json()["case"]["case_id"]

    approval = await stack.api.post(f"/cases/{case_id}/approvals", headers=stack.key("sami", Scope.cases_approve),
                                    json={"decision": "approve", "reason": "an undercharge has no approval"})
    by_hand = await stack.api.post(f"/cases/{case_id}/manual-refund", json={"reference": "NDEA-1"},
                                   headers=stack.key("sami", Scope.cases_act, Scope.cases_approve))
    reply = await stack.api.post(f"/cases/{case_id}/responses", headers=stack.key("aino.agent", Scope.cases_act),
                                 json={"text": "Hello, about the espresso machine", "agent_name": "Aino"})
    assert approval.status_code == by_hand.status_code == reply.status_code == 409
    assert "kind undercharge takes no approval: its workflow type has no such step" in approval.json()["detail"]
    assert "takes no refund paid by hand" in by_hand.json()["detail"]
    assert "takes no personal reply" in reply.json()["detail"]
    handle = stack.env.client.get_workflow_handle(case_id)
    assert await handle.result() == CaseOutcome.customer_informed
    assert [event async for event in handle.fetch_history_events()
            if event.HasField("workflow_execution_signaled_event_attributes")] == []
