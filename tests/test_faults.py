"""Fault injection (issue 6): every case still completes, with its whole timeline and exactly one refund, when
the payment provider fails, the worker is killed, the Temporal server restarts, or the database refuses writes.

All real: Temporal servers, worker processes, SQLite files. Twenty concurrent posts of one incident opening one
case is tested in tests/test_intake.py (test_twenty_concurrent_posts_are_one_case_and_one_workflow).
"""

from __future__ import annotations

import asyncio
import re
import resource
import signal
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from providers.faults import FaultPlan, ProviderTimedOut
from providers.payments.sandbox import SandboxPayments
from schemas.progress import CaseOutcome
from settings import Settings
from stack.binaries import temporal_cli
from store.tables import CaseRow, SandboxOutboxEntry, TimelineRow
from temporal_client import data_converter
from tests.harness import Stack, eventually, start_worker, stop
from tests.scenarios.test_s1_till_overcharge import till_record
from worker import Providers, sandbox_providers

# The timeline of an S1 case, by entry key without the case id; "reply" stands for the customer's answer.
STORY = ["intake", "verify", "overcharge/ask_destination:0", "refund", "overcharge/thank_you:0",
         "common/satisfaction:0", "close"]
STORY_WITH_REPLY = sorted([*STORY, "reply"])
ASKED = ":overcharge/ask_destination:0"


def short_policy(settings: Settings, reply_timeout: timedelta = timedelta(seconds=2)) -> Settings:
    """Seconds instead of days. The API snapshots the policy into each case, so this is what the cases run."""
    policy = settings.policy.model_copy(update={"reply_timeout": reply_timeout, "follow_up_delay": timedelta(seconds=1),
                                                "satisfaction_timeout": timedelta(seconds=1)})
    return settings.model_copy(update={"policy": policy})


def phone(number: int) -> str:
    return f"+35840{number:07d}"


async def open_cases(stack: Stack, count: int, prefix: str) -> list[str]:
    """`count` overcharged customers at once, each with a phone of their own."""
    responses = await asyncio.gather(*(
        stack.api.post("/transactions", json=till_record(
            f"{prefix}-{n}", customer={"name": f"Customer {n}", "phone": phone(n), "language": "en"}))
        for n in range(count)))
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses if r.status_code != 200]
    return [r.json()["case"]["case_id"] for r in responses]


async def outcomes(client: Client, case_ids: list[str], within: float) -> list[CaseOutcome]:
    async with asyncio.timeout(within):
        return await asyncio.gather(*(client.get_workflow_handle(case_id).result() for case_id in case_ids))


def asked(stack: Stack) -> int:
    """How many customers have had the first text of their case."""
    return sum(entry.idempotency_key.endswith(ASKED) for entry in stack.rows(SandboxOutboxEntry))


def timeline(stack: Stack, case_id: str) -> list[str]:
    keys = [row.entry_key.removeprefix(f"{case_id}:") for row in stack.rows(TimelineRow, case_id=case_id)]
    return sorted(re.sub(r"^in:\d+$", "reply", key) for key in keys)


def assert_each_recovered_once(stack: Stack, case_ids: list[str], story: list[str]) -> None:
    """Closed, paid exactly once (by the provider's own books and ours), and no timeline line lost or doubled."""
    ours = sorted(refund.idempotency_key for case_id in case_ids for refund in stack.refunds(case_id))
    assert sorted(entry.idempotency_key for entry in stack.ledger()) == ours and len(ours) == len(case_ids)
    for case_id in case_ids:
        assert stack.case(case_id).status == "closed"
        assert len(stack.refunds(case_id)) == 1, case_id
        assert timeline(stack, case_id) == sorted(story), case_id


def address_of(env: WorkflowEnvironment) -> str:
    return env.client.service_client.config.target_host


# -- 1. the payment provider fails 30% of calls ------------------------------------------------------------


