"""Contact rules every workflow type shares: no texts at night in the customer's time zone, STOP honoured,
email fallback when texts are refused."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from schemas.auth import PrincipalKind, Scope
from schemas.policy import ContactPolicy
from settings import Settings
from store.tables import SandboxOutboxEntry
from tests.harness import Stack, eventually
from tests.scenarios.test_s1_till_overcharge import PHONE, till_record

pytestmark = pytest.mark.both_databases  # the read model's behaviour on SQLite and PostgreSQL alike

HELSINKI = ZoneInfo("Europe/Helsinki")


def next_local(now: datetime, at: time) -> datetime:
    """The next moment the Helsinki clock shows `at`."""
    local = now.astimezone(HELSINKI)
    candidate = datetime.combine(local.date(), at, tzinfo=HELSINKI)
    return candidate if candidate > local else datetime.combine(local.date() + timedelta(days=1), at, tzinfo=HELSINKI)


async def test_an_incident_at_half_past_eleven_is_texted_at_eight(time_skipping: WorkflowEnvironment,
                                                                  settings: Settings):
    with_quiet_hours = settings.policy.model_copy(update={"contact": ContactPolicy()})  # 21:00-08:00
    settings = settings.model_copy(update={"policy": with_quiet_hours})
    async with Stack.running(time_skipping, settings) as stack:
        now = await time_skipping.get_current_time()
        await time_skipping.sleep(next_local(now, time(23, 30)) - now)
        case_id = (await stack.api.post("/transactions", json=till_record("Q-1"))).json()["case"]["case_id"]

        await eventually(lambda: stack.case(case_id).step == "verify" and stack.case(case_id).status == "open")
        morning = next_local(await time_skipping.get_current_time(), time(8, 0))
        await stack.skip(morning - await time_skipping.get_current_time() - timedelta(minutes=5))
        assert stack.texts_to(PHONE) == [], "nothing before 08:00"
        await stack.skip(timedelta(minutes=10))
        await eventually(lambda: stack.texts_to(PHONE))

        history = await time_skipping.client.get_workflow_handle(case_id).fetch_history()
        sends = [event.event_time.ToDatetime(tzinfo=UTC) for event in history.events
                     if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
                 and event.activity_task_scheduled_event_attributes.activity_type.name == "send_message"]
        assert len(sends) == 1, "only the question: the customer's time to answer starts at 08:00"
        assert timedelta(0) <= sends[0] - morning < timedelta(seconds=1), (sends[0], morning)


async def test_after_stop_no_more_texts_and_the_plan_uses_email(stack: Stack):
    record = till_record("S-1")
    record["customer"]["email"] = "maija@example.fi"
    case_id = (await stack.api.post("/transactions", json=record)).json()["case"]["case_id"]
    await eventually(lambda: stack.texts_to(PHONE))

    carrier = stack.key("twilio", Scope.messages_inbound, kind=PrincipalKind.carrier)
    stop = await stack.api.post("/webhooks/twilio/sms", headers=carrier,
                                data={"From": PHONE, "Body": "STOP", "MessageSid": "SM-stop"})
    assert stop.status_code == 200
    live = (await stack.api.get(f"/cases/{case_id}")).json()["live"]
    assert "sms" in live["opted_out"]
    await stack.skip(stack.settings.policy.reply_timeout)  # no answer: refund to the card by policy

    await eventually(lambda: stack.refunds(case_id))
    thanks = await eventually(lambda: stack.rows(SandboxOutboxEntry, channel="email"))
    assert thanks[0].to_address == "maija@example.fi" and "refunded €9.95" in thanks[0].body
    assert len(stack.texts_to(PHONE)) == 1, "no text after STOP"

    second = (await stack.api.post("/transactions", json={**record, "transaction_id": "S-2"})).json()
    await eventually(lambda: len(stack.rows(SandboxOutboxEntry, channel="email")) == 2)
    assert len(stack.texts_to(PHONE)) == 1, "a new case honours the STOP too"
    live = (await stack.api.get(f"/cases/{second['case']['case_id']}")).json()["live"]
    assert set(live["opted_out"]) == {"sms", "voice"}
