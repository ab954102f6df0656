"""Records the histories of today's types that the replay test replays: `python -m tests.replay.record <name> ...`.

It writes only the histories it is told to (with none named: those not recorded yet), and never replaces one:
a failing replay means the change would break cases that are open now; guard it with `workflow.patched` instead.
A new workflow type records its history from its own scenario test (`Stack.keep_history`):
`RECORD_HISTORY=<kind> .venv/bin/python -m pytest tests/scenarios/test_<kind>.py` (what `workflows.new` sets up).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from schemas.auth import PrincipalKind, Scope
from schemas.privacy import PrivacyPolicy
from schemas.steps import Decision
from stack.binaries import temporal_test_server
from store.tables import MajorIncidentRow, SandboxOutboxEntry
from temporal_client import data_converter
from tests.harness import HISTORIES, Stack, eventually, save_history, test_settings
from tests.scenarios.test_s1_till_overcharge import PHONE, till_record
from tests.scenarios.test_s2_ticket_paid_twice import paid_twice
from tests.scenarios.test_s3_s4_complaints import PHONE as COMPLAINT_PHONE
from tests.scenarios.test_s3_s4_complaints import complaint, personal_reply
from tests.scenarios.test_s5_clerk_who_looked_me_up import EMAIL as S5_EMAIL
from tests.scenarios.test_s5_clerk_who_looked_me_up import PHONE as S5_PHONE
from tests.scenarios.test_s5_clerk_who_looked_me_up import (
    clerk_asks_for_the_phone_number,
    emails_to,
    misuse_complaint,
    received_at,
    repair_complaint,
)
from tests.webhook_receiver import WebhookReceiver
from workflows.webhook_delivery import stream_id


async def _scored_after_the_follow_up(stack: Stack, case_id: str, thanked: int, score: str) -> str:
    """Once the thank-you (the `thanked`th text) is out, the follow-up delay passes and the customer scores."""
    await eventually(lambda: stack.texts_to(PHONE)[thanked - 1:])
    await stack.skip(stack.settings.policy.follow_up_delay)
    await eventually(lambda: stack.texts_to(PHONE)[thanked:])
    await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": score})
    return case_id


async def _record_overcharge(stack: Stack) -> str:
    case_id = (await stack.api.post("/transactions", json=till_record("R-1"))).json()["case"]["case_id"]
    await eventually(lambda: stack.texts_to(PHONE))
    await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": "2"})
    return await _scored_after_the_follow_up(stack, case_id, thanked=2, score="4")


async def _record_overcharge_not_understood(stack: Stack) -> str:
    """Two replies the case cannot read (the `a-reply-not-understood-is-asked-again` patch): asked again, then
    with the owner, who records the customer's answer; then the follow-up."""
    case_id = (await stack.api.post("/transactions", json=till_record("R-8"))).json()["case"]["case_id"]
    await eventually(lambda: stack.texts_to(PHONE))
    await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": "what?"})
    await eventually(lambda: stack.texts_to(PHONE)[1:])
    await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": "en ymmärrä"})
    await eventually(lambda: stack.case(case_id).status == "needs_attention")
    await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "agent", "intent": {
        "kind": "refund_destination", "destination": {"kind": "original_card"}}})
    return await _scored_after_the_follow_up(stack, case_id, thanked=3, score="4")


async def _record_overcharge_read_widely(stack: Stack) -> str:
    """Replies read as customers write them (the `replies-read-as-customers-write` patch): an account refused in
    its own clause is asked again; "krotille kiitos" (misspelt) is the card; "viisi" is the score."""
    case_id = (await stack.api.post("/transactions", json=till_record("R-11"))).json()["case"]["case_id"]
    await eventually(lambda: stack.texts_to(PHONE))
    await stack.api.post(f"/cases/{case_id}/replies", json={
        "channel": "sms", "text": "älä maksa tilille FI21 1234 5600 0007 85", "sender": PHONE})
    await eventually(lambda: stack.texts_to(PHONE)[1:])
    await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": "krotille kiitos"})
    return await _scored_after_the_follow_up(stack, case_id, thanked=3, score="viisi")


async def _record_overcharge_stopped_and_cancelled(stack: Stack) -> str:
    """A STOP by text (the shared opt-out rule, patched in) and then a cancel at a safe point."""
    case_id = (await stack.api.post("/transactions", json=till_record("R-7"))).json()["case"]["case_id"]
    await eventually(lambda: stack.texts_to(PHONE))
    carrier = stack.key("twilio", Scope.messages_inbound, kind=PrincipalKind.carrier)
    await stack.api.post("/webhooks/twilio/sms", headers=carrier,
                         data={"From": PHONE, "Body": "STOP", "MessageSid": "SM-record-stop"})
    await stack.api.post(f"/cases/{case_id}/cancel", json={"reason": "recorded for replay"})


