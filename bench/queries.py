"""(d) Supervisor queries over a full read model: `GET /cases` with filters and `GET /cases/{id}`, one request
at a time through the real API process, after `seed` has put `rows` synthetic cases into `cases`.

Synthetic cases have no workflow, so the live-state query of `GET /cases/{id}` fails fast (not found); that is
measured as is. Real closed cases from (b) are measured beside it: their live query replays the history on
the worker. Where the time goes is read by `query_plans`, in-process, so a missed target names its cause.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import console_queue, query_plans
from bench.context import SUPERVISOR, SUPERVISOR_PASSWORD, Bench
from bench.processes import Api, api_client
from bench.report import Figure, progress, under
from bench.seed import seed_cases
from bench.stats import Latencies


def list_filters(now: datetime) -> dict[str, dict[str, Any]]:
    """What a supervisor's screen asks for: open work by status and kind, recent periods, the first pages."""
    return {
        "needs_attention": {"status": "needs_attention"},
        "waiting+overcharge": {"status": "waiting_on_customer", "kind": "overcharge"},
        "closed": {"status": "closed"},
        "one agent's open cases": {"owner": "agent.7", "status": "open"},
        "undercharge, last 30 days": {"kind": "undercharge", "opened_after": (now - timedelta(days=30)).isoformat()},
        "opened last week": {"opened_after": (now - timedelta(days=7)).isoformat(),
                             "opened_before": (now - timedelta(days=1)).isoformat()},
        "all, page 3": {"offset": 100},
    }


async def run(bench: Bench, api: Api, real_case_ids: list[str]) -> list[Figure]:
    now = datetime.now(UTC)
    began = time.perf_counter()
    synthetic = seed_cases(bench.database_url, bench.config.rows, now)
    progress(f"d. seeded {len(synthetic)} cases in {time.perf_counter() - began:.1f} s; querying")
    filters = list_filters(now)
    async with api_client(api, bench.headers("supervisor")) as http:
        lists = await timed_lists(http, filters, bench.config.requests)
        details = await timed_gets(http, random.Random(4).sample(synthetic, min(len(synthetic), bench.config.requests)))
        live = await timed_gets(http, real_case_ids[:min(len(real_case_ids), 50)])
    diagnosis = await query_plans.diagnose(bench, filters, synthetic[0], real_case_ids[0])
    bench.measurements["queries"] = {"rows": len(synthetic), "diagnosis": diagnosis}
    console = await console_queue.run(bench, api, f"{SUPERVISOR}@example.com", SUPERVISOR_PASSWORD)
    return figures(bench, lists, details, live) + console


async def timed_lists(http, filters: dict[str, dict[str, Any]], count: int) -> dict[str, list[float]]:
    """`count` requests in all, the filters taken in turn; seconds per request, grouped by filter."""
    names = list(filters)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for number in range(count):
        name = names[number % len(names)]
        began = time.perf_counter()
        response = await http.get("/cases", params={"limit": 50, **filters[name]})
        seconds[name].append(time.perf_counter() - began)
        response.raise_for_status()
    return seconds


async def timed_gets(http, case_ids: list[str]) -> list[float]:
    seconds = []
    for case_id in case_ids:
        began = time.perf_counter()
        response = await http.get(f"/cases/{case_id}")
        seconds.append(time.perf_counter() - began)
        response.raise_for_status()
    return seconds


def figures(bench: Bench, lists: dict[str, list[float]], details: list[float], live: list[float]) -> list[Figure]:
    every_list = Latencies.of([s for per_filter in lists.values() for s in per_filter])
    per_filter = {name: {"p50_ms": round(Latencies.of(s).p50_ms, 1), "p95_ms": round(Latencies.of(s).p95_ms, 1)}
                  for name, s in lists.items()}
    detail, replayed = Latencies.of(details), Latencies.of(live)
    progress(f"d. GET /cases p95 {every_list.p95_ms:.0f} ms, GET /cases/{{id}} p95 {detail.p95_ms:.0f} ms "
             f"(real closed case: p95 {replayed.p95_ms:.0f} ms)")
    bench.measurements["queries"].update(list_per_filter=per_filter, list=every_list.__dict__,
                                         detail=detail.__dict__, detail_of_real_closed_case=replayed.__dict__)
    slowest = max(per_filter, key=lambda name: per_filter[name]["p95_ms"])
    return [
        Figure("d", "GET /cases (filtered list) p95", every_list.p95_ms, "ms", under(50),
               f"{every_list.count} requests over {bench.config.rows} cases, {len(lists)} filters; slowest '{slowest}' "
               f"p95 {per_filter[slowest]['p95_ms']:.0f} ms", {"per_filter": per_filter}),
        Figure("d", "GET /cases/{id} p95", detail.p95_ms, "ms", under(30),
               f"{detail.count} synthetic cases (no workflow); a real closed case: p95 {replayed.p95_ms:.0f} ms",
               {"real_closed_case_p95_ms": replayed.p95_ms}),
    ]
