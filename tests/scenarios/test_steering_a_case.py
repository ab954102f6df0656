"""Supervisors steer cases: one named owner from triage to close (an unowned case escalates, reassignment needs
a reason), priority changes recompute the deadlines, and a rejected approval tells the customer what happens."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from schemas.auth import Scope
from schemas.progress import CaseOutcome
from sla.calendar import BusinessCalendar
from store.tables import SandboxOutboxEntry
from tests.harness import Stack, eventually
from tests.scenarios.test_s3_s4_complaints import PHONE, complaint, live_sla, personal_reply

pytestmark = pytest.mark.both_databases  # the read model's behaviour on SQLite and PostgreSQL alike


async def test_a_case_nobody_owns_escalates_and_reassignment_needs_a_reason(stack: Stack):
    unowned = complaint("form-4001", source="feedback_form", amount=None)
    del unowned["owner"]
    settings = stack.settings.model_copy(update={"policy": stack.settings.policy.model_copy(
        update={"triage_owner": None})})
    stack.app.state.settings = settings  # this test's intake leaves cases unowned
    case_id = (await stack.api.post("/incidents", json=unowned)).json()["case_id"]
    assert stack.case(case_id).owner is None

    await stack.skip(settings.policy.unowned_limit + timedelta(minutes=1))
    [escalation] = await eventually(lambda: stack.rows(SandboxOutboxEntry, to_address="supervisors@example.com"))
    assert "no owner after 0:30:00: escalated to the supervisors" in escalation.body

    supervisor = stack.key("sami.supervisor", Scope.cases_act)
    no_reason = await stack.api.post(f"/cases/{case_id}/assign", headers=supervisor, json={"owner": "aino.agent"})
    assert no_reason.status_code == 422 and no_reason.json()["detail"][0]["loc"] == ["body", "reason"]
    assigned = await stack.api.post(f"/cases/{case_id}/assign", headers=supervisor,
                                    json={"owner": "aino.agent", "reason": "speaks the customer's language"})
    assert assigned.status_code == 202
    await eventually(lambda: stack.case(case_id).owner == "aino.agent")
    timeline = (await stack.api.get(f"/cases/{case_id}/timeline")).json()
    assert any("owner none -> aino.agent by sami.supervisor: speaks the customer's language" in entry["note"]
               for entry in timeline)


async def test_marking_a_case_public_tightens_its_deadlines(stack: Stack):
    case_id = (await stack.api.post("/incidents", json=complaint("form-4002", source="feedback_form"))).json()[
        "case_id"]
    await eventually(lambda: stack.texts_to(PHONE))
    normal = datetime.fromisoformat((await live_sla(stack, case_id))["first_reply"]["deadline"])

    supervisor = stack.key("sami.supervisor", Scope.cases_approve)
    change = await stack.api.post(f"/cases/{case_id}/priority", headers=supervisor,
                                  json={"public": True, "reason": "the customer's post is spreading"})
    assert change.status_code == 202 and change.json()["priority"] == "high"
    await eventually(lambda: stack.case(case_id).priority == "high")
    public = datetime.fromisoformat((await live_sla(stack, case_id))["first_reply"]["deadline"])
    started = datetime.fromisoformat(
        (await stack.env.client.get_workflow_handle(case_id).describe()).start_time.isoformat())
    calendar = BusinessCalendar()
    assert public == calendar.add_business_time(started, timedelta(hours=4)) < normal
    assert normal == calendar.add_business_time(started, timedelta(hours=40))


async def test_a_rejected_approval_tells_the_customer_what_happens_instead(stack: Stack):
    case_id = (await stack.api.post("/incidents", json=complaint("tweet-4003"))).json()["case_id"]
    await eventually(lambda: stack.texts_to(PHONE))
    await stack.api.post(f"/cases/{case_id}/responses", json=personal_reply(),
                         headers=stack.key("aino.agent", Scope.cases_act))
    await eventually(lambda: stack.case(case_id).status == "waiting_on_approval")

    supervisor = stack.key("sami.supervisor", Scope.cases_approve)
    rejected = await stack.api.post(f"/cases/{case_id}/approvals", headers=supervisor,
                                    json={"decision": "reject", "reason": "already refunded by the shop"})
    assert rejected.status_code == 202
    told = await eventually(lambda: stack.texts_to(PHONE)[2:])
    assert "could not settle your case in the way first proposed" in told[0].body
    assert stack.refunds(case_id) == []
    timeline = (await stack.api.get(f"/cases/{case_id}/timeline")).json()
    assert any("rejected by sami.supervisor: already refunded by the shop" in entry["note"] for entry in timeline)

    await stack.skip(stack.settings.policy.follow_up_delay)
    await eventually(lambda: stack.texts_to(PHONE)[3:])
    await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": "4", "sender": PHONE})
    assert await stack.env.client.get_workflow_handle(case_id).result() == CaseOutcome.not_approved
    summary = (await stack.api.get("/metrics/summary")).json()
    assert summary["overall"]["recovery"]["recovered"] == 0, "a rejected approval is not a recovery (S6)"
