"""(g) Scaled out, as README "Scaling out" runs it: 2 APIs (`python -m api`) and 2 workers (`python worker.py`)
sharing one PostgreSQL database, the incidents posted over both APIs, against the bare S1 workflow on its own
worker, in interleaved rounds (bare, ours, ...); the figure is the median of the rounds' ratios, as (b)'s is.

PostgreSQL is a throwaway server of the bench's own, started as the test suite starts it (`tests/postgres.py`:
Debian's `postgresql` binaries, `make postgres`). On a 2-core machine four processes share the cores with the
Temporal server and PostgreSQL: the figure says what scaling out costs or gains there, not on a cluster.
"""

from __future__ import annotations

import statistics
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx

from bench import end_to_end
from bench.context import Bench, create_triage_owner
from bench.end_to_end import Throughput
from bench.incidents import INTEGRATOR, TENANT, incident
from bench.policies import instant
from bench.processes import Api, Child, api_client, start_api, start_worker
from bench.report import Figure, at_least, progress
from schemas.auth import PrincipalKind, Scope
from settings import Settings
from store.api_keys import create_key
from store.db import engine_for, session_for
from tests.postgres import running_postgres

PROCESSES = 2  # of each: APIs and workers


@asynccontextmanager
async def scaled_out_stack(bench: Bench) -> AsyncIterator[tuple[list[Api], list[Child], dict[str, str]]]:
    """PostgreSQL, then its schema (migrated once, before any process), then the workers and the APIs."""
    with running_postgres() as postgres:
        settings = bench.settings("scaled", instant()).model_copy(update={"database_url": postgres.new_database()})
        headers = _till_headers(settings)
        workers = [start_worker(f"worker-pg-{n}", settings, bench.directory) for n in range(1, PROCESSES + 1)]
        apis: list[Api] = []
        try:
            for n in range(1, PROCESSES + 1):
                apis.append(await start_api(f"api-pg-{n}", settings, bench.directory))
            yield apis, workers, headers
        finally:
            for child in [*(api.child for api in apis), *workers]:
                child.stop()


def _till_headers(settings: Settings) -> dict[str, str]:
    engine_for(settings.database_url)
    with session_for(settings.database_url) as session:
        create_triage_owner(session)
        key = create_key(session, TENANT, INTEGRATOR, PrincipalKind.integrator, {Scope.incidents_write})[1]
    return {"Authorization": f"Bearer {key}"}


async def ours(bench: Bench, apis: list[Api], workers: list[Child], headers: dict[str, str], phase: str,
               count: int) -> Throughput:
    """Incident n goes to API n % 2, each API with half of the concurrency's connections."""
    case_ids: list[str] = []
    parts = {f"worker{n}": worker.memory for n, worker in enumerate(workers, 1)}
    parts |= {f"api{n}": api.child.processes() for n, api in enumerate(apis, 1)}
    async with AsyncExitStack() as stack:
        clients: list[httpx.AsyncClient] = [
            await stack.enter_async_context(api_client(api, headers, bench.config.concurrency)) for api in apis]

        async def post(number: int) -> None:
            response = await clients[number % len(clients)].post("/incidents",
                                                                 json=incident(bench.tag(phase), number))
            response.raise_for_status()
            case_ids.append(response.json()["case_id"])

        return await end_to_end.completed(bench, count, post, case_ids, bench.cpu_meter(**parts))


async def run(bench: Bench, bare_worker: Child, bare_queue: str) -> Figure:
    async with scaled_out_stack(bench) as (apis, workers, headers):
        await ours(bench, apis, workers, headers, "g-warm", end_to_end.WARM_UP * PROCESSES)
        ours_runs, bare_runs = [], []
        for number in range(bench.config.rounds):
            bare_runs.append(await end_to_end.bare(bench, bare_worker, bare_queue, f"g-bare-{number}",
                                                   bench.config.cases))
            ours_runs.append(await ours(bench, apis, workers, headers, f"g-ours-{number}", bench.config.cases))
            progress(f"g. round {number + 1}: bare {bare_runs[-1].rate:.1f} workflows/s, 2+2 on PostgreSQL "
                     f"{ours_runs[-1].rate:.1f} cases/s ({ours_runs[-1].rate / bare_runs[-1].rate:.2f})")
    ours_rate = statistics.median(one.rate for one in ours_runs)
    bare_rate = statistics.median(one.rate for one in bare_runs)
    bench.measurements["scaled_out"] = {
        "rounds": [{"ours_per_second": mine.rate, "bare_per_second": base.rate,
                    "ours_cpu_ms_per_case": mine.cpu_ms_per_case}
                   for mine, base in zip(ours_runs, bare_runs, strict=True)]}
    return Figure.of_rounds(
        "g", "2 APIs + 2 workers on PostgreSQL: completed S1 cases/s / bare",
        [mine.rate / base.rate for mine, base in zip(ours_runs, bare_runs, strict=True)], at_least(0.7),
        f"ours median {ours_rate:.1f}/s vs bare {bare_rate:.1f}/s (one worker), {bench.config.cases} cases per "
        "side per round", {"ours_per_second": ours_rate, "bare_per_second": bare_rate})
