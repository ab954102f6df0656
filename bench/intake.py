"""(a) Intake: `POST /incidents` through the real API process(es), against two baselines measured in the same
rounds: the raw SDK's `start_workflow` rate (the physical limit) and a bare FastAPI endpoint that only validates
and starts (`bench.bare_api`, the framework limit), each with as many processes as our API.

All start the same workflow type with the same input at the same concurrency, in interleaved rounds (raw, bare
API, ours, raw, bare API, ours, ...), so a drift of the shared machine's load hits every side alike; each ratio
is the median of its rounds, with its spread. No worker polls the intake task queue: intake ends when the
workflow is started, and a worker would only take CPU from every side. Intake's own `open_case` called in the
bench process (case row, then start; no HTTP, no key check) shows how the gap splits between the database
write and the HTTP edge.
"""

from __future__ import annotations

import statistics
from contextlib import AsyncExitStack
from dataclasses import asdict
from typing import Any

import httpx
from temporalio.common import WorkflowIDReusePolicy

from bench.context import Bench
from bench.cpu import CpuMeter
from bench.incidents import INTEGRATOR, bench_system, case_input, incident
from bench.load import Call, closed_loop, paced
from bench.policies import instant
from bench.processes import Api, api_client, start_api
from bench.report import Figure, at_least, progress, under
from bench.stats import Run
from intake.cases import open_case
from schemas.incidents import IncidentIn
from settings import Settings
from workflows.overcharge import OverchargeRecovery

WARM_UP = 20
SIDES = ("raw", "bare_api", "api", "open_case")  # the order of each round


