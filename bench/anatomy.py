"""Where a finished workflow's time went, read from its Temporal history (no instrumentation needed): time in
each activity, in workflow tasks, and waiting for the worker to pick either up. The medians over a sample of
cases, ours beside bare, say which of our steps cost the end-to-end ratio."""

from __future__ import annotations

import asyncio
import statistics
from collections import Counter
from collections.abc import Sequence

from temporalio.api.history.v1 import HistoryEvent

from bench.context import Bench

SAMPLE = 20


def _ms(earlier: HistoryEvent, later: HistoryEvent) -> float:
    return (later.event_time.ToDatetime() - earlier.event_time.ToDatetime()).total_seconds() * 1000


def spent(events: Sequence[HistoryEvent]) -> Counter:
    """Milliseconds per part of one case; a step run several times (three messages) is summed."""
    by_id, parts = {event.event_id: event for event in events}, Counter()
    for event in events:
        if event.HasField("activity_task_completed_event_attributes"):
            done = event.activity_task_completed_event_attributes
            scheduled, started = by_id[done.scheduled_event_id], by_id[done.started_event_id]
            name = scheduled.activity_task_scheduled_event_attributes.activity_type.name
            parts[f"activity {name}"] += _ms(started, event)
            parts["all activities"] += _ms(started, event)
            parts["activities waiting for the worker"] += _ms(scheduled, started)
        elif event.HasField("workflow_task_completed_event_attributes"):
            done = event.workflow_task_completed_event_attributes
            started = by_id[done.started_event_id]
            parts["workflow tasks"] += _ms(started, event)
            parts.setdefault("first workflow task (builds the sandbox)", _ms(started, event))
            parts["workflow tasks waiting for the worker"] += _ms(by_id[done.scheduled_event_id], started)
    parts["whole case"] = _ms(events[0], events[-1])
    return parts


async def median_spent(bench: Bench, case_ids: Sequence[str]) -> dict[str, float]:
    sample = list(case_ids)[:SAMPLE]
    histories = await asyncio.gather(*(bench.client.get_workflow_handle(case_id).fetch_history()
                                       for case_id in sample))
    per_case = [spent(history.events) for history in histories]
    names = sorted({name for parts in per_case for name in parts})
    return {name: round(statistics.median(parts[name] for parts in per_case), 1) for name in names}
