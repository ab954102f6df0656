"""Every watch a case starts is owned by it: escalations go on after a priority change on a paused clock,
and a watch that breaks stops the case where everyone can see it (a failing workflow task), never silently."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from temporalio.api.enums.v1 import EventType

from schemas.auth import Scope
from schemas.incidents import IncidentKind
from sla.calendar import BusinessCalendar
from tests.harness import Stack, eventually
from tests.robustness.broken_watch import ComplaintWhoseWatchBreaksAtTheClose, ComplaintWithBrokenWatch
from tests.scenarios.test_s3_s4_complaints import OWNER, PHONE, clock_to, complaint, emails_to
from worker import WORKFLOWS, build_worker
from workflows import registry

FIXED = {"agent_name": "Aino", "text": "Hello Jari, about the sports package on Elisa Viihde: it is fixed. Aino"}
SMALL = {"amount_minor": 100, "currency": "EUR"}  # goodwill capped at 3 x 1 EUR: no approval needed


def next_business_morning(after: datetime, hours: int) -> datetime:
    """The next weekday opening in Helsinki after `after` followed by `hours` business hours in one day."""
    calendar, day = BusinessCalendar(), (after + timedelta(days=1)).date()
    while True:
        start = datetime.combine(day, time(8), ZoneInfo("Europe/Helsinki")).astimezone(UTC)
        if calendar.business_time_between(start, start + timedelta(hours=hours)) == timedelta(hours=hours):
            return start
        day += timedelta(days=1)


async def test_priority_raised_on_a_paused_clock_keeps_escalating_at_the_new_deadlines(stack: Stack):
    # Asked for a score after 7 business hours: urgent's owner warning (6 h) is past, its deadline (8 h) is
    # beyond the pause, so not yet known.
    stack.settings.policy.follow_up_delay = timedelta(hours=7)
    await clock_to(stack, next_business_morning(await stack.env.get_current_time(), hours=8))
    case_id = (await stack.api.post("/incidents", json=complaint("form-9001", source="feedback_form",
                                                                 amount=SMALL))).json()["case_id"]
    answer = await stack.api.post(f"/cases/{case_id}/responses", json=FIXED, headers=stack.key(OWNER, Scope.cases_act))
    assert answer.status_code == 202, answer.text
    await eventually(lambda: len(stack.texts_to(PHONE)) == 3)
    await stack.skip(timedelta(hours=7))
    await eventually(lambda: len(stack.texts_to(PHONE)) == 4)  # how did it go? the resolution clock pauses

    raised = await stack.api.post(f"/cases/{case_id}/priority", headers=stack.key("sami", Scope.cases_approve),
                                  json={"priority": "urgent", "reason": "the customer wrote to the CEO"})
    assert raised.status_code == 202
    [warning] = await eventually(lambda: emails_to(stack, f"{OWNER}@example.com"))
    assert "resolution paused while we wait on the customer: owner warned" in warning.body

    await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": "1"})
    await eventually(lambda: any("reopened" in e.body for e in emails_to(stack, "supervisors@example.com")))
    answered = await stack.env.get_current_time()
    deadline = BusinessCalendar().add_business_time(answered, timedelta(hours=1))  # 8 h, 7 used before the pause
    await clock_to(stack, deadline + timedelta(minutes=1))
    breach = await eventually(lambda: [e for e in emails_to(stack, "supervisors@example.com")
                                       if "escalated to the supervisors" in e.body])
    assert f"resolution due {deadline:%Y-%m-%d %H:%M} UTC" in breach[0].body
    assert (await stack.env.client.get_workflow_handle(case_id).describe()).status.name == "RUNNING"


async def test_a_broken_watch_fails_the_workflow_task_and_the_case_does_not_go_on(live_stack: Stack,
                                                                                  monkeypatch):
    stack = live_stack
    async with complaints_run_by(stack, monkeypatch, ComplaintWithBrokenWatch):
        case_id = (await stack.api.post("/incidents", json=complaint("form-9002", source="feedback_form",
                                                                     amount=SMALL))).json()["case_id"]
        handle = stack.env.client.get_workflow_handle(case_id)
        await eventually(lambda: stack.texts_to(PHONE))  # acknowledged, then the watch breaks a second later

        failures = await _task_failures(handle)
        assert any("a watch of" in failure and "injected" in failure for failure in failures), failures

        await stack.api.post(f"/cases/{case_id}/responses", json=FIXED, headers=stack.key(OWNER, Scope.cases_act))
        await asyncio.sleep(2)
        assert len(stack.texts_to(PHONE)) == 1, "a case whose watch broke must not go on unwatched"
        assert (await handle.describe()).status.name == "RUNNING", "stuck in sight, not failed or closed"
        await handle.terminate("test finished")


@asynccontextmanager
async def complaints_run_by(stack: Stack, monkeypatch, workflow_class: type) -> AsyncIterator[None]:
    """Complaints opened meanwhile run as `workflow_class`, on a worker of their own."""
    monkeypatch.setitem(registry.WORKFLOW_FOR_KIND, IncidentKind.complaint, workflow_class)
    workflows = [*WORKFLOWS, ComplaintWithBrokenWatch, ComplaintWhoseWatchBreaksAtTheClose]
    async with build_worker(stack.env.client, stack.settings.model_copy(
            update={"temporal_task_queue": f"{stack.settings.temporal_task_queue}-broken"}), workflows=workflows):
        stack.settings.temporal_task_queue += "-broken"
        yield


async def _task_failures(handle) -> list[str]:
    """The workflow task failures in the case's history, once there are any (20 s at most)."""
    for _ in range(200):
        failures = [event.workflow_task_failed_event_attributes.failure.message
                    async for event in handle.fetch_history_events()
                    if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED]
        if failures:
            return failures
        await asyncio.sleep(0.1)
    return []


async def test_a_watch_breaking_while_a_cancel_closes_the_case_fails_the_task_too(live_stack: Stack, monkeypatch):
    stack = live_stack
    async with complaints_run_by(stack, monkeypatch, ComplaintWhoseWatchBreaksAtTheClose):
        case_id = (await stack.api.post("/incidents", json=complaint("form-9003", source="feedback_form",
                                                                     amount=SMALL))).json()["case_id"]
        handle = stack.env.client.get_workflow_handle(case_id)
        await eventually(lambda: stack.texts_to(PHONE))  # acknowledged
        supervisor = stack.key("sami.supervisor", Scope.cases_approve, Scope.cases_read)
        assert (await stack.api.post(f"/cases/{case_id}/cancel", headers=supervisor,
                                     json={"reason": "withdrawn"})).status_code == 202
        failures = await _task_failures(handle)
        assert any("a watch of" in failure and "while the case was closing" in failure for failure in failures)
        assert (await handle.describe()).status.name == "RUNNING", "stuck in sight, not closed as if all were well"
        await handle.terminate("test finished")
