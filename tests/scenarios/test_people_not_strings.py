"""S5 read as an attacker would: with an integrator's key, or an agent's. Owners are staff accounts, not names
an integrator types; reading a customer's contact takes an account that owns the case (not one that took it
itself) or supervises; and four eyes means two accounts, whoever moved the case in between. On the dev server:
no time needs skipping here."""

from __future__ import annotations

from schemas.auth import PrincipalKind, Scope
from schemas.steps import Decision
from store.db import session_for
from store.directory import add_customer
from store.tables import AccessRecordRow, SandboxOutboxEntry
from tests.harness import TENANT, Stack, eventually
from tests.scenarios.test_s3_s4_complaints import PHONE, complaint, personal_reply

DPO = "dpo@example.com"
DIRECTORY_PHONE = "+358441234567"


def name_only(owner: str | None) -> dict:
    incident = {"external_id": "shop-77", "kind": "duplicate_purchase", "source": "web_shop",
                "amount": {"amount_minor": 1290, "currency": "EUR"}, "store": "Web shop",
                "customer": {"name": "Kaisa Kallio", "city": "Turku", "language": "en"}}
    return incident | ({"owner": owner} if owner else {})


async def test_an_integrator_cannot_make_itself_owner_and_read_the_directory(live_stack: Stack):
    stack = live_stack
    with session_for(stack.settings.database_url) as session:
        add_customer(session, TENANT, "Kaisa Kallio", city="Turku", phone=DIRECTORY_PHONE)
    till_id = "shop-integration"
    till = stack.key(till_id, Scope.incidents_write, Scope.cases_read, kind=PrincipalKind.integrator)

    as_owner = await stack.api.post("/incidents", json=name_only(owner=till_id), headers=till)
    assert as_owner.status_code == 422 and as_owner.json()["detail"][0]["loc"] == ["body", "owner"]

    case_id = (await stack.api.post("/incidents", json=name_only(owner=None), headers=till)).json()["case_id"]
    await eventually(lambda: stack.case(case_id).customer_phone == DIRECTORY_PHONE)
    assert stack.case(case_id).owner == "duty.manager", "the triage owner, a staff account"
    by_email = await stack.api.post("/incidents", json=name_only(owner="Aino.Agent@example.com") | {
        "external_id": "shop-78"}, headers=till)
    assert by_email.status_code == 201 and stack.case(by_email.json()["case_id"]).owner == "aino.agent"
    reveal = await stack.api.post(f"/cases/{case_id}/reveal", headers=till,
                                  json={"fields": ["phone"], "purpose": "calling the customer back today"})
    assert reveal.status_code == 403 and "lacks the scope 'cases:act'" in reveal.json()["detail"]
    assert DIRECTORY_PHONE not in (await stack.api.get(f"/cases/{case_id}", headers=till)).text


async def test_an_owner_the_integrator_nominated_reads_nothing_until_a_supervisor_assigns(live_stack: Stack):
    """Review major 6: a clerk with an agent account has the till name them owner of a name-only case, and the
    directory fills in the phone: refused and reported, until a supervisor hands the case over."""
    stack = live_stack
    with session_for(stack.settings.database_url) as session:
        add_customer(session, TENANT, "Kaisa Kallio", city="Turku", phone=DIRECTORY_PHONE)
    till = stack.key("till-7", Scope.incidents_write, kind=PrincipalKind.integrator)
    case_id = (await stack.api.post("/incidents", json=name_only(owner="ville.clerk"), headers=till)).json()["case_id"]
    await eventually(lambda: stack.case(case_id).customer_phone == DIRECTORY_PHONE)
    assert (stack.case(case_id).owner, stack.case(case_id).assigned_by) == ("ville.clerk", "till-7")
    clerk = stack.key("ville.clerk", Scope.cases_read, Scope.cases_act)
    purpose = {"fields": ["phone"], "purpose": "calling the customer back today"}

    refused = await stack.api.post(f"/cases/{case_id}/reveal", headers=clerk, json=purpose)
    assert refused.status_code == 403 and "nominated by the integrator" in refused.json()["detail"]
    [flagged] = stack.rows(AccessRecordRow, flagged=True)
    assert (flagged.actor, flagged.case_id) == ("ville.clerk", case_id)

    supervisor = stack.key("sami.supervisor", Scope.cases_read, Scope.cases_act, Scope.cases_approve)
    await stack.api.post(f"/cases/{case_id}/assign", headers=supervisor,
                         json={"owner": "ville.clerk", "reason": "Ville knows the customer"})
    await eventually(lambda: stack.case(case_id).assigned_by == "sami.supervisor")
    allowed = await stack.api.post(f"/cases/{case_id}/reveal", headers=clerk, json=purpose)
    assert allowed.status_code == 200 and allowed.json()["phone"] == DIRECTORY_PHONE


