"""An erasure finishes the job without stopping the world: a customer whose email bounced and whose number the
carrier rejected leaves no trace in any column or in the database's files, and a worker writing all the while
is never held up for a second."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, insert, inspect, text, update
from sqlalchemy.engine import make_url
from temporalio.testing import WorkflowEnvironment

from providers.messaging import RecipientRejected
from providers.messaging.sandbox import SandboxSender
from providers.payments.sandbox import SandboxPayments
from schemas.channels import Channel
from schemas.incidents import IncidentIn
from schemas.messages import DeliveryStatus
from schemas.privacy import SubjectRef
from settings import Settings
from store.cases import open_case
from store.db import engine_for, session_for
from store.erasure import erase_customer
from store.tables import CaseRow, ErasureRow, MessageRow, SandboxLedgerEntry, SandboxOutboxEntry, TimelineRow
from tests.harness import TENANT, Stack, eventually
from tests.test_intake import incident
from worker import Providers

NAME, PHONE, EMAIL = "Kalle Kimmonen", "+358405550177", "kalle.kimmonen@example.fi"
SUBJECT = {"name": NAME, "phone": PHONE, "email": EMAIL, "reason": "the customer's request by letter"}
FILLER_ROWS = 30_000  # about 40 MB of other customers' mail around the erased rows


class CarrierRejects(SandboxSender):
    """A carrier that refuses the number for good, quoting it, as Twilio's error 21614 does."""

    def send(self, idempotency_key: str, to: str, subject: str, body: str):
        raise RecipientRejected(f"{to}: Twilio 21614, not a mobile number")


@pytest.fixture
async def unreachable(time_skipping: WorkflowEnvironment, settings: Settings):
    url = settings.database_url
    senders = {Channel.sms: CarrierRejects(url, Channel.sms),
               Channel.voice: SandboxSender(url, Channel.voice, outcomes={PHONE: DeliveryStatus.rejected}),
               Channel.email: SandboxSender(url, Channel.email, outcomes={EMAIL: DeliveryStatus.bounced})}
    async with Stack.running(time_skipping, settings, Providers(SandboxPayments(url), senders)) as stack:
        yield stack


async def closed_case_nobody_reached(stack: Stack) -> str:
    incident = {"external_id": "cc-7001", "kind": "overcharge", "source": "contact_centre", "owner": "aino.agent",
                "store": "Prisma Kaleva", "amount": {"amount_minor": 700, "currency": "EUR"},
                "customer": {"name": NAME, "phone": PHONE, "email": EMAIL, "language": "en"}}
    case_id = (await stack.api.post("/incidents", json=incident)).json()["case_id"]
    await eventually(lambda: {m.status for m in stack.outbound(case_id)} >= {"rejected", "bounced"})
    policy = stack.settings.policy
    for wait in (policy.reply_timeout, policy.follow_up_delay, policy.satisfaction_timeout):
        await stack.skip(wait)
    await stack.env.client.get_workflow_handle(case_id).result()
    return case_id


def fill(database_url: str) -> None:
    body = "Another customer's message. " * 40
    with engine_for(database_url).begin() as connection:
        connection.execute(insert(SandboxOutboxEntry), [
            {"idempotency_key": f"filler:{n}", "channel": "email", "to_address": f"other{n}@example.com",
             "body": body} for n in range(FILLER_ROWS)])


class Writer(threading.Thread):
    """The worker's side: a small write every few milliseconds, each timed from start to commit."""

    def __init__(self, database_url: str) -> None:
        super().__init__(daemon=True)
        self.database_url, self.longest, self.writes = database_url, 0.0, 0
        self.started_at: list[float] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            started = time.monotonic()
            self.started_at.append(started)
            with session_for(self.database_url) as session:
                session.add(SandboxLedgerEntry(idempotency_key=f"writer:{self.writes}", amount_minor=1,
                                               currency="EUR", destination="original_card"))
                session.commit()
            self.longest = max(self.longest, time.monotonic() - started)
            self.writes += 1
            time.sleep(0.005)


