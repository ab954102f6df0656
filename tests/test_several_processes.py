"""Several API and worker processes share one Temporal server and one PostgreSQL database, as production runs
them (README, "Scaling out"): 2 APIs, 2 workers, 200 incidents over both APIs, 20 of them posted to both at the
same moment, one worker SIGKILLed half-way. No case is lost or doubled, and every money event is paid once.

Real processes (`python -m api`, `python worker.py`, started as bench/processes.py starts them), the session's
Temporal dev server and its own PostgreSQL server.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import col, func, select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from bench.incidents import incident
from bench.processes import Api, Child, api_client, start_api, start_worker
from schemas.auth import AccountIn, Role, Scope
from schemas.refunds import RefundStatus
from settings import Settings
from store.accounts import create_account
from store.api_keys import create_unbounded_key
from store.db import session_for
from store.tables import CaseRow, RefundRow, SandboxLedgerEntry
from tests.harness import TENANT, eventually

INCIDENTS, POSTED_TO_BOTH = 200, 20
KILL_AFTER_FIRST_CONTACTS = 30  # early: its lost activities' 30 s timeout then overlaps the posting
# A killed worker's activities come back after their start-to-close timeout (30 s): the bound allows for it.
WITHIN_SECONDS = 90


def count(database_url: str, *conditions, table=CaseRow) -> int:
    with session_for(database_url) as session:
        return session.exec(select(func.count()).select_from(table).where(*conditions)).one()


def admin_headers(database_url: str) -> dict[str, str]:
    """One key that reports incidents and answers them: a person's key holding every scope."""
    with session_for(database_url) as session:
        create_account(session, TENANT, AccountIn(id="till-and-desk", display_name="Till and desk",
                                                  email="till-and-desk@example.com", roles=set(Role)))
        key = create_unbounded_key(session, TENANT, "till-and-desk", set(Scope))[1]
    return {"Authorization": f"Bearer {key}"}


async def worked_by(client: Client, database_url: str, worker: Child) -> bool:
    """Some contacted case's history shows this worker process (its client identity, pid@host) taking a task."""
    identity = f"{worker.process.pid}@"
    with session_for(database_url) as session:
        contacted = session.exec(select(CaseRow.id).where(col(CaseRow.first_contact_at).is_not(None))).all()
    for case_id in contacted:
        async for event in client.get_workflow_handle(case_id).fetch_history_events():
            took = (event.workflow_task_started_event_attributes.identity
                    or event.activity_task_started_event_attributes.identity)
            if took.startswith(identity):
                return True
    return False


