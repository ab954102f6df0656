"""(f) History size: events in the Temporal history of a completed S1 case.

Two cases are counted: one from (b), where nobody answers (the refund goes to the card by policy), and one
that tells the whole S1 story: the customer answers the SMS and the satisfaction question through
`POST /cases/{id}/replies`. The figure is the larger: signals and cancelled timers make the story longer.
"""

from __future__ import annotations

from bench.context import Bench
from bench.incidents import bench_system, incident
from bench.policies import story
from bench.processes import Api, api_client
from bench.readings import eventually, outbound_count
from bench.report import Figure, at_most, progress
from intake.cases import open_case
from schemas.incidents import IncidentIn


async def run(bench: Bench, api: Api, quiet_case_id: str) -> Figure:
    quiet_events = await events_of(bench, quiet_case_id)
    told_events = await events_of(bench, await tell_the_story(bench, api))
    quiet, told = len(quiet_events), len(told_events)
    progress(f"f. history: {quiet} events without answers, {told} with both answers")
    bench.measurements["history"] = {"no_answers": quiet, "with_answers": told,  # and what they are, in order
                                     "events_no_answers": quiet_events, "events_with_answers": told_events}
    return Figure("f", "history events per S1 case", max(quiet, told), "events", at_most(60),
                  f"{told} with the customer's two answers, {quiet} with none", {"no_answers": quiet,
                                                                                "with_answers": told})


async def events_of(bench: Bench, case_id: str) -> list[str]:
    """The history's events, each as its type (and its activity's name, when it names one)."""
    history = await bench.client.get_workflow_handle(case_id).fetch_history()
    return [_described(event) for event in history.events]


def _described(event) -> str:
    kind = event.WhichOneof("attributes").removesuffix("_event_attributes")
    activity = getattr(getattr(event, f"{kind}_event_attributes").activity_type, "name", "") \
        if kind == "activity_task_scheduled" else ""
    return f"{kind} {activity}".strip()


async def tell_the_story(bench: Bench, api: Api) -> str:
    """S1 as the scenario test drives it: SMS, "1" (to my card), refund, thanks, follow-up, "5", closed.

    The case is opened with intake's own `open_case` under the story policy (the API process runs the
    instant one); the answers go through the API, as a carrier's webhook would deliver them."""
    settings = bench.settings("ours", story())
    reported = incident(bench.tag("f"), 0)
    opened = await open_case(bench.client, settings, bench_system("bench-story"), IncidentIn.model_validate(reported))
    phone = reported["customer"]["phone"]
    async with api_client(api, bench.headers("supervisor")) as http:
        for text, messages_before in (("1", 1), ("5", 3)):
            await eventually(lambda n=messages_before: _sent_at_least(bench, opened.case_id, n), within=60,
                             what=f"message {messages_before} of the story case")
            reply = await http.post(f"/cases/{opened.case_id}/replies",
                                    json={"channel": "sms", "text": text, "sender": phone})
            reply.raise_for_status()
    await bench.finished([opened.case_id], within=60)
    return opened.case_id


async def _sent_at_least(bench: Bench, case_id: str, count: int) -> bool:
    return await outbound_count(bench.database_url, case_id) >= count
