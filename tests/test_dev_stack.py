"""`make run`: one command brings up the Temporal server, the worker and the API, says where each one answers,
and Ctrl-C takes them all down again. A part that dies takes the others with it, and we are told which.

These run the real `python -m stack.dev` on free ports, with every file under the test's tmp directory."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

from settings import usable_cores

READY_PROMISE = 90.0  # seconds to a healthy stack on a 2-core machine
TIMEOUT = 120.0


@dataclass
class RunningStack:
    process: subprocess.Popen
    log: Path
    api: str
    ui: str
    children: list[psutil.Process]
    ready_after: float

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def parts(self) -> dict[str, psutil.Process]:
        """The stack's child processes by part name, recognised by their command lines."""
        markers = {"server": "server start-dev", "worker": "worker.py", "api": "-m api"}
        return {name: child for child in self.children for name, marker in markers.items()
                if marker in " ".join(child.cmdline())}


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def answers(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=2, trust_env=False).status_code
    except httpx.HTTPError:
        return None


def wait_until_ready(process: subprocess.Popen, log: Path, api: str) -> float:
    """Ready is what the person at the terminal sees: a healthy API, and the banner saying where things are."""
    started = time.monotonic()
    while answers(f"{api}/healthz") != 200 or "Ready." not in log.read_text(errors="replace"):
        assert process.poll() is None, f"stack.dev exited early:\n{log.read_text()}"
        assert time.monotonic() - started < TIMEOUT, f"not ready within {TIMEOUT} s:\n{log.read_text()}"
        time.sleep(0.3)
    return time.monotonic() - started


@contextmanager
def running_dev_stack(directory: Path, var: Path, **env: str) -> Iterator[RunningStack]:
    """`python -m stack.dev` as `make run` starts it, with its var/ (Temporal data, keys) and read model in `var`,
    on free ports; never left running. `env` adds settings (a policy, say)."""
    temporal, ui, api = free_ports(3)
    env = {**os.environ, "TEMPORAL_ADDRESS": f"127.0.0.1:{temporal}", "TEMPORAL_UI_PORT": str(ui),
           "API_HOST": "127.0.0.1", "API_PORT": str(api), "DATABASE_URL": f"sqlite:///{var / 'recovery.db'}",
           "TEMPORAL_DB_FILE": str(var / "temporal.db"), **env}
    log = directory / "stack.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "stack.dev"], cwd=directory, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    children: list[psutil.Process] = []
    try:
        ready_after = wait_until_ready(process, log, f"http://127.0.0.1:{api}")
        children = psutil.Process(process.pid).children(recursive=True)
        yield RunningStack(process, log, f"http://127.0.0.1:{api}", f"http://127.0.0.1:{ui}", children, ready_after)
    finally:
        if process.poll() is None:
            children = children or psutil.Process(process.pid).children(recursive=True)
            process.kill()
            process.wait()
        for child in children:
            if child.is_running():
                child.kill()


@pytest.fixture
def dev_stack(tmp_path: Path) -> Iterator[RunningStack]:
    with running_dev_stack(tmp_path, tmp_path / "var") as stack:
        yield stack


def test_make_run_starts_everything_says_where_and_ctrl_c_stops_it(dev_stack: RunningStack) -> None:
    assert dev_stack.ready_after < READY_PROMISE
    assert sorted(dev_stack.parts()) == ["api", "server", "worker"]
    # uvicorn workers under the API process, one per core; a single process serves in place (no workers)
    cores = usable_cores()
    workers = [child for child in dev_stack.parts()["api"].children() if "spawn_main" in " ".join(child.cmdline())]
    assert len(workers) == (cores if cores > 1 else 0)
    assert f"API processes  {cores}" in dev_stack.output()
    assert answers(f"{dev_stack.api}/docs") == 200
    assert answers(dev_stack.ui) is not None, "the Temporal UI does not answer HTTP"
    banner = dev_stack.output()
    assert f"{dev_stack.api}  (docs at {dev_stack.api}/docs)" in banner
    assert dev_stack.ui in banner
    [(console, email, password)] = re.findall(r"Console\s+(\S+)  sign in as (\S+) / (\S+)", banner)
    assert signs_in(console, email, password), "the development login printed opens the console"

    dev_stack.process.send_signal(signal.SIGINT)

    assert dev_stack.process.wait(timeout=TIMEOUT) == 0, dev_stack.output()
    _, still_running = psutil.wait_procs(dev_stack.children, timeout=5)
    assert still_running == [], dev_stack.output()


def signs_in(console: str, email: str, password: str) -> bool:
    with httpx.Client(trust_env=False, timeout=30) as browser:
        form = browser.get(f"{console}sign-in")
        nonce = re.search(r'name="csrf" value="([^"]+)"', form.text)[1]
        queue = browser.post(f"{console}sign-in", data={"email": email, "password": password, "csrf": nonce},
                             follow_redirects=True)
        return queue.status_code == 200 and "<h1>Queue</h1>" in queue.text


def test_a_part_that_dies_stops_the_others_and_is_named(dev_stack: RunningStack) -> None:
    dev_stack.parts()["worker"].kill()

    assert dev_stack.process.wait(timeout=TIMEOUT) != 0
    assert "The worker stopped unexpectedly (killed by SIGKILL)." in dev_stack.output()
    _, still_running = psutil.wait_procs(dev_stack.children, timeout=5)
    assert still_running == [], dev_stack.output()
