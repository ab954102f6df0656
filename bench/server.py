"""The Temporal server the bench runs against: a dev server of its own on a temporary SQLite file (WAL, as
`make run` uses), or the one TEMPORAL_ADDRESS names. Its own server keeps runs apart and leaves nothing behind."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client

from settings import Settings
from stack.binaries import temporal_cli
from temporal_client import connect

READY_TIMEOUT = 60.0


@dataclass
class TemporalServer:
    address: str
    namespace: str
    process: subprocess.Popen | None  # None when the server is someone else's: we never stop it

    @property
    def ours(self) -> bool:
        return self.process is not None

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(directory: Path) -> TemporalServer:
    """TEMPORAL_ADDRESS set: use that server (and TEMPORAL_NAMESPACE). Otherwise start a headless dev server."""
    if os.environ.get("TEMPORAL_ADDRESS"):
        settings = Settings()
        return TemporalServer(settings.temporal_address, settings.temporal_namespace, None)
    port = free_port()
    command = [temporal_cli(), "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(port),
               "--db-filename", str(directory / "temporal.db"),
               "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal", "--log-level", "error"]
    log = (directory / "temporal.log").open("w")
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                               process_group=0)  # Ctrl-C reaches the bench, which stops the server itself
    return TemporalServer(f"127.0.0.1:{port}", "default", process)


async def ready_client(server: TemporalServer, settings: Settings) -> Client:
    """A client once the server answers for the namespace; an open port alone is not enough."""
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        if server.process is not None and server.process.poll() is not None:
            raise RuntimeError(f"the Temporal dev server exited (code {server.process.returncode})")
        try:
            client = await connect(settings)
            await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=server.namespace))
            return client
        except Exception:  # noqa: BLE001  (not up yet: any failure means try again until the deadline)
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)


def stop_process(process: subprocess.Popen) -> None:
    """Asks nicely, then insists: a stuck child must not outlive the bench."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
