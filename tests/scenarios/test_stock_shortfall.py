"""The pharmacist who phoned the neighbouring pharmacy (seeds/004): a customer came on a Saturday morning for their
dog's painkiller, and neither pharmacy in the village had it. The good ending: staff find where nearby it is (a
phone call to the third pharmacy, a block away) and tell the customer where to pick it up; nothing is paid. The
worked example of docs/adding-a-workflow.md, made with `python -m workflows.new stock_shortfall`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from kinds.stock_shortfall import KIND, StockShortfallDetails
from schemas.auth import Scope
from schemas.progress import CaseOutcome, CaseStep
from tests.harness import Stack, eventually
from tests.scenarios.test_s3_s4_complaints import live_sla

PHONE = "+358401234599"
PRODUCT = "Rimadyl 50 mg, 14 tablets"


def incident(external_id: str, language: str = "en") -> dict:
    return {"external_id": external_id, "kind": "stock_shortfall", "source": "till", "store": "Nokian Apteekki",
            "customer": {"name": "Maija Meikäläinen", "phone": PHONE, "language": language},
            "details": {"product": PRODUCT}}


def found_it(agent: str = "Aino") -> dict:
    return {"agent_name": agent, "text": f"Hello Maija, I phoned Nokian Keskusapteekki, a block behind Nokian "
                                         f"Apteekki: {PRODUCT} is set aside for you there until 18 today. {agent}"}


async def test_the_customer_is_told_where_to_pick_it_up_and_asked_the_next_day(stack: Stack):
    case_id = (await stack.api.post("/incidents", json=incident("SS-1"))).json()["case_id"]

    [looking] = await eventually(lambda: stack.texts_to(PHONE))
    assert f"we are sorry: {PRODUCT} was not in stock at Nokian Apteekki" in looking.body
    assert "will reply to you by" in looking.body  # the promise's deadline, on the customer's clock
    response = await stack.api.post(f"/cases/{case_id}/responses", json=found_it(),
                                    headers=stack.key("aino.agent", Scope.cases_act))
    assert response.status_code == 202
    [_, pick_up] = await eventually(lambda: stack.texts_to(PHONE)[1:] and stack.texts_to(PHONE))
    assert "set aside for you there until 18 today" in pick_up.body
    live = await stack.until_live(case_id, lambda state: state.step == CaseStep.follow_up)
    asks_after = live.waiting_until - live.sla.clocks[0].met_at  # its own delay, not the policy's default
    assert KIND.follow_up_delay <= asks_after < KIND.follow_up_delay + timedelta(minutes=1)
    assert asks_after < stack.settings.policy.follow_up_delay
    sla = await live_sla(stack, case_id)
    assert sla["first_reply"]["met_at"] is not None and sla["first_reply"]["state"] == "on_track"

    await stack.skip(KIND.follow_up_delay)  # its own delay: a day, not the policy's default
    await eventually(lambda: stack.texts_to(PHONE)[2:])
    await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": "5"})

    assert await stack.env.client.get_workflow_handle(case_id).result() == CaseOutcome.arranged
    assert stack.ledger() == [] and stack.refunds(case_id) == []  # put right without money
    await stack.keep_history(case_id, "stock_shortfall")


async def test_nobody_finding_it_in_time_escalates_and_it_takes_no_approval(stack: Stack):
    case_id = (await stack.api.post("/incidents", json=incident("SS-2", language="fi"))).json()["case_id"]
    [looking] = await eventually(lambda: stack.texts_to(PHONE))
    assert f"pahoittelemme: {PRODUCT} oli loppu (Nokian Apteekki)" in looking.body

    approval = await stack.api.post(f"/cases/{case_id}/approvals", headers=stack.key("sami", Scope.cases_approve),
                                    json={"decision": "approve", "reason": "nothing to approve"})
    assert approval.status_code == 409 and "takes no approval" in approval.json()["detail"]
    by_hand = await stack.api.post(f"/cases/{case_id}/manual-refund", json={"reference": "NDEA-1"},
                                   headers=stack.key("eero.agent", Scope.cases_act))
    assert by_hand.status_code == 403  # who may act comes first; what the case can do is told only to them

    await stack.skip(timedelta(days=3))  # two business hours, whatever day the test runs on
    notes = await eventually(lambda: _timeline(stack, case_id))
    assert any("first reply" in note and "escalated to the supervisors" in note for note in notes), notes


async def _timeline(stack: Stack, case_id: str) -> list[str]:
    entries = (await stack.api.get(f"/cases/{case_id}/timeline")).json()
    notes = [entry["note"] for entry in entries]
    return notes if any("escalated to the supervisors" in note for note in notes) else []


async def test_an_incident_without_its_product_is_refused_naming_the_field(stack: Stack):
    body = incident("SS-3")
    body["details"] = {"prodcut": PRODUCT}
    response = await stack.api.post("/incidents", json=body)
    assert response.status_code == 422
    fields = {tuple(error["loc"]) for error in response.json()["detail"]}
    assert ("body", "details", "product") in fields and ("body", "details", "prodcut") in fields


@pytest.mark.parametrize("product", ["Rimadyl\nSubject: free", "Rimadyl\r50 mg", "Rimadyl\x0050 mg", "   "])
def test_a_product_is_one_line_of_text(product: str):
    """The product is named in every message (an SMS, an email subject): a line break or control character in it
    is refused at intake, like every other one-line text."""
    with pytest.raises(ValidationError, match="product"):
        StockShortfallDetails(product=product)
