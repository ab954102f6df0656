"""(b) End to end: completed S1 cases per second, against the bare S1-shaped workflow (`bench.bare`), in
interleaved rounds (bare, ours, bare, ours, ...); the figure is the median of the rounds' ratios, with its spread.

Each side has one worker process of its own. Ours: cases are opened through the API (`POST /incidents`) under
the instant policy, so every case runs to its close with no one answering; the API shares the machine with
the worker, as it does in production. Bare: `start_workflow` from the bench. Both count from the first
start to the last completion, with the same number of starts in flight, and meter each process's CPU.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType

from bench.anatomy import median_spent
from bench.bare import BareS1, BareTimers
from bench.context import Bench
from bench.cpu import CpuMeter
from bench.incidents import incident
from bench.load import Call, closed_loop
from bench.policies import TINY
from bench.processes import Api, Child, api_client
from bench.report import Figure, at_least, progress

WARM_UP = 5


@dataclass(frozen=True)
class Throughput:
    cases: int
    seconds: float
    case_ids: list[str]
    cpu_ms_per_case: dict[str, float]

    @property
    def rate(self) -> float:
        return self.cases / self.seconds


async def completed(bench: Bench, count: int, start: Call, case_ids: list[str], meter: CpuMeter) -> Throughput:
    """Starts `count` cases (concurrency-limited), then waits for every one to finish."""
    meter.start()
    began = time.perf_counter()
    await closed_loop(count, bench.config.concurrency, start)
    await bench.finished(case_ids, within=max(120.0, count))
    return Throughput(count, time.perf_counter() - began, case_ids, meter.per_item_ms(count))


async def ours(bench: Bench, api: Api, worker: Child, phase: str, count: int) -> Throughput:
    case_ids: list[str] = []
    meter = bench.cpu_meter(worker=worker.memory, api=api.child.processes())
    async with api_client(api, bench.headers("till"), bench.config.concurrency * 2) as http:
        async def post(number: int) -> None:
            response = await http.post("/incidents", json=incident(bench.tag(phase), number))
            response.raise_for_status()
            case_ids.append(response.json()["case_id"])

        return await completed(bench, count, post, case_ids, meter)


async def bare(bench: Bench, worker: Child, task_queue: str, phase: str, count: int) -> Throughput:
    timers = BareTimers(reply_timeout=TINY, follow_up_delay=TINY, satisfaction_timeout=TINY)
    case_ids = [f"bare-{bench.tag(phase)}-{number}" for number in range(count)]

    async def start(number: int) -> None:
        await bench.client.start_workflow(BareS1.run, timers, id=case_ids[number], task_queue=task_queue)

    return await completed(bench, count, start, case_ids, bench.cpu_meter(worker=worker.memory))


async def warm_up_ours(bench: Bench, api: Api, worker: Child) -> None:
    """Also proves the worker polls: the first cases finish only once it is up."""
    await ours(bench, api, worker, "b-warm-ours", WARM_UP)


async def warm_up_bare(bench: Bench, worker: Child, task_queue: str) -> None:
    await bare(bench, worker, task_queue, "b-warm-bare", WARM_UP)


async def event_types(bench: Bench, case_id: str) -> dict[str, int]:
    """How many of each event a finished workflow's history holds: where ours and bare differ."""
    history = await bench.client.get_workflow_handle(case_id).fetch_history()
    return dict(Counter(EventType.Name(event.event_type).removeprefix("EVENT_TYPE_") for event in history.events))


async def rounds(bench: Bench, api: Api, worker: Child, bare_worker: Child,
                 bare_queue: str) -> tuple[list[Throughput], list[Throughput]]:
    """(ours, bare) per round, the baseline first in each."""
    ours_runs, bare_runs = [], []
    for number in range(bench.config.rounds):
        bare_runs.append(await bare(bench, bare_worker, bare_queue, f"b-bare-{number}", bench.config.cases))
        ours_runs.append(await ours(bench, api, worker, f"b-ours-{number}", bench.config.cases))
        progress(f"b. round {number + 1}: bare {bare_runs[-1].rate:.1f} workflows/s, ours {ours_runs[-1].rate:.1f} "
                 f"cases/s ({ours_runs[-1].rate / bare_runs[-1].rate:.2f})")
    return ours_runs, bare_runs


async def compared(bench: Bench, ours_runs: list[Throughput], bare_runs: list[Throughput]) -> Figure:
    """The ratio, with what tells it apart: CPU per case per process, history events, time per step."""
    our, baseline = ours_runs[-1], bare_runs[-1]
    histories = {"ours": await event_types(bench, our.case_ids[0]),
                 "bare": await event_types(bench, baseline.case_ids[0])}
    steps = {"ours": await median_spent(bench, our.case_ids), "bare": await median_spent(bench, baseline.case_ids)}
    bench.measurements["end_to_end"] = {
        "history_events": histories, "median_ms_per_case": steps,
        "rounds": [{"ours_per_second": mine.rate, "bare_per_second": base.rate, "ours_cpu_ms_per_case":
                    mine.cpu_ms_per_case, "bare_cpu_ms_per_case": base.cpu_ms_per_case}
                   for mine, base in zip(ours_runs, bare_runs, strict=True)]}
    ours_rate = statistics.median(one.rate for one in ours_runs)
    bare_rate = statistics.median(one.rate for one in bare_runs)
    return Figure.of_rounds(
        "b", "end to end: completed S1 cases/s / bare",
        [mine.rate / base.rate for mine, base in zip(ours_runs, bare_runs, strict=True)], at_least(0.7),
        f"ours median {ours_rate:.1f}/s vs bare {bare_rate:.1f}/s, {our.cases} cases per side per round, "
        "one worker each", {"ours_per_second": ours_rate, "bare_per_second": bare_rate,
                             "ours_cpu_ms_per_case_last_round": our.cpu_ms_per_case,
                             "bare_cpu_ms_per_case_last_round": baseline.cpu_ms_per_case})
