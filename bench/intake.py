"""(a) Intake: `POST /incidents` through the real API process, against the raw SDK's `start_workflow` rate.

Both start the same workflow type with the same input at the same concurrency. No worker polls the intake
task queue: intake ends when the workflow is started, and a worker would only take CPU from both sides.
Between the two, intake's own `open_case` called in the bench process (case row, then start; no HTTP, no
key check) shows how the gap splits between the database write and the HTTP edge.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import httpx
from temporalio.common import WorkflowIDReusePolicy

from bench.context import Bench
from bench.cpu import CpuMeter
from bench.incidents import INTEGRATOR, case_input, incident
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


async def run(bench: Bench) -> list[Figure]:
    settings = bench.settings("intake", instant())
    api = await start_api("api-intake", settings, bench.directory)
    try:
        async with api_client(api, bench.headers("till"), bench.config.concurrency * 2) as http:
            runs, cpu = await measure(bench, settings, api, http)
    finally:
        api.child.stop()
    raw, full, half = runs["raw"], runs["api"], runs["api_half_load"]
    progress(f"a. intake: raw start_workflow {raw.rate:.0f}/s, open_case in-process {runs['open_case'].rate:.0f}/s, "
             f"POST /incidents {full.rate:.0f}/s (p99 {full.latencies.p99_ms:.0f} ms), "
             f"at half load p99 {half.latencies.p99_ms:.0f} ms")
    bench.measurements["intake"] = {**{name: asdict(one) for name, one in runs.items()}, "cpu_ms_per_case": cpu}
    return figures(bench, runs, cpu)


async def measure(bench: Bench, settings: Settings, api: Api,
                  http: httpx.AsyncClient) -> tuple[dict[str, Run], dict[str, Any]]:
    """Both sides warmed up first (connections, caches); then raw, open_case, the API flat out, and the API
    paced at half its rate. CPU per case is metered for each flat-out run."""
    count, queue = bench.config.intake_requests, settings.temporal_task_queue
    await closed_loop(WARM_UP, bench.config.concurrency, raw_starter(bench, queue, bench.tag("a-warm-raw"), WARM_UP))
    await closed_loop(WARM_UP, bench.config.concurrency, poster(http, bench.tag("a-warm-api")))
    meter, runs, cpu = bench.cpu_meter(api=api.child.memory), {}, {}
    flat_out = {"raw": raw_starter(bench, queue, bench.tag("a-raw"), count),
                "open_case": opener(bench, settings, bench.tag("a-open")),
                "api": poster(http, bench.tag("a-api"))}
    for name, call in flat_out.items():
        runs[name], cpu[name] = await metered(meter, count, bench.config.concurrency, call)
    runs["api_half_load"] = await paced(count // 2, runs["api"].rate / 2, poster(http, bench.tag("a-half")))
    return runs, cpu


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
        await open_case(bench.client, settings, INTEGRATOR, IncidentIn.model_validate(incident(run, number)))

    return open_one


def poster(http: httpx.AsyncClient, run: str) -> Call:
    async def post(number: int) -> None:
        response = await http.post("/incidents", json=incident(run, number))
        if response.status_code != 201:
            raise RuntimeError(f"POST /incidents answered {response.status_code}: {response.text[:300]}")

    return post


def figures(bench: Bench, runs: dict[str, Run], cpu: dict[str, Any]) -> list[Figure]:
    raw, full, half = runs["raw"], runs["api"], runs["api_half_load"]
    return [
        Figure("a", "intake rate: POST /incidents / raw start_workflow", full.rate / raw.rate, "x", at_least(0.8),
               f"API {full.rate:.0f}/s vs raw SDK {raw.rate:.0f}/s, {bench.config.concurrency} in flight, "
               f"{full.count} each; open_case in-process {runs['open_case'].rate:.0f}/s",
               {"api": asdict(full.latencies), "raw": asdict(raw.latencies), "cpu_ms_per_case": cpu}),
        Figure("a", "intake p99 latency at half load", half.latencies.p99_ms, "ms", under(100),
               f"{half.count} POSTs paced at {full.rate / 2:.0f}/s (half the API's rate); "
               f"p50 {half.latencies.p50_ms:.0f} ms, p95 {half.latencies.p95_ms:.0f} ms", asdict(half.latencies)),
    ]