@dataclass
class CountedFaults(FaultPlan):
    """Also counts the worst fault apart: the provider paid, then the call failed."""

    paid_then_failed: int = 0

    def after_effect(self) -> None:
        try:
            super().after_effect()
        except ProviderTimedOut:
            with self._lock:  # refunds run on many activity threads at once
                self.paid_then_failed += 1
            raise


async def reply_card_when_asked(stack: Stack, number: int, case_id: str) -> None:
    await eventually(lambda: stack.texts_to(phone(number)), within=30, interval=0.2)
    reply = await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": "1"})
    assert reply.status_code == 202, reply.text


async def test_a_flaky_payment_provider_still_pays_each_case_exactly_once(dev_server: WorkflowEnvironment,
                                                                         settings: Settings):
    settings = short_policy(settings, reply_timeout=timedelta(minutes=5))
    # 30% of calls fail at random (threads interleave, so even a seeded plan varies); the first two refunds
    # paid also time out, so the worst fault surely happens in every run.
    faults = CountedFaults(before_rate=0.15, after_effect_rate=0.15, fail_first_after_effect=2, seed=6)
    providers = Providers(payments=SandboxPayments(settings.database_url, faults),
                          senders=sandbox_providers(settings).senders)
    async with asyncio.timeout(90), Stack.running(dev_server, settings, providers) as stack:
        case_ids = await open_cases(stack, 20, "flaky-psp")
        await asyncio.gather(*(reply_card_when_asked(stack, n, c) for n, c in enumerate(case_ids)))

        assert await outcomes(dev_server.client, case_ids, within=60) == [CaseOutcome.recovered] * 20
        assert faults.injected > 0 and faults.paid_then_failed >= 2, "the provider failed, after paying too"
        assert_each_recovered_once(stack, case_ids, STORY_WITH_REPLY)
        assert {r.destination for c in case_ids for r in stack.refunds(c)} == {"original_card"}


# -- 2. the worker is killed in the middle of 50 cases -----------------------------------------------------


async def test_fifty_cases_survive_a_killed_worker_with_one_refund_each(dev_server: WorkflowEnvironment,
                                                                       settings: Settings, tmp_path: Path):
    settings = short_policy(settings)
    first = start_worker(address_of(dev_server), settings, tmp_path / "worker-1.log")
    second = None
    try:
        async with asyncio.timeout(150), Stack.running(dev_server, settings, with_worker=False) as stack:
            case_ids = await open_cases(stack, 50, "killed-worker")
            await eventually(lambda: asked(stack) >= 25, within=60, interval=0.1)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
            closed = len(stack.rows(CaseRow, status="closed"))
            assert closed < 50, "the worker died with cases still running"

            second = start_worker(address_of(dev_server), settings, tmp_path / "worker-2.log")
            # In-flight activities of the dead worker come back after their 30 s start-to-close timeout.
            assert await outcomes(dev_server.client, case_ids, within=100) == [CaseOutcome.recovered] * 50
            assert len(stack.rows(CaseRow, status="closed")) == 50
            assert_each_recovered_once(stack, case_ids, STORY)
    finally:
        if first.poll() is None:
            first.kill()
        if second is not None:
            stop(second)


# -- 3. the Temporal server restarts in the middle of waiting cases ------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PersistentDevServer:
    """A dev server of the test's own, its state in a SQLite file, so the test can stop it and start it again."""

    db_file: Path
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [temporal_cli(), "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(self.port),
                   "--db-filename", str(self.db_file), "--sqlite-pragma", "journal_mode=wal",
                   "--sqlite-pragma", "synchronous=normal", "--log-level", "error"]
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)


async def connect_when_serving(address: str, within: float = 30) -> Client:
    async with asyncio.timeout(within):
        while True:
            try:
                return await Client.connect(address, data_converter=data_converter(Settings()))
            except RuntimeError:  # not listening yet
                await asyncio.sleep(0.2)


