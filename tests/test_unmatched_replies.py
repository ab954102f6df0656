"""A reply that matched no case, placed on one by a person (POST /replies/unmatched/{id}/attach): the case's
workflow reads it as it reads a matched reply, once; a bank account it names is paid only with the usual proof;
other tenants' replies and cases are as if they did not exist. Real Temporal, real SQLite, the API over ASGI."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from schemas.auth import PrincipalKind, Scope
from schemas.cases import LiveState
from schemas.channels import Channel
from schemas.incidents import IncidentIn
from schemas.progress import CaseStatus
from schemas.replies import CustomerReply
from settings import Settings
from store.cases import open_case
from store.db import session_for
from store.tables import MessageRow, TimelineRow
from tests.harness import TENANT, Stack, eventually
from tests.scenarios.test_paid_once import IBAN, contact_centre_report
from tests.scenarios.test_s1_till_overcharge import PHONE, till_record
from tests.test_auth import CONSOLE
from tests.test_console_auth import client, session_of
from tests.test_console_input import csrf_of
from tests.test_faults import serving_again, stack_on_own_server

ANOTHER_NUMBER = "+358409999999"
pytestmark = pytest.mark.both_databases  # the conditional update that lets one attach win, on both


@pytest.fixture
def stack(live_stack: Stack) -> Stack:
    return live_stack


def texted(stack: Stack, sender: str, body: str, sid: str, tenant: str = "acme") -> dict:
    """The carrier's webhook for a text, as Twilio posts it (unsigned: no Twilio account in the tests)."""
    carrier = stack.key(f"carrier-{tenant}", Scope.messages_inbound, kind=PrincipalKind.carrier, tenant=tenant)
    return {"url": "/webhooks/twilio/sms", "headers": carrier, "data": {"From": sender, "Body": body,
                                                                         "MessageSid": sid}}


async def unmatched(stack: Stack, agent: dict) -> list[dict]:
    return (await stack.api.get("/replies/unmatched", headers=agent)).json()


async def test_an_attached_reply_naming_an_account_is_paid_only_after_the_code(stack: Stack):
    """A text from a number the case does not know names an account: attached, the case asks for the code at the
    number on file, as for a matched text from another number; paid once the code comes back from there."""
    case_id = (await stack.api.post("/transactions", json=till_record())).json()["case"]["case_id"]
    await eventually(lambda: stack.texts_to(PHONE))
    await stack.api.post(**texted(stack, ANOTHER_NUMBER, f"Maija here, new phone: please pay to {IBAN}", "SM-71"))
    agent = stack.key("aino.agent", Scope.cases_read, Scope.cases_act)
    [message] = await unmatched(stack, agent)
    assert message["from_address"] != ANOTHER_NUMBER and IBAN not in message["body"], "masked in the inbox"
    assert message["senders_open_cases"] == [], "the sender is the customer of no open case"

    attached = await stack.api.post(f"/replies/unmatched/{message['id']}/attach", headers=agent,
                                    json={"case": stack.case(case_id).reference.lower()})
    assert attached.status_code == 202, attached.text
    assert attached.json() == {"case_id": case_id, "intent": None, "delivered_to_workflow": True}
    [_, code_text] = await eventually(lambda: stack.texts_to(PHONE)[1:] and stack.texts_to(PHONE))
    assert "code" in code_text.body and "FI **** 0785" in code_text.body
    assert stack.texts_to(ANOTHER_NUMBER) == [] and stack.refunds(case_id) == [], "nothing paid on an attachment"
    assert any(line.actor == "aino.agent" and "attached to this case by aino.agent" in line.note
               for line in stack.rows(TimelineRow, case_id=case_id)), "who attached it is on the timeline"
    assert [row.id for row in stack.rows(MessageRow, case_id=case_id, direction="in")] == [message["id"]]

    again = await stack.api.post(f"/replies/unmatched/{message['id']}/attach", headers=agent, json={"case": case_id})
    assert again.status_code == 202, "the same attach again re-sends it (a retry after a 503)"
    assert await unmatched(stack, agent) == []

    code = code_text.body.split("code ")[1][:6]
    await stack.api.post(**texted(stack, PHONE, code, "SM-72"))
    [refund] = await eventually(lambda: stack.refunds(case_id))
    assert (refund.destination, refund.amount_minor) == ("bank_account", 995)
    assert len(stack.ledger()) == 1
    assert [text for text in stack.texts_to(PHONE) if "code" in text.body] == [code_text], "read once, asked once"


