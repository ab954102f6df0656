"""A running system for a test: our worker on the test's server, and the API over ASGI in-process."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, nullcontext, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn
from fastapi import FastAPI
from sqlmodel import select
from temporalio.client import Client, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.routes.inbound import body_signature
from messages.render import TEMPLATE_ERROR
from schemas.auth import ROLE_SCOPES, AccountIn, PrincipalKind, Role, Scope
from schemas.cases import LiveState
from schemas.policy import ContactPolicy, RecoveryPolicy
from schemas.refunds import RefundStatus
from settings import PROJECT_DIR, Settings
from store.accounts import create_account
from store.api_keys import create_key, create_unbounded_key
from store.db import session_for
from store.tables import CaseRow, MessageRow, RefundRow, SandboxLedgerEntry, SandboxOutboxEntry, StaffAccountRow
from webhooks.relay import relay_running
from worker import Providers, build_worker

T = TypeVar("T")
HISTORIES = PROJECT_DIR / "tests" / "replay" / "histories"
RECORD_HISTORY = "RECORD_HISTORY"  # `RECORD_HISTORY=<name> pytest ...`: a scenario test records that history
TENANT = "acme"
STAFF = {"aino.agent": Role.agent, "duty.manager": Role.agent, "ville.clerk": Role.agent,
         "legal.counsel": Role.agent}
MAIL_GATEWAY_SECRET = "test-mail-gateway-secret"
# Tests run at any hour; the one about quiet hours turns them on itself.
NO_QUIET_HOURS = ContactPolicy(quiet_hours_start=clock_time(0, 0), quiet_hours_end=clock_time(0, 0))


def test_settings(directory: Path) -> Settings:
    """A database of the test's own and a task queue of its own, so tests never see each other's cases."""
    return Settings(
        database_url=f"sqlite:///{directory / 'recovery.db'}",
        mail_gateway_secret=MAIL_GATEWAY_SECRET,
        api_key_cache_seconds=0.5,
        temporal_task_queue=f"test-{uuid.uuid4().hex[:12]}",
        policy=RecoveryPolicy(reply_timeout=timedelta(hours=4), follow_up_delay=timedelta(days=2),
                              satisfaction_timeout=timedelta(days=5), contact=NO_QUIET_HOURS),
    )


class _TemplateFailures(logging.Handler):
    """Collects the template errors this process's workers meet (the SDK logs every failed activity), so
    `eventually` fails at once with Jinja's message instead of timing out on a message that never comes."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, ApplicationError) and error.type == TEMPLATE_ERROR:
            self.seen.append(error.message)


TEMPLATE_FAILURES = _TemplateFailures()
logging.getLogger("temporalio.activity").addHandler(TEMPLATE_FAILURES)


