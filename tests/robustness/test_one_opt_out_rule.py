"""One opt-out rule, the consent store's: a STOP by text stops texts and calls together, in the case it answers
and in the customer's other open cases alike, for the rest of each case."""

from __future__ import annotations

from intake import cases as intake_cases
from schemas.auth import PrincipalKind, Scope
from schemas.channels import Channel, stopped_by
from store.consent import record_opt_out
from store.db import session_for
from store.tables import MessageRow, SandboxOutboxEntry
from tests.harness import TENANT, Stack, eventually
from tests.scenarios.test_s1_till_overcharge import PHONE, till_record


def test_the_rule():
    assert stopped_by(Channel.sms) == (Channel.sms, Channel.voice)
    assert stopped_by(Channel.email) == (Channel.email,)


async def test_stop_by_text_means_no_call_and_no_text_afterwards_in_every_open_case(stack: Stack):
    cases = [(await stack.api.post("/transactions", json=till_record(ref))).json()["case"]["case_id"]
             for ref in ("STOP-1", "STOP-2")]
    await eventually(lambda: len(stack.texts_to(PHONE)) == 2)  # each case asked where the money should go

    carrier = stack.key("twilio", Scope.messages_inbound, kind=PrincipalKind.carrier)
    stop = await stack.api.post("/webhooks/twilio/sms", headers=carrier,
                                data={"From": PHONE, "Body": "STOP", "MessageSid": "SM-stop-both"})
    assert stop.status_code == 200
    for case_id in cases:
        live = (await stack.api.get(f"/cases/{case_id}")).json()["live"]
        assert set(live["opted_out"]) == {"sms", "voice"}, case_id

    await stack.skip(stack.settings.policy.reply_timeout)  # no answer: refunded to the card by policy ...
    await eventually(lambda: all(stack.refunds(case_id) for case_id in cases))
    await stack.skip(stack.settings.policy.follow_up_delay)  # ... and the follow-up falls due
    for case_id in cases:
        await stack.idle(case_id)
    to_the_number = stack.rows(SandboxOutboxEntry, to_address=PHONE)
    assert [entry.channel for entry in to_the_number] == ["sms", "sms"], "nothing after STOP: no thanks, no call"


async def test_a_stop_the_case_did_not_start_with_is_honoured_by_the_carrier_step(stack: Stack, monkeypatch):
    """A STOP that lands while a case is being opened (after intake read the consent store, before the workflow
    sends): the consent store has the last word at the send, so the number is neither texted nor called."""
    monkeypatch.setattr(intake_cases, "opted_out_channels", lambda session, tenant, phone, email: [])  # too early
    with session_for(stack.settings.database_url) as session:
        record_opt_out(session, TENANT, PHONE, Channel.sms)
    case_id = (await stack.api.post("/transactions", json=till_record("STOP-3"))).json()["case"]["case_id"]
    await eventually(lambda: stack.case(case_id).status == "needs_attention")
    assert stack.rows(SandboxOutboxEntry, to_address=PHONE) == [], "no text and no call after the STOP"
    refused = stack.rows(MessageRow, case_id=case_id, direction="out")
    assert {(row.channel, row.status) for row in refused} <= {("sms", "rejected"), ("voice", "rejected")}
    assert refused and all("opted out" in row.provider_ref for row in refused)