async def test_an_attached_text_from_the_number_on_file_is_read_as_a_matched_one(stack: Stack):
    """The customer has two open cases and texts an account without a reference: no guess, it waits unmatched.
    Attached to one of them, it is what a matched text from the number on file is: proof, paid at once."""
    first = (await stack.api.post("/transactions", json=till_record())).json()["case"]["case_id"]
    second = (await stack.api.post("/transactions", json=till_record("T-1002"))).json()["case"]["case_id"]
    await eventually(lambda: len(stack.texts_to(PHONE)) == 2)
    local = "0" + PHONE.removeprefix("+358")  # as the carrier writes it
    await stack.api.post(**texted(stack, local, IBAN, "SM-81"))
    agent = stack.key("aino.agent", Scope.cases_read, Scope.cases_act)
    [message] = await unmatched(stack, agent)
    assert sorted(message["senders_open_cases"]) == sorted(stack.case(case).reference for case in (first, second)), \
        "the inbox says whose customer the sender is (review of console-rest, 5)"

    attached = await stack.api.post(f"/replies/unmatched/{message['id']}/attach", headers=agent,
                                    json={"case": second})
    assert attached.status_code == 202, attached.text
    [refund] = await eventually(lambda: stack.refunds(second))
    assert refund.destination == "bank_account"
    assert not any("code" in text.body for text in stack.texts_to(PHONE)), "no code asked: the sender proves it"
    assert stack.refunds(first) == [], "the other case did not get the reply"


async def test_an_attached_call_answer_proves_no_account(stack: Stack):
    """A call's answer is the customer's own only on the call we placed for the case; one whose call named no case
    of ours (so it matched none) proves nothing on the case it is attached to, even from the number on file."""
    case_id = (await stack.api.post("/transactions", json=till_record())).json()["case"]["case_id"]
    await eventually(lambda: stack.texts_to(PHONE))
    carrier = stack.key("carrier-acme", Scope.messages_inbound, kind=PrincipalKind.carrier)
    await stack.api.post("/webhooks/twilio/voice", params={"ref": "case-unknown:contact:1"}, headers=carrier,
                         data={"SpeechResult": IBAN, "To": PHONE, "CallSid": "CA-31"})
    agent = stack.key("aino.agent", Scope.cases_read, Scope.cases_act)
    [message] = await unmatched(stack, agent)
    assert message["channel"] == "voice"
    attached = await stack.api.post(f"/replies/unmatched/{message['id']}/attach", headers=agent,
                                    json={"case": case_id})
    assert attached.status_code == 202, attached.text
    [_, code_text] = await eventually(lambda: stack.texts_to(PHONE)[1:] and stack.texts_to(PHONE))
    assert "code" in code_text.body and stack.refunds(case_id) == [], "asked to confirm, not paid"


def row_only_case(stack: Stack, case_id: str, reference: str, tenant: str = "acme",
                  status: CaseStatus | None = None) -> None:
    """A case row with no workflow behind it (none needed to be refused, or to find that no workflow runs)."""
    incident = IncidentIn.model_validate(contact_centre_report(external_id=case_id))
    with session_for(stack.settings.database_url) as session:
        row = open_case(session, case_id, reference, tenant, "contact-centre", incident, datetime.now(UTC),
                        owner=None)[0]
        if status is not None:
            row.status = status
            session.add(row)
        session.commit()


