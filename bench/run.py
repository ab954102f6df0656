"""The phases in order, each with the processes it needs, and nothing left running afterwards.

a (intake) runs first, with no worker anywhere. b's baseline runs on its own worker, ours on our worker and API;
both are up during b's interleaved rounds (each idle while the other side runs). Our worker and API then serve
c, f and d (d adds 100,000 rows, so it comes after the phases that write cases) and stop with the bare worker.
e gets a fresh worker, so its idle figure is clean, and runs before g, since it fills the time left until the
bench's deadline. Last, g's 2 APIs and 2 workers on PostgreSQL take turns with a fresh bare worker.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bench import end_to_end, first_contact, history, intake, major, memory, queries, scaled_out
from bench.config import BenchConfig
from bench.context import Bench
from bench.policies import instant
from bench.processes import Api, Child, start_api, start_bare_worker, start_worker
from bench.report import Figure, elapsed, progress
from bench.server import ready_client
from bench.server import start as start_server
from settings import Settings


async def run(config: BenchConfig) -> tuple[list[Figure], dict[str, Any]]:
    directory = Path(tempfile.mkdtemp(prefix="bench-"))
    server = start_server(directory)
    try:
        client = await ready_client(server, Settings(temporal_address=server.address,
                                                     temporal_namespace=server.namespace))
        bench = Bench(config, directory, server, client)
        bench.prepare_database()
        bench.measurements["load_average_at_start"] = os.getloadavg()  # other work on the machine skews figures
        where = "its own dev server" if server.ours else "TEMPORAL_ADDRESS"
        progress(f"Temporal at {server.address} ({where}); database and logs in {directory}")
        figures = await phases(bench)
        if not server.ours:
            progress(leftovers(bench))
    except BaseException:
        progress(f"failed; the processes' logs are kept in {directory}")
        raise
    finally:
        server.stop()
    shutil.rmtree(directory, ignore_errors=True)
    return figures, {"run": run_facts(bench), "measurements": bench.measurements}


async def phases(bench: Bench) -> list[Figure]:
    figures = await intake.run(bench)
    async with bare_worker(bench) as (bare, queue):
        async with our_stack(bench) as (api, worker):
            ours, baselines = await end_to_end.rounds(bench, api, worker, bare, queue)
            figures.append(await end_to_end.compared(bench, ours, baselines))
            median_rate = statistics.median(one.rate for one in ours)
            figures.append(await first_contact.run(bench, api, median_rate))
            figures.append(await history.run(bench, api, ours[-1].case_ids[0]))
            figures.extend(await queries.run(bench, api, [case for one in ours for case in one.case_ids]))
    figures.append(await memory.run(bench))  # before g: e waits for cases until the bench's deadline
    async with bare_worker(bench) as (bare, queue):
        figures.append(await scaled_out.run(bench, bare, queue))
    figures.extend(await major.run(bench))  # last: its 10,000 cases wait a day, on a task queue of their own
    return sorted(figures, key=lambda figure: figure.section)


@asynccontextmanager
async def bare_worker(bench: Bench) -> AsyncIterator[tuple[Child, str]]:
    """The baseline's own worker, warmed up; idle (long polls only) while our rounds run."""
    settings = bench.settings("bare", instant())
    worker = start_bare_worker("worker-bare", settings, bench.directory)
    try:
        await end_to_end.warm_up_bare(bench, worker, settings.temporal_task_queue)
        yield worker, settings.temporal_task_queue
    finally:
        worker.stop()


@asynccontextmanager
async def our_stack(bench: Bench) -> AsyncIterator[tuple[Api, Child]]:
    """Our worker and an API on one task queue, under the instant policy; warmed up with a few whole cases."""
    settings = bench.settings("ours", instant())
    worker = start_worker("worker-ours", settings, bench.directory)
    api = None
    try:
        api = await start_api("api-ours", settings, bench.directory)
        await end_to_end.warm_up_ours(bench, api, worker)
        yield api, worker
    finally:
        if api is not None:
            api.child.stop()
        worker.stop()


def leftovers(bench: Bench) -> str:
    """Someone else's server keeps what the bench left open: intake's never-run cases and (e)'s waiting ones."""
    queues = " OR ".join(f'TaskQueue="{bench.settings(queue, instant()).temporal_task_queue}"'
                         for queue in ("intake", "memory"))
    return (f"workflows left open on {bench.server.address}; end them with: temporal workflow terminate "
            f"--address {bench.server.address} --namespace {bench.server.namespace} "
            f"--query '({queues}) AND ExecutionStatus=\"Running\"' --yes")


def run_facts(bench: Bench) -> dict[str, Any]:
    config = {name: str(value) for name, value in vars(bench.config).items()}
    return {"config": config, "server": "own dev server" if bench.server.ours else bench.server.address,
            "cpus": os.cpu_count(), "load_average_at_start": bench.measurements.get("load_average_at_start"),
            "load_average_at_end": os.getloadavg(), "payloads_encrypted": bench.encrypted,
            "wall_seconds": round(elapsed(), 1), "run_id": bench.run_id}

