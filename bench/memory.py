"""(e) Worker memory: the RSS of our worker process with `waiting` open cases each waiting on its reply timer,
beside the RSS of the same worker idle (started, one case run through it, nothing to do).

The cases are opened with intake's own `open_case` (row, then workflow) under a policy that gives the customer
a day to answer, so each sends its SMS and then sits on a timer. The worker caches at most 1000 workflows
(the SDK's default `max_cached_workflows`, which `build_worker` keeps); the rest wait in Temporal, not in it,
and the recorded curve of RSS against cases waiting shows where it levels off. The phase stops at the bench's
deadline with the cases it has by then, so a slow machine still gets a figure (named with its case count).
"""

from __future__ import annotations

import asyncio
import time

from bench.context import Bench
from bench.incidents import bench_system, incident
from bench.load import closed_loop
from bench.policies import instant, waiting
from bench.processes import Child, start_worker
from bench.readings import cases_in_status
from bench.report import Figure, elapsed, progress, under
from intake.cases import open_case
from schemas.incidents import IncidentIn

WAITING_INTEGRATOR = "bench-memory"
MB = 1024 * 1024
IDLE_CPU_PERCENT = 5.0


async def run(bench: Bench) -> Figure:
    worker = start_worker("worker-memory", bench.settings("memory", waiting()), bench.directory)
    try:
        await warm_up(bench)
        idle = await settled_rss(worker)
        began, curve = time.perf_counter(), [(0, idle)]
        opening = asyncio.create_task(open_waiting_cases(bench, bench.config.waiting))
        reached = await watch(bench, worker, opening, curve)
        opening.cancel()
        loaded = await settled_rss(worker) if reached >= bench.config.waiting else rss(worker)
    finally:
        worker.stop()
    peak = max(mb for _, mb in curve)
    progress(f"e. worker RSS {loaded:.0f} MB with {reached} cases waiting (idle {idle:.0f} MB, peak {peak:.0f} MB; "
             f"{time.perf_counter() - began:.0f} s to get there)")
    bench.measurements["memory"] = {"waiting_cases": reached, "asked_for": bench.config.waiting, "rss_mb": loaded,
                                    "idle_rss_mb": idle, "peak_rss_mb": peak, "rss_by_cases_waiting": thin(curve)}
    short = "" if reached >= bench.config.waiting else f" (of {bench.config.waiting}: the bench's deadline came)"
    return Figure("e", "worker RSS with open cases waiting on timers", loaded, "MB", under(300),
                  f"{reached} cases waiting{short}; idle worker {idle:.0f} MB, peak {peak:.0f} MB",
                  {"idle_rss_mb": idle, "peak_rss_mb": peak, "waiting_cases": reached})


async def warm_up(bench: Bench) -> None:
    """One case run to its close: the worker is polling, and its workflow sandbox is built, before we measure."""
    settings = bench.settings("memory", instant())
    opened = await open_case(bench.client, settings, bench_system("bench-memory-warm"),
                             IncidentIn.model_validate(incident(bench.tag("e-warm"), 0)))
    await bench.finished([opened.case_id], within=60)


async def open_waiting_cases(bench: Bench, count: int) -> None:
    settings = bench.settings("memory", waiting())

    async def open_one(number: int) -> None:
        await open_case(bench.client, settings, bench_system(WAITING_INTEGRATOR),
                        IncidentIn.model_validate(incident(bench.tag("e"), number)))

    await closed_loop(count, bench.config.concurrency, open_one)


async def watch(bench: Bench, worker: Child, opening: asyncio.Task, curve: list[tuple[int, float]]) -> int:
    """Samples (cases waiting, RSS) each second until all wait or the deadline; returns how many wait."""
    while True:
        worker.check_alive()
        if opening.done() and opening.exception() is not None:
            raise opening.exception()
        waiting_now = await cases_in_status(bench.database_url, WAITING_INTEGRATOR, "waiting_on_customer")
        curve.append((waiting_now, rss(worker)))
        if waiting_now >= bench.config.waiting or elapsed() > bench.config.deadline:
            return waiting_now
        await asyncio.sleep(1.0)


def rss(worker: Child) -> float:
    return worker.memory.memory_info().rss / MB


async def settled_rss(worker: Child, within: float = 30.0) -> float:
    """RSS once the worker has been idle for a second (under 5% of a core): its last timers are started, and
    no work in flight is counted."""
    process, deadline = worker.memory, time.monotonic() + within
    while await asyncio.to_thread(process.cpu_percent, 1.0) > IDLE_CPU_PERCENT and time.monotonic() < deadline:
        worker.check_alive()
    return process.memory_info().rss / MB


def thin(curve: list[tuple[int, float]], points: int = 12) -> list[tuple[int, float]]:
    step = max(1, len(curve) // points)
    return [(count, round(mb, 1)) for count, mb in curve[::step] + curve[-1:]]
