"""A reply means what the case asked for, whenever the worker gets to it: with the worker stopped for 10 s, a
satisfaction "1" posted to the API is the score 1 (not "the card"), and it reopens the complaint."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from schemas.auth import Scope
from settings import Settings
from store.tables import TimelineRow
from tests.harness import Stack, eventually
from tests.robustness.test_watches import FIXED, SMALL
from tests.scenarios.test_s3_s4_complaints import OWNER, PHONE, complaint
from worker import build_worker


async def test_a_score_sent_while_the_worker_is_down_is_read_as_a_score_and_reopens(dev_server: WorkflowEnvironment,
                                                                                    settings: Settings):
    settings.policy.follow_up_delay = timedelta(seconds=1)
    async with Stack.running(dev_server, settings, with_worker=False) as stack:
        async with build_worker(dev_server.client, settings):
            case_id = (await stack.api.post("/incidents", json=complaint("slow-1", source="feedback_form",
                                                                         amount=SMALL))).json()["case_id"]
            answer = await stack.api.post(f"/cases/{case_id}/responses", json=FIXED,
                                          headers=stack.key(OWNER, Scope.cases_act))
            assert answer.status_code == 202
            [*_, question] = await eventually(lambda: stack.texts_to(PHONE)[3:])  # ack, reply, put right, score?
            assert "1 (not at all) to 5" in question.body
            await stack.idle(case_id)

        # The worker is gone: the API neither waits for it nor guesses what "1" means.
        reply = await asyncio.wait_for(stack.api.post(f"/cases/{case_id}/replies", json={
            "channel": "sms", "text": "1", "sender": PHONE}), timeout=5)
        assert reply.status_code == 202 and reply.json()["intent"] is None
        await asyncio.sleep(10)

        async with build_worker(dev_server.client, settings):
            notes = await eventually(lambda: [row.note for row in stack.rows(TimelineRow, case_id=case_id)
                                              if "rated the recovery" in row.note])
            assert "the customer rated the recovery 1/5: reopened" in notes[0]
            for _ in range(100):  # reopened: waiting for a person's reply again
                live = (await stack.api.get(f"/cases/{case_id}")).json()["live"]
                if live["step"] == "personal_reply":
                    break
                await asyncio.sleep(0.1)
            assert (live["satisfaction"], live["step"]) == (1, "personal_reply")
            await stack.idle(case_id)