async def post_all(clients: list[httpx.AsyncClient]) -> dict[int, list[httpx.Response]]:
    """Incident n goes to API n % 2; the first POSTED_TO_BOTH go to both at once. 16 in flight per API."""
    gates = [asyncio.Semaphore(16) for _ in clients]

    async def post(api: int, number: int) -> httpx.Response:
        async with gates[api]:
            return await clients[api].post("/incidents", json=incident("procs", number))

    async def one(number: int) -> list[httpx.Response]:
        targets = range(len(clients)) if number < POSTED_TO_BOTH else [number % len(clients)]
        return list(await asyncio.gather(*(post(api, number) for api in targets)))

    answers = await asyncio.gather(*(one(number) for number in range(INCIDENTS)))
    return dict(enumerate(answers))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_apis_and_two_workers_one_killed_lose_no_case_and_pay_each_once(
        dev_server: WorkflowEnvironment, settings: Settings, tmp_path: Path):
    address = dev_server.client.service_client.config.target_host
    # Ten minutes to answer (the test answers every customer); the follow-up an hour away, after the test.
    policy = settings.policy.model_copy(update={"reply_timeout": timedelta(minutes=10),
                                                "follow_up_delay": timedelta(hours=1)})
    settings = settings.model_copy(update={"policy": policy, "temporal_address": address})
    url = settings.database_url
    headers = admin_headers(url)  # also brings the new database to the newest migration, before any process
    launched = time.monotonic()
    workers = [start_worker(f"worker-{n}", settings, tmp_path) for n in (1, 2)]
    apis: list[Api] = []
    clients: list[httpx.AsyncClient] = []
    try:
        apis = list(await asyncio.gather(*(start_api(f"api-{n}", settings, tmp_path) for n in (1, 2))))
        clients = [api_client(api, headers) for api in apis]
        started = time.monotonic()
        posting = asyncio.ensure_future(post_all(clients))
        await eventually(lambda: count(url, col(CaseRow.first_contact_at).is_not(None)) >= KILL_AFTER_FIRST_CONTACTS,
                         within=WITHIN_SECONDS, interval=0.1)
        # The kill must matter: worker-1 is up, polls the queue and has worked cases when it dies.
        assert workers[0].process.poll() is None, "worker-1 died before the kill"
        await eventually(lambda: worked_by(dev_server.client, url, workers[0]), within=WITHIN_SECONDS, interval=0.3)
        workers[0].process.send_signal(signal.SIGKILL)
        assert workers[0].process.wait(timeout=30) == -signal.SIGKILL, "worker-1 ended by the SIGKILL, not before"
        answers = await posting
        posted = time.monotonic()

        # One case per external id: the doubled posts got the same case, one of them creating it.
        assert all(r.status_code in (200, 201) for rs in answers.values() for r in rs), "a post failed"
        for number in range(POSTED_TO_BOTH):
            assert len({r.json()["case_id"] for r in answers[number]}) == 1, number
            assert sorted(r.status_code for r in answers[number]) == [200, 201], number
        case_ids = [rs[0].json()["case_id"] for rs in answers.values()]
        assert len(set(case_ids)) == INCIDENTS == count(url)

        # Every case reaches its first contact, the killed worker's share included.
        await eventually(lambda: count(url, col(CaseRow.first_contact_at).is_not(None)) == INCIDENTS,
                         within=WITHIN_SECONDS, interval=0.3)
        contacted = time.monotonic()

        # Every customer answers (over either API); every money event is paid once.
        replies = await asyncio.gather(*(clients[n % 2].post(f"/cases/{case_id}/replies",
                                                             json={"channel": "sms", "text": "1"})
                                         for n, case_id in enumerate(case_ids)))
        assert [r.status_code for r in replies] == [202] * INCIDENTS
        # A ledger row is reserved before the provider is asked, so wait for every one to be settled as paid
        # (the provider's books are written before that), not merely for the rows to exist.
        await eventually(lambda: count(url, col(RefundRow.status) == RefundStatus.paid, table=RefundRow) >= INCIDENTS,
                         within=WITHIN_SECONDS, interval=0.3)
        with session_for(url) as session:
            refunds = Counter(session.exec(select(RefundRow.case_id)).all())
            assert set(session.exec(select(RefundRow.status)).all()) == {RefundStatus.paid}
            case_of_key = dict(session.exec(select(RefundRow.idempotency_key, RefundRow.case_id)).all())
            paid = session.exec(select(SandboxLedgerEntry.idempotency_key, SandboxLedgerEntry.amount_minor,
                                       SandboxLedgerEntry.currency)).all()
        # One overcharge per case, so one money event per case: the read model and the provider's own books
        # must each show exactly one refund of it, of the amount overcharged; a payment under any other key
        # (a second refund of the same sale) would count twice for its case here.
        assert refunds == Counter(case_ids)
        # The provider's key is the money event's (not the case's): the ledger says whose it was.
        paid_per_case = Counter(case_of_key.get(key, f"unknown key {key}") for key, _, _ in paid)
        assert paid_per_case == Counter(case_ids), "the provider paid each case's overcharge once"
        assert {(amount, currency) for _, amount, currency in paid} == {(995, "EUR")}
        print(f"\n2 APIs + 2 workers on PostgreSQL, serving {started - launched:.1f} s after launch: "
              f"{INCIDENTS + POSTED_TO_BOTH} posts in {posted - started:.1f} s, "
              f"all {INCIDENTS} customers contacted {contacted - started:.1f} s after the first post "
              f"(one worker SIGKILLed after {KILL_AFTER_FIRST_CONTACTS}), {INCIDENTS} refunds "
              f"{time.monotonic() - contacted:.1f} s after the answers")
    finally:
        for client in clients:
            await client.aclose()
        for child in [*(api.child for api in apis), *workers]:
            child.stop()