async def test_attaching_is_refused_clearly_and_leaves_the_reply_in_the_inbox(stack: Stack):
    row_only_case(stack, "case-closed", "C105ED00", status=CaseStatus.closed)
    row_only_case(stack, "case-theirs", "7E1A7700", tenant="globex")
    row_only_case(stack, "case-twin-1", "2B2B2B2B")
    row_only_case(stack, "case-twin-2", "2B2B2B2B")
    row_only_case(stack, "case-stopped", "5709ED00")  # open in the read model, no workflow runs it
    await stack.api.post(**texted(stack, ANOTHER_NUMBER, "is anyone there?", "SM-91"))
    await stack.api.post(**texted(stack, ANOTHER_NUMBER, "their customer", "SM-92", tenant="globex"))
    agent = stack.key("aino.agent", Scope.cases_read, Scope.cases_act)
    [ours] = await unmatched(stack, agent)
    [theirs] = [row.id for row in stack.rows(MessageRow, tenant="globex")]

    async def attach(message_id: int, case: str, headers: dict = agent):
        return await stack.api.post(f"/replies/unmatched/{message_id}/attach", headers=headers, json={"case": case})

    for message_id, case, code, says in [
        (ours["id"], "case-theirs", 404, "no case case-theirs"), (ours["id"], "7E1A7700", 404, "no case"),
        (theirs, "case-stopped", 404, f"no reply {theirs}"), (ours["id"] + 99, "case-stopped", 404, "no reply"),
        (ours["id"], "C105ED00", 409, "case C105ED00 is closed"),
        (ours["id"], "2b2b2b2b", 422, "names 2 cases: give the case id"),
        (ours["id"], "case-stopped", 409, "no longer runs"),
    ]:
        answer = await attach(message_id, case)
        assert (answer.status_code, says in answer.text) == (code, True), (case, answer.text)
    stopped = (await attach(ours["id"], "case-stopped")).json()["detail"]
    assert stopped == "case case-stopped no longer runs: the reply stays in the inbox", "Temporal's own text is logged"
    integrator = stack.key("till", Scope.incidents_write, Scope.cases_read, kind=PrincipalKind.integrator)
    assert (await attach(ours["id"], "case-stopped", integrator)).status_code == 403
    assert (await attach(ours["id"], "", agent)).status_code == 422

    assert [message["id"] for message in await unmatched(stack, agent)] == [ours["id"]], "still in the inbox"
    assert not any("attached" in line.note for line in stack.rows(TimelineRow)), "on no case that did not take it"
    assert [row.case_id for row in stack.rows(MessageRow, tenant="globex")] == [None]


async def test_a_reply_id_beyond_the_databases_integer_is_refused_not_a_500(stack: Stack):
    """messages.id is a 32-bit INTEGER: PostgreSQL fails a query with a larger one, so the API and the console's
    form refuse it first, naming the field (review of console-rest, 1)."""
    row_only_case(stack, "case-any", "A11CA5E0")
    agent = stack.key("aino.agent", Scope.cases_read, Scope.cases_act)
    for message_id in (2**31 - 1, 2**31, 2**40):
        answer = await stack.api.post(f"/replies/unmatched/{message_id}/attach", headers=agent,
                                      json={"case": "case-any"})
        expected = 404 if message_id < 2**31 else 422
        assert answer.status_code == expected, (message_id, answer.text)
        assert expected == 404 or "message_id" in answer.text, answer.text
    token = session_of(stack, TENANT, "inbox.supervisor")
    async with client(stack, token) as browser:
        csrf = csrf_of((await browser.get(f"{CONSOLE}/inbox")).text)
        answer = await browser.post(f"{CONSOLE}/inbox/{2**40}/attach", data={"csrf": csrf, "case": "case-any"})
        assert answer.status_code == 422 and "message_id" in answer.text, answer.text[:300]


async def test_of_parallel_attaches_of_one_reply_to_different_cases_exactly_one_wins(stack: Stack):
    """Four agents attach the same reply at once, each to a case of their own choosing: one 202, three 409 naming
    the winner's case, and the reply is on that case alone (review of console-rest, test gaps)."""
    cases = [(await stack.api.post("/transactions", json=till_record(f"T-20{number}"))).json()["case"]["case_id"]
             for number in range(4)]
    await stack.api.post(**texted(stack, ANOTHER_NUMBER, "which of you has my case?", "SM-95"))
    agent = stack.key("aino.agent", Scope.cases_read, Scope.cases_act)
    [message] = await unmatched(stack, agent)
    answers = await asyncio.gather(*(stack.api.post(f"/replies/unmatched/{message['id']}/attach", headers=agent,
                                                    json={"case": case_id}) for case_id in cases))
    [winner] = [answer.json()["case_id"] for answer in answers if answer.status_code == 202]
    losers = [answer for answer in answers if answer.status_code != 202]
    assert [answer.status_code for answer in losers] == [409] * 3, [answer.text for answer in answers]
    assert all(winner in answer.json()["detail"] for answer in losers), "each refusal names the case it is on"
    assert [row.case_id for row in stack.rows(MessageRow, id=message["id"])] == [winner]
    assert [line.case_id for line in stack.rows(TimelineRow) if "attached" in line.note] == [winner]