@dataclass
class Stack:
    env: WorkflowEnvironment
    settings: Settings
    app: FastAPI
    api: httpx.AsyncClient

    @classmethod
    @asynccontextmanager
    async def running(cls, env: WorkflowEnvironment, settings: Settings, providers: Providers | None = None,
                      with_worker: bool = True, client: Client | None = None) -> AsyncIterator[Stack]:
        """`with_worker=False` when the test runs its own worker processes; `client` to use another data
        converter (payload encryption) than the environment's."""
        client = client or env.client
        TEMPLATE_FAILURES.seen.clear()  # an earlier test's
        app = create_app(settings, temporal=client)
        _seed_staff(settings)
        admin_key = _new_key(settings, f"admin-{uuid.uuid4().hex[:8]}", PrincipalKind.person, set(Scope))
        worker = build_worker(client, settings, providers) if with_worker else nullcontext()
        relay = relay_running(client, settings) if with_worker else nullcontext()  # as worker.py runs it
        async with worker, relay, httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api",
            headers={"Authorization": f"Bearer {admin_key}"},
        ) as api:
            stack = cls(env=env, settings=settings, app=app, api=api)
            try:
                yield stack
            finally:
                await stack.terminate_open_cases()

    async def terminate_open_cases(self) -> None:
        """Leaves the shared server clean: the time-skipping server will not skip time while any workflow
        of an earlier test still has an activity outstanding, even one of a workflow terminated mid-activity,
        so each case's activities are let finish (the worker still runs) before it is terminated."""
        for case in self.rows(CaseRow):
            with suppress(RPCError):
                await self.idle(case.id)
                await self.env.client.get_workflow_handle(case.id).terminate("test finished")

    async def skip(self, duration: timedelta) -> None:
        """Moves the time-skipping server's clock on. Its sleep stalls while any activity is in flight, so
        this first lets every case of the test settle."""
        for case in self.rows(CaseRow):
            await self.idle(case.id)
        await self._skip_to(await self.env.get_current_time() + duration)

    async def _skip_to(self, target: datetime) -> None:
        """The server's sleep call can time out on a loaded machine while its clock still moves on; asking again
        for the remainder (never the whole duration twice) keeps the test's timeline exact."""
        for _ in range(5):
            remaining = target - await self.env.get_current_time()
            if remaining <= timedelta(0):
                return
            try:
                await self.env.sleep(remaining)
                return
            except RPCError as error:
                if error.status not in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED) \
                        and "Timeout expired" not in str(error) and "h2 protocol error" not in str(error):
                    raise
        raise AssertionError(f"the time-skipping server did not reach {target}")

    async def idle(self, case_id: str) -> None:
        """Waits until the case's workflow has no activity outstanding (so the time-skipping clock is free)."""
        handle = self.env.client.get_workflow_handle(case_id)
        deadline = time.monotonic() + 60  # by the clock, not by tries: each describe is slow on a loaded machine
        while time.monotonic() < deadline:
            if not (await handle.describe()).raw_description.pending_activities:
                return
            await asyncio.sleep(0.05)

    async def history(self, case_id: str) -> str:
        """The case's workflow history in one line per event (type, activity, signal, failure): what a failing test
        prints, so a case that did not move says where it stands."""
        lines = []
        async for event in self.env.client.get_workflow_handle(case_id).fetch_history_events():
            kind = event.WhichOneof("attributes") or "?"
            detail = getattr(event, kind, None)
            activity = getattr(getattr(detail, "activity_type", None), "name", "")
            failure = getattr(getattr(detail, "failure", None), "message", "")
            signal = getattr(detail, "signal_name", "")
            lines.append(" ".join(part for part in (str(event.event_id), kind.removesuffix("_event_attributes"),
                                                    activity, signal, failure) if part))
        return "\n".join(lines)

    async def live(self, case_id: str) -> LiveState:
        """The case's live state, asked of its workflow (the `state` query), as `GET /cases/{id}` shows it."""
        return await self.env.client.get_workflow_handle(case_id).query("state", result_type=LiveState)

    async def until_live(self, case_id: str, condition: Callable[[LiveState], bool],
                         within: float = 45.0) -> LiveState:
        """Waits until the case's live state meets `condition` (failing at once on a template error, like
        `eventually`), and returns it."""

        async def met() -> LiveState | None:
            state = await self.live(case_id)
            return state if condition(state) else None

        return await eventually(met, within)

    async def keep_history(self, case_id: str, name: str) -> None:
        """A scenario test's case, kept as `tests/replay/histories/<name>.json` when the environment variable
        `RECORD_HISTORY` names it (`RECORD_HISTORY=<name> .venv/bin/python -m pytest tests/scenarios/...`): the
        case runs to its end first. Otherwise nothing happens, so the test runs as any other."""
        if os.environ.get(RECORD_HISTORY) == name:
            await save_history(self.env.client.get_workflow_handle(case_id), HISTORIES / f"{name}.json")

    def key(self, principal: str, *scopes: Scope, kind: PrincipalKind = PrincipalKind.person,
            tenant: str = TENANT) -> dict[str, str]:
        """Headers carrying a new API key for `principal` with exactly `scopes` (a person: a staff account of
        that name, made if missing)."""
        return {"Authorization": f"Bearer {_new_key(self.settings, principal, kind, set(scopes), tenant)}"}

    # -- reading what happened, straight from the database ------------------------------------------

    def rows(self, table: type[T], **where: Any) -> list[T]:
        with session_for(self.settings.database_url) as session:
            query = select(table)
            for name, value in where.items():
                query = query.where(getattr(table, name) == value)
            return list(session.exec(query.order_by(table.id)).all())

    def case(self, case_id: str) -> CaseRow:
        with session_for(self.settings.database_url) as session:
            return session.get(CaseRow, case_id)

    def texts_to(self, address: str) -> list[SandboxOutboxEntry]:
        return self.rows(SandboxOutboxEntry, to_address=address, channel="sms")

    def ledger(self) -> list[SandboxLedgerEntry]:
        return self.rows(SandboxLedgerEntry)

    def refunds(self, case_id: str) -> list[RefundRow]:
        """The case's entries in the refund ledger whose money moved (not ones reserved or refused)."""
        return [row for row in self.rows(RefundRow, case_id=case_id) if RefundStatus(row.status).settled]

    def outbound(self, case_id: str) -> list[MessageRow]:
        return self.rows(MessageRow, case_id=case_id, direction="out")


