"""A close that reaches the case in the same workflow task as the result of the step it is waiting on still closes
it. The SDK applies the signal first, so the stop cancels a step whose result is already on its way; the result
wins and the SDK takes the cancellation back. Before the fix the case went on to text the customer and wait days
for an answer, with the close accepted (202) and never honoured: the loaded CI run's stuck major-incident child.

The race is made certain, not hoped for: the workflow worker is away while the step's activity completes and the
close is posted, so both wait in one workflow task for the worker that comes back."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from settings import Settings
from tests.harness import Stack, eventually
from tests.test_intake import PHONE, incident
from worker import WORKFLOWS, build_worker
from workflows.sandbox import workflow_runner


def workflows_only(client: Client, settings: Settings) -> Worker:
    return Worker(client, task_queue=settings.temporal_task_queue, workflows=WORKFLOWS,
                  workflow_runner=workflow_runner())


async def events(stack: Stack, case_id: str) -> list[str]:
    """The history, one `<event type> <activity>` line per event (as `Stack.history` prints it, without ids)."""
    return [line.split(" ", 1)[1] for line in (await stack.history(case_id)).splitlines()]


async def test_a_close_that_comes_with_a_steps_result_closes_the_case_and_tells_nobody(dev_server: WorkflowEnvironment,
                                                                                      settings: Settings):
    async with Stack.running(dev_server, settings, with_worker=False) as stack:
        async with workflows_only(dev_server.client, settings):
            case_id = (await stack.api.post("/incidents", json=incident("stop-with-result"))).json()["case_id"]
            await eventually(lambda: _has(stack, case_id, "activity_task_scheduled verify_incident"))
        async with build_worker(dev_server.client, settings, workflows=[]):  # the activity worker alone
            await eventually(lambda: _has(stack, case_id, "activity_task_completed"))
            closing = await stack.api.post(f"/cases/{case_id}/close", json={"outcome": "resolved_by_hand",
                                                                            "reason": "settled at the desk"})
            assert closing.status_code == 202, closing.text
            waiting = await events(stack, case_id)
            completed = waiting.index("activity_task_completed")
            assert waiting[completed + 1:] == ["workflow_task_scheduled", "workflow_execution_signaled stop"], \
                "the step's result and the close wait in one workflow task"

            async with workflows_only(dev_server.client, settings):
                closed = await eventually(lambda: stack.case(case_id).closed_at and stack.case(case_id), within=60)
                assert closed.outcome == "resolved_by_hand"
                assert not stack.texts_to(PHONE), "closed before the customer was asked anything"
                await stack.idle(case_id)
                await stack.keep_history(case_id, "overcharge_stopped_with_a_result")  # the patch's path, replayed


async def _has(stack: Stack, case_id: str, event: str) -> bool:
    return event in await events(stack, case_id)
