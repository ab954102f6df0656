"""`python -m stack.dev` (`make run`): the whole system on one machine, as three child processes.

The read model is first brought to the newest migration (store/migrate.py). Then the parts start in order, each
once the one before can serve it: the Temporal dev server (persistent SQLite under var/, Web UI included), the
worker, then the API. Every child line reaches this terminal prefixed with its part's name. Ctrl-C stops them
all; if one part dies, the others are stopped and we say which. `--only server` is `make server`;
`--no-server` uses the Temporal server TEMPORAL_ADDRESS points at.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import Field, SecretStr
from sqlalchemy.engine import make_url

from security.codec import load_or_create_dev_keyring
from security.dev_keys import DEVELOPER, ensure_dev_api_key, ensure_dev_login
from settings import PROJECT_DIR, VAR_DIR, Settings
from stack.binaries import temporal_cli
from store.db import engine_for
from store.migrate import UnknownSchema

STARTUP_TIMEOUT = 90.0  # the whole stack, on a 2-core machine; it takes about 5 s here
STOP_TIMEOUT = 10.0  # per part, before it is killed
POLL_INTERVAL = 0.3


class DevStackSettings(Settings):
    """Settings only `make run` needs: the production processes never start a Temporal server."""

    temporal_ui_port: int = 8233
    temporal_db_file: Path = Field(default=VAR_DIR / "temporal.db", description="Cases survive a restart.")
    dev_api_key: str | None = Field(default=None, description="Filled in by `with_development_secrets`.")
    dev_password: str | None = Field(default=None, description="The console login's; filled in likewise.")


def with_development_secrets(settings: DevStackSettings) -> DevStackSettings:
    """A payload key, an all-scopes API key and a console login, kept beside the Temporal data so they live and
    die together: a newcomer can call the API and sign in to the console at once, and the dev server never holds
    personal data in clear either."""
    secrets_dir = settings.temporal_db_file.parent
    secrets_dir.mkdir(parents=True, exist_ok=True)
    keys = settings.payload_keys or SecretStr(load_or_create_dev_keyring(secrets_dir / "payload-keys"))
    api_key = ensure_dev_api_key(settings.database_url, secrets_dir / "dev-api-key")
    password = ensure_dev_login(settings.database_url, secrets_dir / "dev-login")
    return settings.model_copy(update={"payload_keys": keys, "dev_api_key": api_key, "dev_password": password})


@dataclass(frozen=True)
class Part:
    """One process of the stack: how to start it, which ports it takes, and how we know it can serve."""

    name: str
    command: list[str]
    binds: list[tuple[str, int]] = field(default_factory=list)
    ready: Callable[[], bool] = lambda: True


@dataclass
class Child:
    """A running part. Its lines are echoed until we ask it to stop: its goodbye noise is not news."""

    name: str
    process: subprocess.Popen[str]
    stopping: threading.Event = field(default_factory=threading.Event)
    output: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        self.output = threading.Thread(target=self._echo, daemon=True)
        self.output.start()

    def _echo(self) -> None:
        for line in self.process.stdout:  # read to the end even when muted, so the child never blocks
            if not self.stopping.is_set():
                say(f"{self.name:>6} | {line}")


class StackFailed(Exception):
    """A part died or never became ready; the message says which, for the person at the terminal."""


_say_lock = threading.Lock()


def say(text: str) -> None:
    """One writer at a time, so lines from the parts and from us never interleave mid-line."""
    with _say_lock:
        try:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
            sys.stdout.flush()
        except OSError:
            pass  # the terminal was closed (SIGHUP): stopping the parts matters more than telling it


# -- the parts ------------------------------------------------------------------------------------------


def host_and_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


def server_part(settings: DevStackSettings) -> Part:
    """WAL and synchronous=normal: durable across crashes, and 2.4x faster than SQLite's defaults here."""
    host, port = host_and_port(settings.temporal_address)
    settings.temporal_db_file.parent.mkdir(parents=True, exist_ok=True)
    command = [temporal_cli(), "server", "start-dev", "--db-filename", str(settings.temporal_db_file),
               "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal",
               "--ip", host, "--port", str(port), "--ui-port", str(settings.temporal_ui_port),
               "--namespace", settings.temporal_namespace, "--log-level", "warn",
               # the UI opens encrypted payloads through our API's codec server
               "--ui-codec-endpoint", f"{api_url(settings)}/codec"]
    return Part("server", command, binds=[(host, port), (host, settings.temporal_ui_port)],
                ready=lambda: namespace_answers(settings) and http_ok(ui_url(settings)))


