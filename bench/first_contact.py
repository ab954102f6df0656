"""(c) Time to first contact: from `POST /incidents` to the customer's message being recorded, under a steady
load of half the end-to-end capacity measured in (b).

The clock starts just before the request is sent and stops at the `created_at` of the case's first outbound
`messages` row, which the messaging activity writes in the worker process: the same machine, the same clock.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

from bench.context import Bench
from bench.incidents import incident
from bench.load import paced
from bench.processes import Api, api_client
from bench.readings import eventually, first_contacts
from bench.report import Figure, progress, under
from bench.stats import Latencies


async def run(bench: Bench, api: Api, capacity_per_second: float) -> Figure:
    rate = capacity_per_second / 2
    count = max(3, round(rate * bench.config.contact_seconds))
    posted = await post_steadily(bench, api, count, rate)
    first = await eventually(lambda: all_contacted(bench, posted), within=120, what="every case's first message")
    latencies = Latencies.of([(first[case_id] - at).total_seconds() for case_id, at in posted.items()])
    await bench.finished(posted, within=120)  # closed before the next phase, so they load no one else
    progress(f"c. time to first contact at {rate:.1f} cases/s ({count} cases): p50 {latencies.p50_ms:.0f} ms, "
             f"p95 {latencies.p95_ms:.0f} ms, p99 {latencies.p99_ms:.0f} ms")
    bench.measurements["first_contact"] = {"rate_per_second": rate, **asdict(latencies)}
    return Figure("c", "time to first contact p95 at half capacity", latencies.p95_ms, "ms", under(1000),
                  f"{count} cases at {rate:.1f}/s (half of b); p50 {latencies.p50_ms:.0f} ms, "
                  f"p99 {latencies.p99_ms:.0f} ms", asdict(latencies))


async def post_steadily(bench: Bench, api: Api, count: int, rate: float) -> dict[str, datetime]:
    """Case id -> when its POST was sent."""
    posted: dict[str, datetime] = {}
    async with api_client(api, bench.headers("till")) as http:
        async def post(number: int) -> None:
            sent_at = datetime.now(UTC)
            response = await http.post("/incidents", json=incident(bench.tag("c"), number))
            response.raise_for_status()
            posted[response.json()["case_id"]] = sent_at

        await paced(count, rate, post)
    return posted


async def all_contacted(bench: Bench, posted: dict[str, datetime]) -> dict[str, datetime] | None:
    first = await first_contacts(bench.database_url, posted)
    return first if len(first) == len(posted) else None