async def test_a_temporal_outage_after_the_claim_keeps_the_reply_on_the_case_and_a_retry_sends_it_once(
        settings: Settings, tmp_path: Path):
    """Temporal down after the reply is claimed: 503 with Retry-After, the reply stays on the case (not detached,
    not lost); Temporal back, the same attach again sends it, and a third time changes nothing: the case reads it
    once (one code texted). Attaching it to another case is still 409 (review of console-rest, 2)."""
    async with stack_on_own_server(settings, tmp_path, within=180) as (stack, server):
        case_id = (await stack.api.post("/transactions", json=till_record())).json()["case"]["case_id"]
        await eventually(lambda: stack.texts_to(PHONE), within=30)
        await stack.api.post(**texted(stack, ANOTHER_NUMBER, f"new phone, pay to {IBAN}", "SM-96"))
        agent = stack.key("aino.agent", Scope.cases_read, Scope.cases_act)
        [message] = await unmatched(stack, agent)
        attach = f"/replies/unmatched/{message['id']}/attach"

        server.stop()
        away = await stack.api.post(attach, headers=agent, json={"case": case_id})
        assert away.status_code == 503 and away.headers["Retry-After"], away.text
        assert [row.case_id for row in stack.rows(MessageRow, id=message["id"])] == [case_id], "kept"
        assert await unmatched(stack, agent) == []
        server.start()  # same file, same port
        await serving_again(stack.env.client)

        for _ in range(2):
            again = await stack.api.post(attach, headers=agent, json={"case": case_id})
            assert again.status_code == 202, again.text
        await eventually(lambda: any("code" in text.body for text in stack.texts_to(PHONE)), within=30)
        row_only_case(stack, "case-other", "07E80000")
        elsewhere = await stack.api.post(attach, headers=agent, json={"case": "case-other"})
        assert elsewhere.status_code == 409 and case_id in elsewhere.text, elsewhere.text
        await read_every_signal(stack, case_id, 2)
        await stack.idle(case_id)
        assert len([text for text in stack.texts_to(PHONE) if "code" in text.body]) == 1, "read once"


async def read_every_signal(stack: Stack, case_id: str, signals: int) -> None:
    """Until the workflow has `signals` signals and has finished a workflow task after the last of them."""
    async def read() -> bool:
        events = (await stack.history(case_id)).splitlines()
        signalled = [number for number, line in enumerate(events) if "workflow_execution_signaled" in line]
        return len(signalled) >= signals and any("workflow_task_completed" in line
                                                 for line in events[signalled[-1]:])
    await eventually(read, within=60)


async def test_a_reply_signalled_twice_with_its_message_id_is_read_once(stack: Stack):
    """What a re-sent attach does at the workflow: the same stored message twice is read once (asked again
    once, then nothing more: not handed to the owner as a second misunderstanding), whatever the reply says."""
    case_id = (await stack.api.post("/transactions", json=till_record())).json()["case"]["case_id"]
    await eventually(lambda: stack.texts_to(PHONE))
    unclear = CustomerReply(channel=Channel.sms, text="what is this about?", intent=None,
                            received_at=datetime.now(UTC), sender=PHONE, authenticated=True, message_id=4242)
    handle = stack.env.client.get_workflow_handle(case_id)
    await handle.signal("customer_replied", unclear)
    await read_every_signal(stack, case_id, 1)
    await eventually(lambda: len(stack.texts_to(PHONE)) == 2)  # asked again
    await stack.idle(case_id)
    story = [line.note for line in stack.rows(TimelineRow, case_id=case_id)]

    await handle.signal("customer_replied", unclear)
    await read_every_signal(stack, case_id, 2)
    await stack.idle(case_id)
    assert len(stack.texts_to(PHONE)) == 2, [text.body for text in stack.texts_to(PHONE)]
    assert [line.note for line in stack.rows(TimelineRow, case_id=case_id)] == story, "nothing more happened"


async def test_a_strangers_stop_attached_to_a_case_does_not_stop_its_customer(stack: Stack):
    """A STOP from a number that is not the case's customer's is refused on that case (409, kept in the inbox):
    it would end contact with someone who never asked (review of console-rest, 5)."""
    case_id = (await stack.api.post("/transactions", json=till_record())).json()["case"]["case_id"]
    await eventually(lambda: stack.texts_to(PHONE))
    await stack.api.post(**texted(stack, ANOTHER_NUMBER, "STOP", "SM-98"))
    agent = stack.key("aino.agent", Scope.cases_read, Scope.cases_act)
    [stranger] = await unmatched(stack, agent)
    refused = await stack.api.post(f"/replies/unmatched/{stranger['id']}/attach", headers=agent,
                                   json={"case": case_id})
    assert refused.status_code == 409 and "STOP from someone other than" in refused.text, refused.text
    assert [message["id"] for message in await unmatched(stack, agent)] == [stranger["id"]]
    assert stack.rows(MessageRow, case_id=case_id, direction="in") == []
    state = await stack.env.client.get_workflow_handle(case_id).query("state", result_type=LiveState)
    assert state.opted_out == [], "the customer still hears from us"
