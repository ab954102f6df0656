"""Real Temporal servers for the whole test session: the dev server (updates, listing, restarts) and the
time-skipping server (days of timers in milliseconds). Both come from the venv; nothing is downloaded.

The read model is SQLite by default; tests marked `both_databases` run once on SQLite and once on a PostgreSQL
server the session starts itself (tests/postgres.py). Either way each test gets an empty database of its own,
which the engine brings to the newest migration on first use, exactly as production does."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator

import pytest
from temporalio.testing import WorkflowEnvironment

from settings import Settings
from stack.binaries import temporal_cli, temporal_test_server
from store.db import engine_for
from temporal_client import data_converter
from tests.harness import Stack, test_settings
from tests.postgres import PostgresServer, running_postgres

_exit_status = 0
BOTH_DATABASES = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli(), data_converter=data_converter(Settings()),
        dev_server_log_level="error",
    ) as env:
        yield env


@pytest.fixture(scope="module")
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server per test module. Its clock is one for every workflow on it, and it stands still while
    any of them has an activity outstanding, so one module's leftovers (a workflow whose worker has gone) would
    hold every later test's skips to real time; a module's own server starts in a second and contains that."""
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_test_server(), data_converter=data_converter(Settings()),
    ) as env:
        yield env


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        yield server


def pytest_generate_tests(metafunc) -> None:
    if "database_url" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_databases"):
        metafunc.parametrize("database_url", BOTH_DATABASES, indirect=True)


@pytest.fixture
def database_url(request, tmp_path) -> Iterator[str]:
    """The test's own empty database: SQLite in tmp_path, or a new database on the session's PostgreSQL."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield f"sqlite:///{tmp_path / 'recovery.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.new_database()
    yield url
    # Its connections go; the database stays until the server does, like a test's SQLite file: a workflow
    # of the test still winding down on the shared Temporal server finds its tables rather than failing forever.
    engine_for(url).dispose()


@pytest.fixture
def settings(tmp_path, database_url: str) -> Settings:
    return test_settings(tmp_path).model_copy(update={"database_url": database_url})


def pytest_runtest_logreport(report) -> None:
    if report.when == "call" and "postgresql" in report.keywords:
        _on_postgres[report.outcome] = _on_postgres.get(report.outcome, 0) + 1


def pytest_terminal_summary(terminalreporter) -> None:
    counts = ", ".join(f"{count} {outcome}" for outcome, count in sorted(_on_postgres.items())) or "none"
    terminalreporter.write_line(f"PostgreSQL: tests run on the session's own PostgreSQL server: {counts}")


_on_postgres: dict[str, int] = {}


@pytest.fixture
async def stack(time_skipping: WorkflowEnvironment, settings: Settings) -> AsyncIterator[Stack]:
    """Worker + API against the time-skipping server: for stories with long waits in them."""
    async with Stack.running(time_skipping, settings) as running:
        yield running


@pytest.fixture
async def live_stack(dev_server: WorkflowEnvironment, settings: Settings) -> AsyncIterator[Stack]:
    """Worker + API against the dev server: for concurrency, listing and updates."""
    async with Stack.running(dev_server, settings) as running:
        yield running


def pytest_sessionfinish(session, exitstatus) -> None:
    global _exit_status
    _exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config) -> None:
    # The Temporal core can abort during interpreter finalisation (sdk-python #300) after every test
    # passed; leave before finalisation so the run's real result is the exit status.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_exit_status)