async def test_an_agent_who_takes_a_case_to_read_the_number_is_refused_and_reported(live_stack: Stack):
    stack = live_stack
    case_id = (await stack.api.post("/incidents", json=complaint("form-5101", source="feedback_form"))).json()[
        "case_id"]
    await eventually(lambda: stack.texts_to(PHONE))
    clerk = stack.key("ville.clerk", Scope.cases_read, Scope.cases_act)
    unknown = await stack.api.post(f"/cases/{case_id}/assign", headers=clerk,
                                   json={"owner": "nobody.here", "reason": "passing it on"})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "owner"]
    taken = await stack.api.post(f"/cases/{case_id}/assign", headers=clerk,
                                 json={"owner": "ville.clerk", "reason": "I will handle it"})
    assert taken.status_code == 202
    await eventually(lambda: stack.case(case_id).owner == "ville.clerk")

    refused = await stack.api.post(f"/cases/{case_id}/reveal", headers=clerk, json={
        "fields": ["phone"], "purpose": "telling the customer's employer about their post"})
    assert refused.status_code == 403 and "assigned case" in refused.json()["detail"]
    [flagged] = stack.rows(AccessRecordRow, flagged=True)
    assert (flagged.actor, flagged.case_id, flagged.fields) == ("ville.clerk", case_id, ["phone"])
    [notice] = await eventually(lambda: stack.rows(SandboxOutboxEntry, to_address=DPO))
    assert "ville.clerk" in notice.body and "themselves" in notice.body and PHONE not in notice.body

    supervisor = stack.key("sami.supervisor", Scope.cases_read, Scope.cases_act, Scope.cases_approve)
    handed = await stack.api.post(f"/cases/{case_id}/assign", headers=supervisor,
                                  json={"owner": "ville.clerk", "reason": "Ville knows the customer"})
    assert handed.status_code == 202
    await eventually(lambda: stack.case(case_id).assigned_by == "sami.supervisor")
    allowed = await stack.api.post(f"/cases/{case_id}/reveal", headers=clerk, json={
        "fields": ["phone"], "purpose": "calling the customer about the refund"})
    assert allowed.status_code == 200 and allowed.json()["phone"] == PHONE, "a supervisor's assignment is a reason"


async def test_an_owner_who_reassigns_the_case_cannot_approve_it(live_stack: Stack):
    stack = live_stack
    sari = stack.key("sari.supervisor", Scope.cases_read, Scope.cases_act, Scope.cases_approve)
    case_id = (await stack.api.post("/incidents", json=complaint("tweet-5201", owner="sari.supervisor"))).json()[
        "case_id"]
    await eventually(lambda: stack.texts_to(PHONE))
    await stack.api.post(f"/cases/{case_id}/responses", json=personal_reply("Sari"), headers=sari)
    await eventually(lambda: stack.case(case_id).status == "waiting_on_approval")

    own = await stack.api.post(f"/cases/{case_id}/approvals", headers=sari,
                               json={"decision": "approve", "reason": "my own case"})
    assert own.status_code == 409 and "owns the case" in own.json()["detail"]
    await stack.api.post(f"/cases/{case_id}/assign", headers=sari,
                         json={"owner": "aino.agent", "reason": "going on holiday"})
    await eventually(lambda: stack.case(case_id).owner == "aino.agent")
    after_handing_over = await stack.api.post(f"/cases/{case_id}/approvals", headers=sari,
                                              json={"decision": "approve", "reason": "no longer mine"})
    assert after_handing_over.status_code == 409 and "reassigned the case last" in after_handing_over.json()["detail"]

    # One that slips past the API (straight to the workflow) is refused there, and said so on the timeline: once
    # the workflow has written that line it has handled the signal, and nothing was paid.
    await stack.env.client.get_workflow_handle(case_id).signal(
        "decide", Decision(approved=True, reason="straight to the workflow", decided_by="sari.supervisor"))

    async def refused_by_the_workflow() -> list[str]:
        return [entry["note"] for entry in (await stack.api.get(f"/cases/{case_id}/timeline")).json()
                if entry["actor"] == "engine" and "decision by sari.supervisor refused" in entry["note"]]

    assert await eventually(refused_by_the_workflow)
    assert stack.refunds(case_id) == [] and stack.case(case_id).status == "waiting_on_approval"

    sami = stack.key("sami.supervisor", Scope.cases_read, Scope.cases_approve)
    approved = await stack.api.post(f"/cases/{case_id}/approvals", headers=sami,
                                    json={"decision": "approve", "reason": "clear billing error"})
    assert approved.status_code == 202
    [refund] = await eventually(lambda: stack.refunds(case_id))
    assert refund.amount_minor == 1400
    notes = [entry["note"] for entry in (await stack.api.get(f"/cases/{case_id}/timeline")).json()]
    assert any("owner sari.supervisor -> aino.agent by sari.supervisor: going on holiday" in n for n in notes)
    refusals = [n for n in notes if "decision by sari.supervisor refused" in n]
    assert len(refusals) == 3, "the API's two 409s and the workflow's refusal are all on the timeline"
    assert any("owns the case" in n for n in refusals) and any("reassigned the case last" in n for n in refusals)
    assert any("approved by sami.supervisor: clear billing error" in n for n in notes)
    late = await stack.api.post(f"/cases/{case_id}/approvals", headers=sami,
                                json={"decision": "reject", "reason": "changed my mind"})
    assert late.status_code == 409 and "not waiting" in late.json()["detail"]
