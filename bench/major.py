"""(h) A major incident at scale (issue 16): `affected` customers bought a wrongly priced product; the incident is
declared (the engine finds them among the till records), approved once, and its parent opens one case each,
which texts its customer. Measured on our worker, under the carriers' limit of `major_rate` texts per second:

- time to last contact: from the approval to the last child's first text (`messages.created_at`, written by the
  messaging activity in the worker: one clock);
- the most texts of the children in any one second (sliding over every text's time): never above the limit;
- the parent's history: the most events in any one run (it continues as new), under 10,000;
- the worker's RSS, its peak while the fan-out runs (sampled every second), under 500 MB.

The customers have a day to answer (`waiting`), so each child stops after its first text, as a real one would.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from datetime import UTC, datetime, timedelta

from sqlmodel import col, func, select
from starlette.concurrency import run_in_threadpool
from temporalio.client import WorkflowHandle, WorkflowQueryFailedError
from temporalio.service import RPCError

from bench.context import SUPERVISOR, Bench
from bench.incidents import TENANT, bench_system
from bench.policies import waiting
from bench.processes import Child, start_worker
from bench.readings import eventually
from bench.report import Figure, at_most, progress, under
from intake.major_incidents import declare
from schemas.major_incidents import Approval, MajorIncidentIn
from schemas.money import Money
from store.db import session_for
from store.tables import AffectedCustomerRow, MessageRow, TransactionRow

MB = 1024 * 1024
STORE, PRODUCT = "Prisma Kaleva", "Coffee 500 g"
SOLD_FROM = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
HISTORY_LIMIT = 10_000
RSS_LIMIT_MB = 500


async def run(bench: Bench) -> list[Figure]:
    rate, count = bench.config.major_rate, bench.config.affected
    settings = bench.settings("major", waiting())
    settings.major_incidents.texts_per_second = rate  # the parent's pace is read where it is declared
    worker = start_worker("worker-major", settings, bench.directory, MAJOR_INCIDENTS__TEXTS_PER_SECOND=str(rate))
    try:
        await run_in_threadpool(seed_sales, bench.database_url, bench.tag("h"), count)
        declared_at = time.perf_counter()
        major_id, _ = await declare(bench.client, settings, bench_system("bench-till"), declaration())
        progress(f"h. {count} affected customers found and recorded in {time.perf_counter() - declared_at:.1f} s")
        parent = bench.client.get_workflow_handle(major_id)
        await eventually(lambda: answers(parent), within=120, what="the parent on the new worker")
        approved_at = datetime.now(UTC)
        await parent.signal(
            "approve", Approval(approved_by=SUPERVISOR, cap=Money(amount_minor=10_000, currency="EUR")))
        peak = await watch(bench, worker, major_id, count)
    finally:
        worker.stop()
    texts = await run_in_threadpool(first_texts, bench.database_url, major_id)
    return figures(bench, rate, count, approved_at, texts, peak, await history_per_run(bench, major_id))


async def answers(parent: WorkflowHandle) -> bool:
    """The worker runs the parent (it has started and polls): the clock then measures the fan-out, not a start."""
    try:
        await parent.query("state", rpc_timeout=timedelta(seconds=2))
    except (RPCError, WorkflowQueryFailedError):
        return False
    return True


def declaration() -> MajorIncidentIn:
    return MajorIncidentIn(title="Coffee priced 5.95 at the till", description="The till's price list was wrong.",
                           stores=[STORE], window_start=SOLD_FROM, window_end=SOLD_FROM + timedelta(days=2),
                           wrong_price={"product": PRODUCT, "correct_unit_price_minor": 495})


def seed_sales(database_url: str, run: str, count: int) -> None:
    """`count` sales of the product at the wrong price, one customer each, and as many sales without it."""
    with session_for(database_url) as session:
        for number in range(2 * count):
            product = PRODUCT if number % 2 == 0 else "Bread"
            session.add(TransactionRow(
                tenant=TENANT, store=STORE, transaction_id=f"T-{run}-{number}", currency="EUR",
                correct_total_minor=595, charged_minor=595, sold_at=SOLD_FROM + timedelta(seconds=number),
                lines=[{"product": product, "unit_price_minor": 595, "quantity": 1}],
                customer={"name": "Maija Meikäläinen", "phone": f"+35840{number % 10_000_000:07d}",
                          "language": "en"}))
        session.commit()


async def watch(bench: Bench, worker: Child, major_id: str, count: int) -> float:
    """Samples the worker's RSS each second until every child has texted, or the phase's deadline (then the
    figures are read with the texts sent so far, and say so); returns the peak RSS (MB)."""
    peak, deadline = 0.0, time.monotonic() + bench.config.major_deadline
    while True:
        worker.check_alive()
        peak = max(peak, worker.memory.memory_info().rss / MB)
        texted = await run_in_threadpool(children_texted, bench.database_url, major_id)
        if texted >= count or time.monotonic() > deadline:
            return peak
        await asyncio.sleep(1.0)


def _children_texts(major_id: str):
    return (select(MessageRow.case_id, func.min(MessageRow.created_at))
            .join(AffectedCustomerRow, col(AffectedCustomerRow.case_id) == MessageRow.case_id)
            .where(AffectedCustomerRow.major_id == major_id, MessageRow.direction == "out",
                   MessageRow.channel == "sms")
            .group_by(MessageRow.case_id))


def children_texted(database_url: str, major_id: str) -> int:
    with session_for(database_url) as session:
        return session.exec(select(func.count()).select_from(_children_texts(major_id).subquery())).one()


def first_texts(database_url: str, major_id: str) -> list[datetime]:
    with session_for(database_url) as session:
        return sorted(at for _, at in session.exec(_children_texts(major_id)).all())


def most_in_one_second(times: list[datetime]) -> int:
    """The most texts whose times fall within any one second (a window starting at each text)."""
    seconds = [moment.timestamp() for moment in times]
    return max((bisect.bisect_left(seconds, at + 1.0) - index for index, at in enumerate(seconds)), default=0)


async def history_per_run(bench: Bench, major_id: str) -> list[int]:
    """Events in each run of the parent (every continue-as-new starts a run with a history of its own)."""
    counts = []
    async for execution in bench.client.list_workflows(f'WorkflowId = "{major_id}"'):
        handle = bench.client.get_workflow_handle(major_id, run_id=execution.run_id)
        counts.append(len([event async for event in handle.fetch_history_events()]))
    return counts


def figures(bench: Bench, rate: float, count: int, approved_at: datetime, texts: list[datetime], peak: float,
            runs: list[int]) -> list[Figure]:
    last_contact = (texts[-1] - approved_at).total_seconds()
    busiest = most_in_one_second(texts)
    floor = count / rate
    short = "" if len(texts) >= count else f" (only {len(texts)} of {count} by the phase's deadline)"
    if short:  # the last customer is not reached yet: the figure is at least the phase's length
        last_contact = max(last_contact, bench.config.major_deadline)
    progress(f"h. {len(texts)} customers texted{short}, the last {last_contact:.0f} s after the approval "
             f"(the limit's floor {floor:.0f} s);"
             f" at most {busiest} texts in a second; parent: {len(runs)} runs, at most {max(runs)} events; "
             f"worker RSS peak {peak:.0f} MB")
    bench.measurements["major_incident"] = {
        "affected": count, "texted": len(texts), "texts_per_second_limit": rate, "time_to_last_contact_s": last_contact,
        "most_texts_in_a_second": busiest, "parent_runs": len(runs), "events_per_run": runs, "worker_rss_peak_mb": peak}
    basis = f"{count} customers at {rate:g} texts/s"
    return [
        Figure("h", "major incident: time to last contact", last_contact, "s", under(2 * floor + 30),
               f"{basis}: from the approval{short}; at the limit it takes {floor:.0f} s"),
        Figure("h", "major incident: most texts in one second", busiest, "texts", at_most(rate),
               f"{basis}: every child's first text, any one-second window"),
        Figure("h", "major incident: parent history events per run", max(runs), "events", under(HISTORY_LIMIT),
               f"{basis}: {len(runs)} runs (continue-as-new)"),
        Figure("h", "major incident: worker RSS peak", peak, "MB", under(RSS_LIMIT_MB),
               f"{basis}: sampled each second during the fan-out"),
    ]