def namespace_answers(settings: Settings) -> bool:
    """The worker and the API fail at once without the namespace, so an open port is not enough."""
    command = [temporal_cli(), "operator", "namespace", "describe", "--address", settings.temporal_address,
               "--namespace", settings.temporal_namespace, "--command-timeout", "2s"]
    try:
        return subprocess.run(command, capture_output=True, timeout=10).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def http_ok(url: str) -> bool:
    try:
        # trust_env=False: a proxy from the environment must not stand between us and our own processes
        return httpx.get(url, timeout=2, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def ui_url(settings: DevStackSettings) -> str:
    host, _ = host_and_port(settings.temporal_address)
    return f"http://{host}:{settings.temporal_ui_port}"


def api_url(settings: Settings) -> str:
    return f"http://{settings.api_host}:{settings.api_port}"


def plan(settings: DevStackSettings, only: str | None, no_server: bool) -> list[Part]:
    parts = [] if no_server else [server_part(settings)]
    if only != "server":
        # no readiness signal of its own: if it cannot reach Temporal it exits, and we report that
        parts.append(Part("worker", [sys.executable, str(PROJECT_DIR / "worker.py")]))
        # `/readyz` answers 200 only once the API reaches both the database and Temporal
        parts.append(Part("api", [sys.executable, "-m", "api"], binds=[(settings.api_host, settings.api_port)],
                          ready=lambda: http_ok(f"{api_url(settings)}/readyz")))
    return parts


def child_env(settings: Settings) -> dict[str, str]:
    """The children read settings as we do; these pin what the banner names, and unbuffer their output."""
    keys = {"PAYLOAD_KEYS": settings.payload_keys.get_secret_value()} if settings.payload_keys else {}
    return {**os.environ, "PYTHONUNBUFFERED": "1", "TEMPORAL_ADDRESS": settings.temporal_address,
            "DATABASE_URL": settings.database_url, "API_HOST": settings.api_host, "API_PORT": str(settings.api_port),
            **keys}


def taken_ports(parts: list[Part]) -> list[str]:
    """A leftover `make run` is the usual reason a part cannot start; finding it first gives a clear message."""
    taken = []
    for part in parts:
        for host, port in part.binds:
            try:
                socket.create_connection((host, port), timeout=0.5).close()
                taken.append(f"{host}:{port} (wanted by the {part.name})")
            except OSError:
                pass
    return taken


# -- running them ---------------------------------------------------------------------------------------


def start(part: Part, env: dict[str, str]) -> Child:
    """Own process group: Ctrl-C reaches only us, so the parts stop in order instead of all at once."""
    process = subprocess.Popen(part.command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, errors="replace", process_group=0)
    return Child(part.name, process)


def check_alive(child: Child) -> None:
    if (code := child.process.poll()) is not None:
        child.output.join(timeout=2)  # its last words (a traceback, say) go before our message
        how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
        raise StackFailed(f"The {child.name} stopped unexpectedly ({how}).")


def wait_ready(part: Part, child: Child, stop: threading.Event, deadline: float) -> bool:
    """True once the part can serve; False if we were asked to stop meanwhile."""
    while not stop.is_set():
        check_alive(child)
        if part.ready():
            return True
        if time.monotonic() > deadline:
            raise StackFailed(f"The {part.name} was not ready within {STARTUP_TIMEOUT:.0f} s.")
        stop.wait(POLL_INTERVAL)
    return False


def watch(children: list[Child], stop: threading.Event) -> None:
    """Blocks until we are asked to stop; raises as soon as any part exits on its own."""
    while not stop.wait(POLL_INTERVAL):
        for child in children:
            check_alive(child)


def shutdown(children: list[Child]) -> None:
    """Newest first: the API and the worker leave while the server they talk to still answers."""
    if running := [child.name for child in reversed(children) if child.process.poll() is None]:
        say(f"Stopping: {', '.join(running)}.")
    for child in reversed(children):
        if child.process.poll() is None:
            child.stopping.set()
            child.process.terminate()
            try:
                child.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                say(f"The {child.name} did not stop within {STOP_TIMEOUT:.0f} s; killing it")
                child.process.kill()
                child.process.wait()
        child.output.join(timeout=2)


def stop_on_signals() -> threading.Event:
    """Ctrl-C, `kill` and a closed terminal all mean the same: stop the parts, then leave."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: stop.set())
    return stop


# -- what we tell the person at the terminal ------------------------------------------------------------


def banner_rows(settings: DevStackSettings, names: list[str]) -> list[tuple[str, str]]:
    """Where each part answers. The one place to add a line (a development API key, for instance)."""
    rows = []
    if "api" in names:
        rows.append(("API", f"{api_url(settings)}  (docs at {api_url(settings)}/docs)"))
        rows.append(("API key", f"{settings.dev_api_key}  (all scopes; development only)"))
        rows.append(("Console", f"{api_url(settings)}/console/  sign in as {DEVELOPER.email} / "
                                f"{settings.dev_password}  (every role; development only)"))
        rows.append(("API processes", f"{settings.api_processes}  (API_PROCESSES; one per core by default)"))
    if "server" in names:
        rows.append(("Temporal UI", ui_url(settings)))
    where = f"data in {settings.temporal_db_file}" if "server" in names else "not started here"
    rows.append(("Temporal gRPC", f"{settings.temporal_address}  (namespace {settings.temporal_namespace}, {where})"))
    if "worker" in names:
        rows.append(("Worker", f"polling task queue {settings.temporal_task_queue!r}"))
        rows.append(("Database", make_url(settings.database_url).render_as_string(hide_password=True)))
    rows.append(("Logs", "this terminal; each line starts with its part's name"))
    return rows


def banner(settings: DevStackSettings, names: list[str]) -> str:
    rows = banner_rows(settings, names)
    width = max(len(label) for label, _ in rows)
    lines = [f"  {label:<{width}}  {value}" for label, value in rows]
    return "\n".join(["", "Ready.", *lines, "  Ctrl-C stops everything.", ""])


# -- entry point ----------------------------------------------------------------------------------------


def run(parts: list[Part], children: list[Child], settings: DevStackSettings, stop: threading.Event) -> None:
    """Starts the parts in order, each once the one before is ready, then watches them until told to stop."""
    env = child_env(settings)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    for part in parts:
        children.append(start(part, env))
        if not wait_ready(part, children[-1], stop, deadline):
            return
    say(banner(settings, [part.name for part in parts]))
    watch(children, stop)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m stack.dev", description=__doc__.split("\n\n")[0])
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--only", choices=["server"], help="run just the Temporal dev server (`make server`)")
    choice.add_argument("--no-server", action="store_true",
                        help="use the Temporal server at TEMPORAL_ADDRESS instead of starting one")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = DevStackSettings()
    if args.only != "server":
        try:  # once, here, so a schema this release cannot upgrade stops us before any part starts
            engine_for(settings.database_url)
        except UnknownSchema as refusal:
            say(str(refusal))
            return 1
    settings = with_development_secrets(settings)
    parts = plan(settings, args.only, args.no_server)
    if taken := taken_ports(parts):
        say(f"Something already answers at {', '.join(taken)}. Is another `make run` still running? "
            "(--no-server uses a Temporal server that is already there.)")
        return 1
    stop = stop_on_signals()
    children: list[Child] = []
    try:
        run(parts, children, settings, stop)
        status = 0
    except StackFailed as failure:
        say(str(failure))
        status = 1
    finally:
        shutdown(children)
    return status


if __name__ == "__main__":
    sys.exit(main())
