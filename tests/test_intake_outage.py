"""Intake never loses a case (issue 10, item 5): with Temporal down, `POST /incidents` answers 503 with
Retry-After and keeps the case; `/readyz` names Temporal; once Temporal is back the worker's reconciler starts
the case from the input intake recorded, and the customer is contacted without anyone posting again.

All real: a dev server the test stops and starts on the same SQLite file, `python worker.py` in its own process.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx
from pydantic import SecretStr
from sqlalchemy import update
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from intake import reconciler
from intake.cases import unseal
from intake.reconciler import start_pending
from metrics.prometheus import exposition
from metrics.read_model import CaseScope
from schemas.cases import CaseInput
from schemas.incidents import IncidentIn
from settings import Settings
from store.db import session_for
from store.tables import CaseRow
from temporal_client import data_converter
from tests.harness import Stack, eventually, start_worker, stop
from tests.scenarios.test_s1_till_overcharge import PHONE, till_record
from tests.test_faults import PersistentDevServer, connect_when_serving, free_port, phone
from tests.test_intake import incident
from tests.test_payload_codec import keys


async def polled(client: Client, task_queue: str) -> None:
    """Until a worker polls the queue: the worker process is up and connected."""
    request = DescribeTaskQueueRequest(namespace=client.namespace, task_queue=TaskQueue(name=task_queue))
    for _ in range(300):
        if (await client.workflow_service.describe_task_queue(request)).pollers:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"no worker polls {task_queue} within a minute")


async def workflow_input(client: Client, case_id: str) -> CaseInput:
    """What the workflow was started with, read back from its history."""
    history = await client.get_workflow_handle(case_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    [case] = await client.data_converter.decode(started.input.payloads, [CaseInput])
    return case


async def test_a_case_posted_while_temporal_is_down_is_worked_when_it_comes_back(settings: Settings,
                                                                                 tmp_path: Path):
    # The API snapshots its own policy into the case; the worker runs another, so the test can tell whose
    # policy the reconciled case got.
    api_policy = settings.policy.model_copy(update={"reply_timeout": timedelta(hours=3)})
    api_settings = settings.model_copy(update={"policy": api_policy, "intake_start_timeout": 3.0,
                                               "intake_retry_after_seconds": 7})
    server = PersistentDevServer(tmp_path / "temporal.db", tmp_path / "temporal.log")
    server.start()
    worker = None
    try:
        async with asyncio.timeout(150):
            client = await connect_when_serving(server.address)
            async with Stack.running(WorkflowEnvironment.from_client(client), api_settings,
                                     with_worker=False) as stack:
                # started once the API has made the tables: two processes creating them at once can collide
                worker = start_worker(server.address, settings, tmp_path / "worker.log",
                                      RECONCILE_INTERVAL="0.5", RECONCILE_GRACE="1")
                await polled(client, settings.temporal_task_queue)
                server.stop()

                posted = await stack.api.post("/incidents", json=incident("till-fire-and-forget"))
                assert posted.status_code == 503, posted.text
                assert posted.headers["Retry-After"] == "7"
                [case] = stack.rows(CaseRow)
                assert case.id in posted.json()["detail"], "the integrator is told which case was kept"
                ready = await stack.api.get("/readyz")
                assert ready.status_code == 503
                assert ready.json()["temporal"].startswith("down") and ready.json()["database"] == "ok"
                assert (await stack.api.get("/healthz")).status_code == 200, "alive all the same: no restart"

                server.start()  # same file, same port; nobody posts again

                await eventually(lambda: stack.texts_to(PHONE), within=60, interval=0.2)
                contacted = await eventually(lambda: stack.case(case.id).first_contact_at)
                assert contacted >= case.opened_at
                assert stack.case(case.id).start_payload is None, "the kept input is dropped once the case runs"
                started_with = await workflow_input(client, case.id)
                assert started_with.policy == api_policy, "the policy snapshot taken at intake, not the worker's"
                assert started_with.incident == IncidentIn.model_validate(incident("till-fire-and-forget"))
                assert started_with.opened_at == case.opened_at
                assert (await stack.api.get("/readyz")).json() == {"status": "ready", "database": "ok",
                                                                   "temporal": "ok"}
    finally:
        if worker is not None:
            stop(worker)
        server.stop()


async def test_a_till_record_that_opens_a_case_gets_a_503_while_temporal_is_down(stack: Stack, settings: Settings):
    nowhere = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True, data_converter=data_converter(settings))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings, temporal=nowhere)),
                                 base_url="http://api", headers=stack.api.headers) as cut_off:
        overcharged = await cut_off.post("/transactions", json=till_record("T-outage-1"))
        correct = await cut_off.post("/transactions", json=till_record("T-outage-2", charged_minor=1490))
        ready = await cut_off.get("/readyz")
    assert overcharged.status_code == 503 and overcharged.headers["Retry-After"] == "10"
    [case] = stack.rows(CaseRow)
    assert case.start_payload and case.id in overcharged.json()["detail"]
    assert correct.status_code == 200 and correct.json()["case"] is None, "no case, so no need of Temporal"
    assert ready.status_code == 503 and ready.json()["temporal"].startswith("down: ")


async def test_the_kept_input_is_sealed_with_the_payload_key(stack: Stack, settings: Settings):
    sealed_settings = settings.model_copy(update={"payload_keys": SecretStr(keys("k1"))})
    nowhere = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True,
                                   data_converter=data_converter(sealed_settings))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(sealed_settings, temporal=nowhere)),
                                 base_url="http://api", headers=stack.api.headers) as cut_off:
        assert (await cut_off.post("/incidents", json=incident("till-sealed"))).status_code == 503
    [case] = stack.rows(CaseRow)
    assert PHONE.encode() not in case.start_payload and b"Virtanen" not in case.start_payload
    kept = await unseal(nowhere, case.start_payload)
    assert kept.incident.customer.phone == PHONE and kept.case_id == case.id


async def test_reconcilers_racing_each_other_start_each_kept_case_once(dev_server: WorkflowEnvironment,
                                                                       settings: Settings):
    settings = settings.model_copy(update={"reconcile_grace": 0.0, "intake_start_timeout": 3.0})
    nowhere = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True, data_converter=data_converter(settings))
    async with asyncio.timeout(90), Stack.running(dev_server, settings) as stack:
        cut_off = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings, temporal=nowhere)),
                                    base_url="http://api", headers=stack.api.headers)
        bodies = [incident(f"till-kept-{n}", customer={"name": f"Customer {n}", "phone": phone(n)}) for n in range(5)]
        async with cut_off:
            answers = await asyncio.gather(*(cut_off.post("/incidents", json=body) for body in bodies))
        assert [answer.status_code for answer in answers] == [503] * 5
        assert all(row.start_payload for row in stack.rows(CaseRow))

        # Three workers' reconcilers at once, as several worker processes would run them.
        started = await asyncio.gather(*(start_pending(dev_server.client, settings) for _ in range(3)))

        assert sum(started) == 5, started
        for row in stack.rows(CaseRow):
            runs = [run async for run in dev_server.client.list_workflows(f"WorkflowId = '{row.id}'")]
            assert len(runs) == 1, row.id
            assert row.start_payload is None
        await eventually(lambda: all(stack.texts_to(phone(n)) for n in range(5)))
        assert [len(stack.texts_to(phone(n))) for n in range(5)] == [1] * 5, "each customer texted once"
        again = await stack.api.post("/incidents", json=bodies[0])
        assert again.status_code == 200 and len(stack.rows(CaseRow)) == 5, "posting again finds the case"


async def kept_while_away(stack: Stack, settings: Settings, keyring: str | None, *bodies: dict) -> Client:
    """Posts each body while Temporal is away, through an API sealing with `keyring` (None: the settings' keys);
    the cases keep their input."""
    sealed = settings.model_copy(update={"intake_start_timeout": 3.0}
                                 | ({"payload_keys": SecretStr(keyring)} if keyring else {}))
    nowhere = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True, data_converter=data_converter(sealed))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(sealed, temporal=nowhere)),
                                 base_url="http://api", headers=stack.api.headers) as cut_off:
        for body in bodies:
            assert (await cut_off.post("/incidents", json=body)).status_code == 503
    return nowhere


async def test_cases_whose_input_no_longer_opens_do_not_stop_newer_cases_from_starting(
        dev_server: WorkflowEnvironment, settings: Settings, monkeypatch):
    """Two cases sealed with key k1, since dropped, fill a (shrunk) pass; the newer case must still start, and the
    two are counted on the case and in /metrics for an operator instead of only logged."""
    monkeypatch.setattr(reconciler, "BATCH", 2)
    settings = settings.model_copy(update={"reconcile_grace": 0.0})
    async with asyncio.timeout(90), Stack.running(dev_server, settings, with_worker=False) as stack:
        await kept_while_away(stack, settings, keys("k1"), incident("till-old-key-1"), incident("till-old-key-2"))
        await kept_while_away(stack, settings, keys("k2"), incident("till-new-key"))
        newer = max(stack.rows(CaseRow), key=lambda row: row.opened_at)
        k2_only = settings.model_copy(update={"payload_keys": SecretStr(keys("k2"))})
        client = await Client.connect(dev_server.client.service_client.config.target_host,
                                      namespace=dev_server.client.namespace, data_converter=data_converter(k2_only))

        passes = [await start_pending(client, k2_only) for _ in range(2)]

        assert passes == [0, 1], "the second pass reaches the newer case"
        assert [run async for run in client.list_workflows(f"WorkflowId = '{newer.id}'")]
        unopenable = [row for row in stack.rows(CaseRow) if row.id != newer.id]
        assert [(row.start_attempts, row.start_payload is not None) for row in unopenable] == [(1, True)] * 2
        assert all("does not open" in row.start_error and row.start_retry_at for row in unopenable)
        with session_for(settings.database_url) as session:
            assert b"recovery_cases_start_failing 2.0" in exposition(session, CaseScope())


async def test_the_reconciler_does_not_start_a_case_erased_or_started_after_it_read_the_input(
        dev_server: WorkflowEnvironment, settings: Settings):
    """The race with erasure: the reconciler has read a case's input, then the row changes (here: emptied, as
    erasure or another start does); it must not start the workflow, so an erased customer is never contacted."""
    async with asyncio.timeout(90), Stack.running(dev_server, settings, with_worker=False) as stack:
        await kept_while_away(stack, settings, None, incident("till-erased-meanwhile"))
        [case] = stack.rows(CaseRow)
        with session_for(settings.database_url) as session:
            session.exec(update(CaseRow).where(CaseRow.id == case.id).values(start_payload=None))
            session.commit()

        assert await reconciler._start_one(dev_server.client, settings, case.id, case.start_payload) is False
        assert not [run async for run in dev_server.client.list_workflows(f"WorkflowId = '{case.id}'")]


async def test_posting_again_a_case_whose_kept_input_no_longer_opens_answers_503_not_500(
        dev_server: WorkflowEnvironment, settings: Settings):
    async with asyncio.timeout(90), Stack.running(dev_server, settings, with_worker=False) as stack:
        await kept_while_away(stack, settings, keys("k1"), incident("till-key-dropped"))
        k2_only = settings.model_copy(update={"payload_keys": SecretStr(keys("k2"))})
        client = await Client.connect(dev_server.client.service_client.config.target_host,
                                      namespace=dev_server.client.namespace, data_converter=data_converter(k2_only))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(k2_only, temporal=client)),
                                     base_url="http://api", headers=stack.api.headers) as api:
            again = await api.post("/incidents", json=incident("till-key-dropped"))
        [case] = stack.rows(CaseRow)
        assert again.status_code == 503, again.text
        assert case.id in again.json()["detail"] and "payload key" in again.json()["detail"]


async def test_readiness_names_the_dependency_but_never_the_errors_text(stack: Stack, settings: Settings):
    """/readyz answers anyone: a database driver's message (host, port, user) stays in the log."""
    port = free_port()
    app = create_app(settings, temporal=stack.env.client)
    # The database it was made with goes away: its URL now names a server nobody runs.
    app.state.settings = settings.model_copy(
        update={"database_url": f"postgresql+psycopg://ops_user:pw@127.0.0.1:{port}/cases"})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as api:
        ready = await api.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["database"] == "down: error (OperationalError)", ready.json()
    assert "ops_user" not in ready.text and str(port) not in ready.text