async def _record_overcharge_account_proven(stack: Stack) -> str:
    """An IBAN by email (a sender we cannot authenticate), proven with the code texted to the number on file."""
    case_id = (await stack.api.post("/transactions", json=till_record("R-8"))).json()["case"]["case_id"]
    await eventually(lambda: stack.texts_to(PHONE))
    await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "email", "sender": "maija@example.fi",
                                                            "text": "FI21 1234 5600 0007 85"})
    [_, code_text] = await eventually(lambda: stack.texts_to(PHONE)[1:] and stack.texts_to(PHONE))
    code = code_text.body.split("code ")[1][:6]
    await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": code, "sender": PHONE})
    await eventually(lambda: stack.refunds(case_id))
    await stack.skip(stack.settings.policy.follow_up_delay)
    await eventually(lambda: stack.texts_to(PHONE)[3:])
    await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": "4", "sender": PHONE})
    return case_id


async def _record_undercharge(stack: Stack) -> str:
    lines = [{"product": "Espresso machine", "unit_price_minor": 34900, "quantity": 1}]
    record = till_record("R-2", charged_minor=24900, lines=lines)
    return (await stack.api.post("/transactions", json=record)).json()["case"]["case_id"]


async def _record_duplicate_purchase(stack: Stack) -> str:
    incident = paid_twice("R-3")
    incident["customer"]["phone"] = PHONE
    case_id = (await stack.api.post("/incidents", json=incident)).json()["case_id"]
    await eventually(lambda: stack.rows(SandboxOutboxEntry, channel="voice"))
    await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "agent", "text": "FI21 1234 5600 0007 85"})
    await eventually(lambda: stack.refunds(case_id))
    await stack.skip(stack.settings.policy.follow_up_delay)
    await eventually(lambda: len(stack.rows(SandboxOutboxEntry, channel="voice")) == 3)
    await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "agent", "text": "",
                                                            "intent": {"kind": "satisfaction", "score": 5}})
    return case_id


async def _record_complaint(stack: Stack) -> str:
    case_id = (await stack.api.post("/incidents", json=complaint("R-4"))).json()["case_id"]
    await stack.skip(timedelta(hours=30))  # long enough for the SLA watch to warn and escalate
    await stack.api.post(f"/cases/{case_id}/responses", json=personal_reply(),
                         headers=stack.key("aino.agent", Scope.cases_act))
    await eventually(lambda: stack.case(case_id).status == "waiting_on_approval")
    return await _approved_and_followed_up(stack, case_id)


async def _approved_and_followed_up(stack: Stack, case_id: str) -> str:
    """A second supervisor approves; the refund, the follow-up and a good score close the complaint."""
    await stack.api.post(f"/cases/{case_id}/approvals", headers=stack.key("sami", Scope.cases_approve),
                         json={"decision": "approve", "reason": "recorded for replay"})
    await eventually(lambda: stack.refunds(case_id))
    await stack.skip(stack.settings.policy.follow_up_delay)
    await eventually(lambda: len(stack.texts_to(COMPLAINT_PHONE)) == 4)
    await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": "5"})
    return case_id


async def _record_data_misuse(stack: Stack) -> str:
    """The refused look-up, the complaint, no findings in time (escalation, interim answer), then the outcome."""
    own_case = (await stack.api.post("/incidents", json=repair_complaint("R-5"))).json()["case_id"]
    await eventually(lambda: stack.texts_to(S5_PHONE))
    await clerk_asks_for_the_phone_number(stack, own_case)
    case_id = (await stack.api.post("/incidents", json=misuse_complaint("R-6"))).json()["case_id"]
    received = await received_at(stack, case_id)
    await stack.skip(PrivacyPolicy().answer_by(received) - received + timedelta(hours=1))
    await eventually(lambda: emails_to(stack, S5_EMAIL))
    await stack.api.post(f"/cases/{case_id}/findings", headers=stack.key("legal.counsel", Scope.cases_act), json={
        "misuse_confirmed": True, "findings": "A clerk asked for the number without a case; refused.",
        "actions": "Recorded for replay."})
    return case_id


async def _record_webhook_delivery(stack: Stack) -> str:
    """A staff tool's endpoint that fails once, then takes the event."""
    with WebhookReceiver(answers=[500, 200]) as receiver:
        endpoint = (await stack.api.post("/webhook-endpoints", json={
            "url": receiver.url, "event_types": ["case.opened"], "owner_email": "ops@example.com"})).json()
        case_id = (await stack.api.post("/transactions", json=till_record("R-7"))).json()["case"]["case_id"]
        await eventually(lambda: len(receiver.deliveries) == 2)
    await stack.skip(timedelta(minutes=1))  # the stream waits a while for the case's next event, then ends
    return stream_id(endpoint["id"], case_id)


