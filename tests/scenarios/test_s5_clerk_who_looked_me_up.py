"""S5, the clerk who looked me up: after a customer's critical feedback, a clerk took the customer's details from
the company's records and contacted their employer.

Here the clerk asks for the customer's phone number without owning a case of theirs: refused, flagged, and the
data protection officer is told. The customer complains; the data-misuse investigation lists every read of their
data (the refused one too), tells the DPO, escalates to the supervisors before the legal month runs short, and
answers the customer truthfully before it runs out.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.api.enums.v1 import EventType

from schemas.auth import PrincipalKind, Scope
from schemas.privacy import PrivacyPolicy
from schemas.progress import CaseOutcome
from store.tables import AccessRecordRow, SandboxOutboxEntry
from tests.harness import Stack, eventually

pytestmark = pytest.mark.both_databases  # the read model's behaviour on SQLite and PostgreSQL alike

NAME, PHONE, EMAIL = "Minna Korhonen", "+358405550123", "minna.korhonen@example.fi"
OWNER, CLERK, INVESTIGATOR = "aino.agent", "ville.clerk", "legal.counsel"
DPO, SUPERVISORS = "dpo@example.com", "supervisors@example.com"


def repair_complaint(external_id: str = "svc-3310") -> dict:
    """The customer's own, earlier case: a device left for repair, owned by Aino."""
    return {"external_id": external_id, "kind": "overcharge", "source": "contact_centre", "owner": OWNER,
            "store": "Operator shop, Kamppi", "amount": {"amount_minor": 1400, "currency": "EUR"},
            "customer": {"name": NAME, "phone": PHONE, "email": EMAIL, "language": "en"}}


def misuse_complaint(external_id: str = "dpo-request-17") -> dict:
    return {"external_id": external_id, "kind": "data_misuse", "source": "feedback_form", "owner": INVESTIGATOR,
            "occurred_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
            "description": "A clerk of yours contacted my employer about my blog post, 30 minutes after my visit.",
            "customer": {"name": NAME, "email": EMAIL, "language": "en"}}


def emails_to(stack: Stack, address: str) -> list[SandboxOutboxEntry]:
    return stack.rows(SandboxOutboxEntry, to_address=address)


async def sent_at(stack: Stack, case_id: str, template: str) -> list[datetime]:
    """When the workflow sent each message of `template`, on Temporal's clock (from the case's history)."""
    history = await stack.env.client.get_workflow_handle(case_id).fetch_history()
    return [event.event_time.ToDatetime(tzinfo=UTC) for event in history.events
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
            and event.activity_task_scheduled_event_attributes.activity_type.name == "send_message"
            and template.encode() in event.activity_task_scheduled_event_attributes.input.payloads[0].data]


async def received_at(stack: Stack, case_id: str) -> datetime:
    history = await stack.env.client.get_workflow_handle(case_id).fetch_history()
    return history.events[0].event_time.ToDatetime(tzinfo=UTC)


async def clerk_asks_for_the_phone_number(stack: Stack, case_id: str) -> None:
    clerk = stack.key(CLERK, Scope.cases_read, Scope.cases_act)
    refused = await stack.api.post(f"/cases/{case_id}/reveal", headers=clerk, json={
        "fields": ["phone"], "purpose": "telling the customer's employer about their blog post"})
    assert refused.status_code == 403, refused.text
    assert "refused and recorded" in refused.json()["detail"] and OWNER in refused.json()["detail"]
    masked = await stack.api.get(f"/cases/{case_id}", headers=clerk)
    assert masked.status_code == 200 and PHONE not in masked.text, "the case view never shows the number"


async def test_a_refused_look_up_is_flagged_and_the_customer_is_answered_within_the_month(stack: Stack):
    own_case = (await stack.api.post("/incidents", json=repair_complaint())).json()["case_id"]
    await eventually(lambda: stack.texts_to(PHONE))
    await clerk_asks_for_the_phone_number(stack, own_case)

    [flagged] = stack.rows(AccessRecordRow, flagged=True)
    assert (flagged.actor, flagged.role, flagged.fields, flagged.case_id) == (CLERK, "agent", ["phone"], own_case)
    [notice] = await eventually(lambda: emails_to(stack, DPO))
    assert CLERK in notice.body and own_case in notice.body and PHONE not in notice.body

    case_id = (await stack.api.post("/incidents", json=misuse_complaint())).json()["case_id"]
    await eventually(lambda: len(emails_to(stack, DPO)) == 2)
    assert "1 refused" in emails_to(stack, DPO)[1].body, "the DPO hears of the complaint, with the reads"

    received = await received_at(stack, case_id)
    rules = PrivacyPolicy()
    await stack.skip(rules.escalation_at(received) - received - timedelta(hours=1))
    assert emails_to(stack, SUPERVISORS) == [], "no escalation before 75 % of the month"
    await stack.skip(timedelta(hours=2))
    [escalation] = await eventually(lambda: emails_to(stack, SUPERVISORS))
    assert "not answered yet" in escalation.body and "escalated to the supervisors" in escalation.body

    findings = {"misuse_confirmed": True, "actions": "The clerk's access to customer data was withdrawn.",
                "findings": "A clerk asked for your phone number without a case of yours; the system refused."}
    stranger = await stack.api.post(f"/cases/{case_id}/findings", json=findings,
                                    headers=stack.key(CLERK, Scope.cases_read, Scope.cases_act))
    assert stranger.status_code == 403, "only the case's owner or a supervisor records findings"
    investigator = stack.key(INVESTIGATOR, Scope.cases_read, Scope.cases_act)
    assert (await stack.api.post(f"/cases/{case_id}/findings", json=findings, headers=investigator)).status_code == 202

    assert await stack.env.client.get_workflow_handle(case_id).result() == CaseOutcome.customer_informed
    [answer] = emails_to(stack, EMAIL)
    assert "a customer service agent tried to read your phone number. This was refused" in answer.body
    assert "reported to our data protection officer" in answer.body
    assert "personal data was misused, and we apologise" in answer.body and findings["actions"] in answer.body
    assert CLERK not in answer.body, "the customer is told the role, not the employee's name"
    [answered] = await sent_at(stack, case_id, "data_misuse/answer")
    assert received < answered < rules.answer_due(received), "answered within the legal month"