async def run(bench: Bench) -> list[Figure]:
    settings = bench.settings("intake", instant())
    async with AsyncExitStack() as stack:
        ours = await start_api("api-intake", settings, bench.directory)
        stack.callback(ours.child.stop)
        bare = await start_api("api-bare", settings, bench.directory, module="bench.bare_api")
        stack.callback(bare.child.stop)
        http = await stack.enter_async_context(api_client(ours, bench.headers("till"), bench.config.concurrency * 2))
        bare_http = await stack.enter_async_context(api_client(bare, {}, bench.config.concurrency * 2))
        rounds, cpu = await measure_rounds(bench, settings, ours, bare, http, bare_http)
        median_rate = statistics.median(run_.rate for run_ in rounds["api"])
        half = await paced(bench.config.intake_requests // 2, median_rate / 2, poster(http, bench.tag("a-half")))
    progress(f"a. intake, median of {bench.config.rounds} rounds: raw start_workflow {_median_rate(rounds['raw'])}/s, "
             f"bare FastAPI {_median_rate(rounds['bare_api'])}/s, open_case in-process "
             f"{_median_rate(rounds['open_case'])}/s, POST /incidents {_median_rate(rounds['api'])}/s; "
             f"at half load p99 {half.latencies.p99_ms:.0f} ms")
    bench.measurements["intake"] = {**{side: [asdict(one) for one in runs] for side, runs in rounds.items()},
                                    "api_half_load": asdict(half), "cpu_ms_per_case": cpu}
    return figures(bench, rounds, half, cpu)


async def measure_rounds(bench: Bench, settings: Settings, ours: Api, bare: Api, http: httpx.AsyncClient,
                         bare_http: httpx.AsyncClient) -> tuple[dict[str, list[Run]], dict[str, list[Any]]]:
    """Every side warmed up first (connections, caches); then the rounds, each side flat out in turn, its CPU
    per case metered."""
    count, queue, concurrency = bench.config.intake_requests, settings.temporal_task_queue, bench.config.concurrency
    await closed_loop(WARM_UP, concurrency, raw_starter(bench, queue, bench.tag("a-warm-raw"), WARM_UP))
    await closed_loop(WARM_UP, concurrency, poster(bare_http, bench.tag("a-warm-bare")))
    await closed_loop(WARM_UP, concurrency, poster(http, bench.tag("a-warm-api")))
    meter = bench.cpu_meter(api=ours.child.processes(), bare_api=bare.child.processes())
    rounds: dict[str, list[Run]] = {side: [] for side in SIDES}
    cpu: dict[str, list[Any]] = {side: [] for side in SIDES}
    for number in range(bench.config.rounds):
        calls = {"raw": raw_starter(bench, queue, bench.tag(f"a-raw-{number}"), count),
                 "bare_api": poster(bare_http, bench.tag(f"a-bare-{number}")),
                 "api": poster(http, bench.tag(f"a-api-{number}")),
                 "open_case": opener(bench, settings, bench.tag(f"a-open-{number}"))}
        for side in SIDES:
            one, per_case = await metered(meter, count, concurrency, calls[side])
            rounds[side].append(one)
            cpu[side].append(per_case)
        progress(f"a. round {number + 1}: " + ", ".join(f"{side} {rounds[side][-1].rate:.0f}/s" for side in SIDES))
    return rounds, cpu


def _median_rate(runs: list[Run]) -> str:
    return f"{statistics.median(one.rate for one in runs):.0f}"


async def metered(meter: CpuMeter, count: int, concurrency: int, call: Call) -> tuple[Run, dict[str, float]]:
    meter.start()
    run_ = await closed_loop(count, concurrency, call)
    return run_, meter.per_item_ms(count)


def raw_starter(bench: Bench, task_queue: str, run: str, count: int) -> Call:
    """The baseline: the client call the API makes, with the input prepared beforehand, and nothing else."""
    inputs = [case_input(run, number, instant()) for number in range(count)]

    async def start(number: int) -> None:
        case = inputs[number]
        await bench.client.start_workflow(OverchargeRecovery.run, case, id=case.case_id, task_queue=task_queue,
                                          id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)

    return start


def opener(bench: Bench, settings: Settings, run: str) -> Call:
    async def open_one(number: int) -> None:
        reported = IncidentIn.model_validate(incident(run, number))
        await open_case(bench.client, settings, bench_system(INTEGRATOR), reported)

    return open_one


def poster(http: httpx.AsyncClient, run: str) -> Call:
    async def post(number: int) -> None:
        response = await http.post("/incidents", json=incident(run, number))
        if response.status_code != 201:
            raise RuntimeError(f"POST /incidents answered {response.status_code}: {response.text[:300]}")

    return post


def figures(bench: Bench, rounds: dict[str, list[Run]], half: Run, cpu: dict[str, list[Any]]) -> list[Figure]:
    raw, bare, ours = rounds["raw"], rounds["bare_api"], rounds["api"]
    where = (f"{bench.config.concurrency} in flight, {ours[0].count} per side per round, API processes "
             f"{Settings().api_processes} each")
    return [
        Figure.of_rounds("a", "intake rate: POST /incidents / raw start_workflow",
                         [mine.rate / base.rate for mine, base in zip(ours, raw, strict=True)], at_least(0.8),
                         f"API median {_median_rate(ours)}/s vs raw SDK {_median_rate(raw)}/s; {where}; "
                         f"open_case in-process {_median_rate(rounds['open_case'])}/s",
                         {"api": asdict(ours[-1].latencies), "raw": asdict(raw[-1].latencies),
                          "cpu_ms_per_case_last_round": {side: per_round[-1] for side, per_round in cpu.items()}}),
        Figure.of_rounds("a", "intake rate: POST /incidents / bare FastAPI endpoint",
                         [mine.rate / base.rate for mine, base in zip(ours, bare, strict=True)], at_least(0.9),
                         f"API median {_median_rate(ours)}/s vs bare FastAPI (validate + start, no key, no "
                         f"database) {_median_rate(bare)}/s; {where}", {"bare_api": asdict(bare[-1].latencies)}),
        Figure("a", "intake p99 latency at half load", half.latencies.p99_ms, "ms", under(100),
               f"{half.count} POSTs paced at half the API's median rate; "
               f"p50 {half.latencies.p50_ms:.0f} ms, p95 {half.latencies.p95_ms:.0f} ms", asdict(half.latencies)),
    ]