async def _record_four_eyes(stack: Stack) -> str:
    """A complaint whose owner hands it over and then tries to approve it past the API: refused in the
    workflow (the `four-eyes-owner-and-reassigner` patch), then approved by a second supervisor."""
    sari = stack.key("sari.supervisor", Scope.cases_act, Scope.cases_approve)
    case_id = (await stack.api.post("/incidents", json=complaint("R-7", owner="sari.supervisor"))).json()["case_id"]
    await stack.api.post(f"/cases/{case_id}/responses", json=personal_reply("Sari"), headers=sari)
    await eventually(lambda: stack.case(case_id).status == "waiting_on_approval")
    await stack.api.post(f"/cases/{case_id}/assign", headers=sari, json={"owner": "aino.agent", "reason": "away"})
    await eventually(lambda: stack.case(case_id).owner == "aino.agent")
    await stack.env.client.get_workflow_handle(case_id).signal(
        "decide", Decision(approved=True, reason="past the API", decided_by="sari.supervisor"))
    return await _approved_and_followed_up(stack, case_id)


async def _record_major_incident(stack: Stack) -> str:
    """A major incident of three listed customers, paused before its approval, resumed, then cancelled."""
    sari = stack.key("sari.supervisor", Scope.cases_read, Scope.cases_act, Scope.cases_approve)
    affected = [{"store": "Prisma Kaleva", "transaction_ref": f"R-9-{number}",
                 "customer": {"name": f"Asiakas{number} Virtanen", "phone": f"+35840900000{number}"},
                 "amount": {"amount_minor": 100, "currency": "EUR"}} for number in range(3)]
    major_id = (await stack.api.post("/major-incidents", json={
        "title": "Coffee priced 5.95", "description": "The till's price list was wrong.", "stores": ["Prisma Kaleva"],
        "window_start": "2026-11-21T08:00:00+00:00", "window_end": "2026-11-23T08:00:00+00:00",
        "affected": affected})).json()["id"]
    await stack.api.post(f"/major-incidents/{major_id}/pause", headers=sari)
    await stack.api.post(f"/major-incidents/{major_id}/approvals", headers=sari,
                         json={"cap": {"amount_minor": 500, "currency": "EUR"}})
    await eventually(lambda: stack.rows(MajorIncidentRow, id=major_id)[0].status == "paused")
    await stack.api.post(f"/major-incidents/{major_id}/resume", headers=sari)
    await eventually(lambda: stack.rows(MajorIncidentRow, id=major_id)[0].status == "all_opened")
    await stack.api.post(f"/major-incidents/{major_id}/cancel", headers=sari, json={"reason": "declared in error"})
    return major_id


RECORDINGS = {"overcharge": _record_overcharge, "undercharge": _record_undercharge,
              "overcharge_stopped_and_cancelled": _record_overcharge_stopped_and_cancelled,
              "overcharge_not_understood": _record_overcharge_not_understood,
              "duplicate_purchase": _record_duplicate_purchase, "complaint": _record_complaint,
              "data_misuse": _record_data_misuse, "webhook_delivery": _record_webhook_delivery,
              "complaint_four_eyes": _record_four_eyes,
              "overcharge_account_proven": _record_overcharge_account_proven,
              "major_incident": _record_major_incident,
              "overcharge_read_widely": _record_overcharge_read_widely}


async def main(names: list[str], histories: Path = HISTORIES) -> list[str]:
    """Records the named histories (with none named, those not recorded yet) and returns their names. Refuses,
    before recording anything, a name it has no recording for or a history already recorded."""
    if unknown := [name for name in names if name not in RECORDINGS]:
        raise SystemExit(f"no recording here for {', '.join(unknown)}: a type's history is recorded by its scenario "
                         f"test: RECORD_HISTORY=<name> .venv/bin/python -m pytest tests/scenarios/test_<kind>.py")
    todo = names or [name for name in RECORDINGS if not (histories / f"{name}.json").exists()]
    if recorded := [name for name in todo if (histories / f"{name}.json").exists()]:
        raise SystemExit(f"already recorded, never re-recorded: {', '.join(recorded)} (patch the workflow instead)")
    with tempfile.TemporaryDirectory() as tmp:
        settings = test_settings(Path(tmp)).model_copy(update={  # receivers on localhost, retried at once
            "webhook_allow_private_networks": True, "webhook_retry_schedule": [timedelta(seconds=1)]})
        async with await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=temporal_test_server(), data_converter=data_converter(settings)
        ) as env, Stack.running(env, settings) as stack:
            for name in todo:
                await save_history(env.client.get_workflow_handle(await RECORDINGS[name](stack)),
                                   histories / f"{name}.json")
                print(f"recorded {name}")
    return todo


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