async def test_without_findings_in_time_the_customer_is_answered_before_the_deadline_then_told_the_outcome(
        stack: Stack):
    case_id = (await stack.api.post("/incidents", json=misuse_complaint("dpo-request-18"))).json()["case_id"]
    await eventually(lambda: emails_to(stack, DPO))
    received, rules = await received_at(stack, case_id), PrivacyPolicy()

    await stack.skip(rules.answer_by(received) - received + timedelta(hours=1))
    [answer] = await eventually(lambda: emails_to(stack, EMAIL))
    assert "No reads are recorded" in answer.body and "investigation is still going on" in answer.body
    [answered] = await sent_at(stack, case_id, "data_misuse/answer")
    assert answered < rules.answer_due(received)

    supervisor = stack.key("sari.supervisor", Scope.cases_read, Scope.cases_act, Scope.cases_approve)
    recorded = await stack.api.post(f"/cases/{case_id}/findings", headers=supervisor, json={
        "misuse_confirmed": False, "findings": "No read of your data is recorded besides this investigation's.",
        "actions": "We checked every system that holds your contact details."})
    assert recorded.status_code == 202, recorded.text
    assert await stack.env.client.get_workflow_handle(case_id).result() == CaseOutcome.not_confirmed
    outcome = emails_to(stack, EMAIL)[1]
    assert "completed the investigation" in outcome.body and "not found that your personal data was misused" in \
        outcome.body


async def test_the_owner_reads_the_number_for_a_stated_purpose_on_the_record(stack: Stack):
    case_id = (await stack.api.post("/incidents", json=repair_complaint("svc-3311"))).json()["case_id"]
    await eventually(lambda: stack.texts_to(PHONE))
    await stack.api.post("/webhooks/twilio/sms", data={"From": PHONE, "Body": "hello?", "MessageSid": "SM-5"},
                         headers=stack.key("twilio", Scope.messages_inbound, kind=PrincipalKind.carrier))
    owner = stack.key(OWNER, Scope.cases_read, Scope.cases_act)

    detail = (await stack.api.get(f"/cases/{case_id}", headers=owner)).json()
    assert detail["customer_name"] == NAME, "the name is shown: agents talk to the customer by it"
    assert {message["to_address"] for message in detail["messages"] if message["to_address"]} == {"+358 *** 23"}
    timeline = (await stack.api.get(f"/cases/{case_id}/timeline", headers=owner)).text
    assert PHONE not in timeline and EMAIL not in timeline

    too_vague = await stack.api.post(f"/cases/{case_id}/reveal", headers=owner, json={"fields": ["phone"],
                                                                                     "purpose": "work"})
    assert too_vague.status_code == 422
    revealed = await stack.api.post(f"/cases/{case_id}/reveal", headers=owner, json={
        "fields": ["phone", "email"], "purpose": "calling the customer back about the refund"})
    assert revealed.status_code == 200, revealed.text
    assert (revealed.json()["phone"], revealed.json()["email"], revealed.json()["ibans"]) == (PHONE, EMAIL, None)
    [record] = stack.rows(AccessRecordRow, case_id=case_id)
    assert (record.actor, record.role, record.fields, record.flagged) == (OWNER, "agent", ["email", "phone"], False)
    assert record.purpose == "calling the customer back about the refund"
    assert revealed.json()["access_record_id"] == record.id

    listed = (await stack.api.get("/customers/access-records", params={"case_id": case_id})).json()
    assert [entry["id"] for entry in listed] == [record.id], "the DPO sees it in the audit trail"
    forbidden = await stack.api.get("/customers/access-records", headers=owner)
    assert forbidden.status_code == 403, "the audit trail is for administrators (the DPO)"
