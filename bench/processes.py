"""The engine's own processes, started as production starts them: the API (`python -m api`, uvicorn) and the
worker (`python worker.py`), each configured only through its environment; plus the bare baseline worker."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from bench.server import free_port, stop_process
from settings import PROJECT_DIR, Settings

READY_TIMEOUT = 180.0  # a loaded 2-core machine takes long to import and spawn uvicorn workers


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    log: Path

    @property
    def memory(self) -> psutil.Process:
        return psutil.Process(self.process.pid)

    def processes(self) -> list[psutil.Process]:
        """The process and its children (uvicorn's worker processes), metered together as one part."""
        return [self.memory, *self.memory.children(recursive=True)]

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            tail = self.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the {self.name} exited (code {self.process.returncode}); its log ends:\n{tail}")

    def stop(self) -> None:
        stop_process(self.process)



@dataclass
class Api:
    child: Child
    url: str


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    """Everything the child needs to know, the way an operator would set it. The carriers are blanked (env
    beats `.env`): the bench measures the sandbox carriers, and must never text a real phone. Payloads in clear
    unless PAYLOAD_KEYS is set (then production's cost is measured); no rate limit, which would cap the figures."""
    return {**os.environ, "PYTHONUNBUFFERED": "1", "TEMPORAL_ADDRESS": settings.temporal_address,
            "TEMPORAL_NAMESPACE": settings.temporal_namespace, "TEMPORAL_TASK_QUEUE": settings.temporal_task_queue,
            "DATABASE_URL": settings.database_url, "POLICY": settings.policy.model_dump_json(),
            "SMTP_HOST": "", "TWILIO_ACCOUNT_SID": "", "ALLOW_UNENCRYPTED_PAYLOADS": "true",
            "API_RATE_PER_SECOND": "0", **extra}


def spawn(name: str, argv: list[str], env: dict[str, str], directory: Path) -> Child:
    log = directory / f"{name}.log"
    with log.open("w") as sink:  # the child keeps its own descriptor; a file never blocks it as a full pipe would
        process = subprocess.Popen(argv, cwd=PROJECT_DIR, env=env, stdin=subprocess.DEVNULL, stdout=sink,
                                   stderr=subprocess.STDOUT, process_group=0)
    return Child(name, process, log)


async def start_api(name: str, settings: Settings, directory: Path, module: str = "api") -> Api:
    """uvicorn as `make api` runs it (or `module`'s, for the bare baseline), on a free port; ready once
    `/readyz` reaches the database and Temporal. `API_PROCESSES` from the environment, as an operator sets it."""
    port = free_port()
    env = environment(settings, API_HOST="127.0.0.1", API_PORT=str(port))
    api = Api(spawn(name, [sys.executable, "-m", module], env, directory), f"http://127.0.0.1:{port}")
    try:
        await _ready(api)
    except BaseException:
        api.child.stop()  # not yet the caller's to stop: it would outlive the bench
        raise
    return api


async def _ready(api: Api) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    last = "no answer yet"
    # A generous per-request timeout: on a loaded machine /readyz (a database and a Temporal round trip) can take
    # longer than a couple of seconds, and a probe that always gives up first would never see the 200.
    async with httpx.AsyncClient(trust_env=False, timeout=15) as http:
        while True:
            api.child.check_alive()
            try:
                answer = await http.get(f"{api.url}/readyz")
                if answer.status_code == 200:
                    return
                last = f"{answer.status_code} {answer.text[:200]}"
            except httpx.HTTPError as error:
                last = f"{type(error).__name__}"
            if time.monotonic() > deadline:
                tail = api.child.log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the {api.child.name} was not ready (/readyz) within {READY_TIMEOUT:.0f} s; last "
                                   f"answer: {last}; its log ends:\n{tail}")
            await asyncio.sleep(0.2)


def start_worker(name: str, settings: Settings, directory: Path, **extra: str) -> Child:
    """Our worker: `worker.build_worker` with the sandbox providers, in its own process (`extra`: more settings)."""
    return spawn(name, [sys.executable, str(PROJECT_DIR / "worker.py")], environment(settings, **extra), directory)


def start_bare_worker(name: str, settings: Settings, directory: Path) -> Child:
    return spawn(name, [sys.executable, "-m", "bench.bare_worker"], environment(settings), directory)


def api_client(api: Api, headers: dict[str, str], connections: int = 32) -> httpx.AsyncClient:
    """Keep-alive connections, as a real integrator's client would hold; no proxy between us and our API."""
    return httpx.AsyncClient(base_url=api.url, headers=headers, trust_env=False, timeout=30,
                             limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections))