async def test_erasure_leaves_no_address_and_blocks_no_writer(unreachable: Stack):
    stack = unreachable
    case_id = await closed_case_nobody_reached(stack)
    rejected = next(m for m in stack.outbound(case_id) if m.status == "rejected" and m.provider_ref)
    assert rejected.provider_ref.startswith("rejected:") and PHONE not in rejected.provider_ref, "masked at once"
    await asyncio.to_thread(fill, stack.settings.database_url)
    database = Path(make_url(stack.settings.database_url).database)
    assert in_files(database, PHONE) and in_files(database, EMAIL), "the test is sound"

    writer = Writer(stack.settings.database_url)
    writer.start()
    try:
        asked = time.monotonic()
        erased = await stack.api.post("/customers/erase", json=SUBJECT)
        assert erased.status_code == 200, erased.text
        erasure_id = erased.json()["erasure_id"]
        await eventually(lambda: stack.rows(ErasureRow, id=erasure_id)[0].purged_at is not None, within=60)
        purged = time.monotonic()
    finally:
        writer.stopping.set()
        await asyncio.to_thread(writer.join)
    assert any(asked <= at <= purged for at in writer.started_at), "the worker wrote while the erasure ran"
    assert writer.longest < 1.0, f"a write waited {writer.longest:.2f} s"

    assert not [trace for trace in (NAME, PHONE, EMAIL) if in_files(database, trace)], "still in the files"
    assert not columns_holding(stack.settings.database_url, (NAME, PHONE, EMAIL))
    assert all(m.provider_ref is None for m in stack.rows(MessageRow, case_id=case_id))


def in_files(database: Path, trace: str) -> bool:
    return any(path.exists() and trace.encode() in path.read_bytes()
               for path in (database, database.with_name(database.name + "-wal")))


def columns_holding(database_url: str, traces: tuple[str, ...]) -> list[str]:
    """Every text column of every table, searched for each trace."""
    engine = engine_for(database_url)
    found = []
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            for column in inspect(engine).get_columns(table):
                for trace in traces:
                    hits = connection.execute(text(f'SELECT COUNT(*) FROM "{table}" WHERE CAST("{column["name"]}" '
                                                   "AS TEXT) LIKE :trace"), {"trace": f"%{trace}%"}).scalar_one()
                    if hits:
                        found.append(f"{table}.{column['name']}: {trace}")
    return found


def test_the_scans_run_before_the_write_transaction_and_the_writes_go_by_key(tmp_path: Path):
    """Review major 5: the write lock (SQLite's, taken by the first write) is held only for writes by primary key;
    every LIKE scan of free text over all messages and timelines runs before it, in the read transaction."""
    url = f"sqlite:///{tmp_path / 'recovery.db'}"
    with session_for(url) as session:
        open_case(session, "case-1", "CASE0001", TENANT, "till", IncidentIn.model_validate(
            incident(customer={"name": NAME, "phone": PHONE, "language": "fi"})), datetime.now(UTC), None)
        session.exec(update(CaseRow).values(status="closed"))
        session.add(TimelineRow(case_id="case-1", entry_key="case-1:note", step="note", actor="aino",
                                note=f"{NAME} called about it"))
        session.commit()
    statements: list[str] = []
    engine = engine_for(url)
    listen = ("before_cursor_execute", lambda *args: statements.append(" ".join(args[2].split())))
    event.listen(engine, *listen)
    try:
        with session_for(url) as session:
            erasure = erase_customer(session, TENANT, SubjectRef(name=NAME, phone=PHONE), "dpo", "asked by letter")
    finally:
        event.remove(engine, *listen)

    assert erasure.counts["free_text"] >= 1 and erasure.counts["cases"] == 1
    first_write = next(n for n, sql in enumerate(statements) if sql.startswith(("INSERT", "UPDATE", "DELETE")))
    assert not [sql for sql in statements[first_write:] if " LIKE " in sql], "no scan under the write lock"
    assert all(sql.startswith(("INSERT", "UPDATE", "DELETE")) for sql in statements[first_write:]), \
        statements[first_write:]
