"""Real Temporal servers for the whole test session: the dev server (updates, listing, restarts) and the
time-skipping server (days of timers in milliseconds). Both come from the venv; nothing is downloaded."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from settings import Settings
from stack.binaries import temporal_cli, temporal_test_server
from temporal_client import data_converter
from tests.harness import Stack, test_settings

_exit_status = 0


@pytest.fixture(scope="session")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli(), data_converter=data_converter(Settings()),
        dev_server_log_level="error",
    ) as env:
        yield env


@pytest.fixture(scope="session")
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_test_server(), data_converter=data_converter(Settings()),
    ) as env:
        yield env


@pytest.fixture
def settings(tmp_path) -> Settings:
    return test_settings(tmp_path)


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
