"""S3, six days of silence, and S4, "we do not respond personally": every complaint is acknowledged at once,
answered personally before its promise breaks (or escalated), put right with goodwill, and followed up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from schemas.auth import Scope
from sla.calendar import BusinessCalendar
from store.tables import CompensationRow, SandboxOutboxEntry
from tests.harness import Stack, eventually

PHONE = "+358407654321"
OWNER = "aino.agent"
# Friday 3 December 2027, 16:00 in Helsinki; Monday 6 December is Independence Day.
FRIDAY_BEFORE_HOLIDAY = datetime(2027, 12, 3, 14, 0, tzinfo=UTC)


def complaint(external_id: str, source: str = "social_media", **changes) -> dict:
    body = {"external_id": external_id, "kind": "complaint", "source": source, "owner": OWNER,
            "topic": "14 € charged too much for the sports package", "store": "Elisa Viihde",
            "amount": {"amount_minor": 1400, "currency": "EUR"},
            "customer": {"name": "Jari Virtanen", "phone": PHONE, "language": "en"}}
    return {**body, **changes}


def personal_reply(agent: str = "Aino") -> dict:
    return {"agent_name": agent, "text": "Hello Jari, you are right: we charged you 14,00 € too much for the "
                                        f"sports package. I have put it right today. Best regards, {agent}"}


def emails_to(stack: Stack, address: str) -> list[SandboxOutboxEntry]:
    return stack.rows(SandboxOutboxEntry, to_address=address)


async def clock_to(stack: Stack, instant: datetime) -> None:
    await stack.skip(instant - await stack.env.get_current_time())


async def live_sla(stack: Stack, case_id: str) -> dict[str, dict]:
    live = (await stack.api.get(f"/cases/{case_id}")).json()["live"]
    return {clock["name"]: clock for clock in live["sla"]["clocks"]}


async def test_s3_public_complaint_before_a_holiday_is_escalated_then_put_right(stack: Stack):
    await clock_to(stack, FRIDAY_BEFORE_HOLIDAY)
    case_id = (await stack.api.post("/incidents", json=complaint("tweet-7781"))).json()["case_id"]

    [acknowledgement] = await eventually(lambda: stack.texts_to(PHONE))
    assert "14 € charged too much for the sports package" in acknowledgement.body
    assert "by Tuesday 7 December 2027 at 12:00" in acknowledgement.body
    sla = await live_sla(stack, case_id)
    assert sla["first_reply"]["deadline"] == "2027-12-07T10:00:00Z", "4 business hours, after the weekend and holiday"
    assert (await stack.api.get(f"/cases/{case_id}")).json()["priority"] == "high"

    await clock_to(stack, datetime(2027, 12, 7, 9, 1, tzinfo=UTC))  # 75 % of the reply target used
    [warning] = await eventually(lambda: emails_to(stack, f"{OWNER}@example.com"))
    assert "owner warned" in warning.body and emails_to(stack, "supervisors@example.com") == []
    await clock_to(stack, datetime(2027, 12, 7, 10, 1, tzinfo=UTC))  # past the deadline
    [breach] = await eventually(lambda: emails_to(stack, "supervisors@example.com"))
    assert "escalated to the supervisors" in breach.body
    breached = (await stack.api.get("/cases", params={"sla": "breached"})).json()
    assert [case["id"] for case in breached["items"]] == [case_id]

    agent = stack.key(OWNER, Scope.cases_act, Scope.cases_approve)
    reply = await stack.api.post(f"/cases/{case_id}/responses", json=personal_reply(), headers=agent)
    assert reply.status_code == 202
    await eventually(lambda: len(stack.texts_to(PHONE)) == 2)
    assert stack.texts_to(PHONE)[1].body.startswith("Hello Jari, you are right")

    await eventually(lambda: stack.case(case_id).status == "waiting_on_approval")
    assert stack.refunds(case_id) == [], "nothing is paid before the approval"
    own = await stack.api.post(f"/cases/{case_id}/approvals", headers=agent,
                               json={"decision": "approve", "reason": "my own case"})
    assert own.status_code == 409 and "four eyes" in own.json()["detail"]
    supervisor = stack.key("sami.supervisor", Scope.cases_approve)
    approve = await stack.api.post(f"/cases/{case_id}/approvals", headers=supervisor,
                                   json={"decision": "approve", "reason": "clear billing error, public case"})
    assert approve.status_code == 202

    [refund] = await eventually(lambda: stack.refunds(case_id))
    assert (refund.amount_minor, refund.currency) == (1400, "EUR")
    [voucher] = await eventually(lambda: stack.rows(CompensationRow, case_id=case_id))  # the step after the refund
    assert (voucher.product, voucher.amount_minor) == ("one month of the sports package", 2990)
    put_right = await eventually(lambda: stack.texts_to(PHONE)[2:])
    assert "refunded €14.00" in put_right[0].body and voucher.code in put_right[0].body

    await stack.skip(stack.settings.policy.follow_up_delay)
    await eventually(lambda: len(stack.texts_to(PHONE)) == 4)
    await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": "4"})
    assert await stack.env.client.get_workflow_handle(case_id).result() == "recovered"
    case = (await stack.api.get(f"/cases/{case_id}")).json()
    assert (case["status"], case["satisfaction"], len(stack.ledger())) == ("closed", 4, 1)


async def test_s4_a_bare_template_is_refused_and_a_personal_reply_meets_the_sla(stack: Stack):
    case_id = (await stack.api.post("/incidents", json=complaint("form-3001", source="feedback_form"))).json()[
        "case_id"]
    await eventually(lambda: stack.texts_to(PHONE))
    agent = stack.key(OWNER, Scope.cases_act)

    bare = {"agent_name": "Aino", "text": "Hello [customer name], thank you for your feedback. Regards, [agent]"}
    refused = await stack.api.post(f"/cases/{case_id}/responses", json=bare, headers=agent)
    assert refused.status_code == 422
    reasons = " | ".join(error["msg"] for error in refused.json()["detail"])
    assert "bare template" in reasons and "does not name the customer (Jari)" in reasons
    assert "states no fact of this case" in reasons and "not signed with the agent's name (Aino)" in reasons

    accepted = await stack.api.post(f"/cases/{case_id}/responses", json=personal_reply(), headers=agent)
    assert accepted.status_code == 202
    await eventually(lambda: len(stack.texts_to(PHONE)) == 2)
    sla = await live_sla(stack, case_id)
    assert sla["first_reply"]["met_at"] is not None and sla["first_reply"]["state"] == "on_track"
    assert (await stack.api.get(f"/cases/{case_id}")).json()["priority"] == "normal"


async def test_an_approval_not_given_in_time_escalates(stack: Stack):
    case_id = (await stack.api.post("/incidents", json=complaint("tweet-7782"))).json()["case_id"]
    await eventually(lambda: stack.texts_to(PHONE))
    agent = stack.key(OWNER, Scope.cases_act)
    await stack.api.post(f"/cases/{case_id}/responses", json=personal_reply(), headers=agent)
    await eventually(lambda: stack.case(case_id).status == "waiting_on_approval")
    assert [e.to_address for e in emails_to(stack, "supervisors@example.com")] == ["supervisors@example.com"]

    await stack.skip(stack.settings.policy.approval_timeout + timedelta(minutes=1))
    [escalation] = await eventually(lambda: emails_to(stack, "head.of.service@example.com"))
    assert "no decision on refund and goodwill" in escalation.body
    assert stack.refunds(case_id) == []


async def test_time_waiting_for_the_customer_does_not_count_against_the_sla(stack: Stack):
    small = {"amount_minor": 100, "currency": "EUR"}  # goodwill capped at 3 x 1 EUR: no approval needed
    case_id = (await stack.api.post("/incidents", json=complaint("form-3002", source="feedback_form",
                                                                 amount=small))).json()["case_id"]
    await stack.api.post(f"/cases/{case_id}/responses", headers=stack.key(OWNER, Scope.cases_act), json={
        "agent_name": "Aino", "text": "Hello Jari, about the sports package on Elisa Viihde: it is fixed. Aino"})
    await eventually(lambda: len(stack.texts_to(PHONE)) == 3)  # acknowledgement, reply, put right
    before = (await live_sla(stack, case_id))["resolution"]["deadline"]

    await stack.skip(stack.settings.policy.follow_up_delay)  # the satisfaction question: the clock pauses
    await eventually(lambda: len(stack.texts_to(PHONE)) == 4)
    asked_at = await stack.env.get_current_time()
    assert (await live_sla(stack, case_id))["resolution"]["state"] == "paused"
    # The customer answers two business hours later, wherever the shared test clock stands (weekends too).
    await clock_to(stack, BusinessCalendar().add_business_time(asked_at, timedelta(hours=2)))
    answered_at = await stack.env.get_current_time()
    await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": "5"})
    await stack.env.client.get_workflow_handle(case_id).result()

    paused = BusinessCalendar().business_time_between(asked_at, answered_at)
    after = (await live_sla(stack, case_id))["resolution"]["deadline"]
    shifted = BusinessCalendar().add_business_time(datetime.fromisoformat(before), paused)
    assert paused >= timedelta(hours=2)
    assert abs(datetime.fromisoformat(after) - shifted) < timedelta(seconds=2), (before, after, paused)