async def serving_again(client: Client, within: float = 30) -> None:
    """Waits on the client we already had: it reconnects by itself, nobody calls `connect` again."""
    async with asyncio.timeout(within):
        while True:
            try:
                if await client.service_client.check_health(timeout=timedelta(seconds=2)):
                    return
            except RPCError:
                pass
            await asyncio.sleep(0.2)


@asynccontextmanager
async def stack_on_own_server(settings: Settings, tmp_path: Path,
                              within: float = 120) -> AsyncIterator[tuple[Stack, PersistentDevServer]]:
    """Worker and API on a dev server of the test's own, which the test may stop and start again (`serving_again`
    on `stack.env.client` waits for it)."""
    server = PersistentDevServer(tmp_path / "temporal.db", tmp_path / "temporal.log")
    server.start()
    try:
        async with asyncio.timeout(within):
            client = await connect_when_serving(server.address)
            async with Stack.running(WorkflowEnvironment.from_client(client), settings) as stack:
                yield stack, server
    finally:
        server.stop()


async def test_cases_waiting_for_replies_resume_after_the_temporal_server_restarts(settings: Settings,
                                                                                  tmp_path: Path):
    settings = short_policy(settings, reply_timeout=timedelta(hours=4))
    async with stack_on_own_server(settings, tmp_path) as (stack, server):
        client = stack.env.client
        case_ids = await open_cases(stack, 10, "server-restart")
        await eventually(lambda: asked(stack) == 10, within=30, interval=0.1)

        server.stop()
        server.start()  # same file, same port
        await serving_again(client)

        for number, case_id in enumerate(case_ids):
            await reply_card_when_asked(stack, number, case_id)
        assert await outcomes(client, case_ids, within=60) == [CaseOutcome.recovered] * 10
        assert_each_recovered_once(stack, case_ids, STORY_WITH_REPLY)


# -- 4. the database refuses the worker's writes for a few seconds -------------------------------------------


@contextmanager
def writes_refused(pid: int) -> Iterator[None]:
    """Sets the process's file-size limit to zero: every write SQLite makes there fails ('disk I/O error'), as
    on a full or failing disk, while reads go on. Python ignores the SIGXFSZ that comes with it. The database
    cannot be locked away instead: its 30 s busy timeout only delays writers, and chmod does not stop root."""
    before = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (0, before[1]))
    try:
        yield
    finally:
        resource.prlimit(pid, resource.RLIMIT_FSIZE, before)


async def failures_before_retries(client: Client, case_ids: list[str]) -> list[str]:
    """What went wrong before each retried activity attempt: Temporal records it on the attempt that ran."""
    failures = []
    for case_id in case_ids:
        async for event in client.get_workflow_handle(case_id).fetch_history_events():
            started = event.activity_task_started_event_attributes
            if event.HasField("activity_task_started_event_attributes") and started.attempt > 1:
                failures.append(started.last_failure.message)
    return failures


async def test_no_timeline_line_is_lost_while_the_database_refuses_writes(dev_server: WorkflowEnvironment,
                                                                          settings: Settings):
    settings = short_policy(settings)
    # Output to /dev/null: writing a log file would fail during the outage too, which is not the fault under test.
    worker = start_worker(address_of(dev_server), settings, log=None)
    try:
        async with asyncio.timeout(90), Stack.running(dev_server, settings, with_worker=False) as stack:
            case_ids = await open_cases(stack, 10, "db-outage")
            await eventually(lambda: asked(stack) >= 5, within=30, interval=0.05)
            with writes_refused(worker.pid):
                await asyncio.sleep(5)

            assert await outcomes(dev_server.client, case_ids, within=60) == [CaseOutcome.recovered] * 10
            assert_each_recovered_once(stack, case_ids, STORY)
            failures = await failures_before_retries(dev_server.client, case_ids)
            assert any("disk I/O error" in failure for failure in failures), failures
    finally:
        stop(worker)