async def save_history(handle: WorkflowHandle, path: Path) -> None:
    """Waits for the workflow's end and writes its history to `path`, which must not exist yet: a recorded history
    stands for the cases running in production on the code that recorded it, so it is never replaced (a change
    that fails to replay it needs `workflow.patched`; see tests/replay/record.py)."""
    if await asyncio.to_thread(path.exists):
        raise FileExistsError(f"{path.name} is recorded already and is never re-recorded: patch the workflow instead")
    await handle.result()
    await asyncio.to_thread(path.write_text, (await handle.fetch_history()).to_json())


async def eventually(check: Callable[[], T], within: float = 45.0, interval: float = 0.05,
                     templates_must_render: bool = True) -> T:
    """Polls until `check` returns something truthy (or a coroutine that does); fails with the last value after
    `within` seconds. Generous: the bound only matters when something is wrong, and CI machines run the suite
    several times slower than a quiet laptop. Fails at once when a message template failed to render (unless
    `templates_must_render` is False: a test of that failure)."""
    deadline = time.monotonic() + within
    while True:
        if templates_must_render and TEMPLATE_FAILURES.seen:
            raise AssertionError(f"a message template failed: {TEMPLATE_FAILURES.seen[0]}")
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s (last value: {value!r})")
        await asyncio.sleep(interval)


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """`app` on a free local port, on this event loop, for clients outside the process. The socket listens
    before uvicorn starts, so a client connecting early waits in the backlog instead of being refused."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


def _new_key(settings: Settings, principal: str, kind: PrincipalKind, scopes: set[Scope],
             tenant: str = TENANT) -> str:
    """A system's key is bounded by its kind as in production; a person's holds exactly `scopes` (tests give
    odd mixes, e.g. a key with `cases:approve` alone), for an account whose roles cover them."""
    with session_for(settings.database_url) as session:
        if kind is not PrincipalKind.person:
            return create_key(session, tenant, principal, kind, scopes)[1]
        roles = {role for role, allowed in ROLE_SCOPES.items() if allowed & scopes} or {Role.agent}
        if (account := session.get(StaffAccountRow, principal)) is None:
            create_account(session, tenant, AccountIn(id=principal, display_name=principal.title(),
                                                      email=f"{principal}@example.com", roles=roles))
        elif not roles <= set(account.roles):  # a seeded account given more to do: its key is bounded by its roles
            account.roles = sorted(roles | set(account.roles))
            session.add(account)
            session.commit()
        return create_unbounded_key(session, tenant, principal, scopes)[1]


def _seed_staff(settings: Settings) -> None:
    """The staff the stories name as owners; an incident may suggest only an existing account."""
    with session_for(settings.database_url) as session:
        for name, role in STAFF.items():
            if session.get(StaffAccountRow, name) is None:
                create_account(session, TENANT, AccountIn(id=name, display_name=name.title(),
                                                          email=f"{name}@example.com", roles={role}))


def sign_email(settings: Settings, body: dict[str, Any], at: float | None = None) -> tuple[bytes, dict[str, str]]:
    """The mail gateway's post, signed now (or `at`, Unix seconds): the JSON body (with a Message-ID, unless the
    test gives one) and its signature headers."""
    content = json.dumps({"message_id": f"<{uuid.uuid4().hex}@mail.example.com>"} | body).encode()
    timestamp = str(int(time.time() if at is None else at))
    signature = body_signature(settings.mail_gateway_secret.get_secret_value(), timestamp, content)
    return content, {"X-Signature-256": signature, "X-Signature-Timestamp": timestamp,
                     "Content-Type": "application/json"}


def start_worker(address: str, settings: Settings, log: Path | None, **more_env: str) -> subprocess.Popen:
    """`python worker.py` as production runs it, on the test's server, task queue and database."""
    environment = {**os.environ, "TEMPORAL_ADDRESS": address, "TEMPORAL_TASK_QUEUE": settings.temporal_task_queue,
                   "DATABASE_URL": settings.database_url, "POLICY": settings.policy.model_dump_json(),
                   "ALLOW_UNENCRYPTED_PAYLOADS": "true", **more_env, **_webhook_environment(settings)}
    with log.open("ab") if log else open(os.devnull, "wb") as output:
        return subprocess.Popen([sys.executable, "worker.py"], cwd=PROJECT_DIR, env=environment,
                                stdout=output, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _webhook_environment(settings: Settings) -> dict[str, str]:
    webhook = settings.model_dump(mode="json", include={"webhook_allow_private_networks", "webhook_retry_schedule"})
    return {name.upper(): json.dumps(value) for name, value in webhook.items()}
