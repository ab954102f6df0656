"""A throwaway PostgreSQL server for the test session: its own data directory in a temporary folder, its own
free port, no system service. The binaries are Debian's `postgresql` package (`make test` installs it when
missing: `make postgres`).

initdb and postgres refuse to run as root; as root (CI, containers) they run as the `postgres` account the
package creates, through `runuser`. fsync is off: the data dies with the session anyway.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.server import free_port

SERVER_ACCOUNT = "postgres"
START_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class PostgresServer:
    port: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SERVER_ACCOUNT}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """An empty database of a test's own; the engine migrates it on first use, as in production."""
        name = f"test_{uuid.uuid4().hex[:12]}"
        self._admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def _admin(self, statement: str) -> None:
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(statement))
        finally:
            engine.dispose()


def binaries() -> Path:
    """The newest installed server's bin folder; a clear failure (never a skip) when there is none."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(Path(path).parts[-3]))
    if not found:
        raise RuntimeError("PostgreSQL's server binaries are missing (/usr/lib/postgresql/*/bin): run `make postgres` "
                           "(as root), which installs Debian's postgresql package; `make test` does that first")
    return Path(found[-1]).parent


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    bin_dir, folder = binaries(), Path(tempfile.mkdtemp(prefix="recovery-pg-"))
    data, port = folder / "data", free_port()
    as_root = os.geteuid() == 0
    if as_root:
        shutil.chown(folder, SERVER_ACCOUNT, SERVER_ACCOUNT)
    run = _runner(as_root)
    try:
        run([bin_dir / "initdb", "-D", data, "-U", SERVER_ACCOUNT, "-A", "trust", "-E", "UTF8", "--no-sync",
             "--locale=C.UTF-8"])
        options = (f"-F -p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=400 "
                   "-c synchronous_commit=off -c full_page_writes=off")
        run([bin_dir / "pg_ctl", "-D", data, "-o", options, "-l", folder / "server.log", "-w",
             "-t", str(START_TIMEOUT_SECONDS), "start"])
        yield PostgresServer(port)
    finally:
        if (data / "postmaster.pid").exists():
            run([bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"], check=False)
        shutil.rmtree(folder, ignore_errors=True)


def _runner(as_root: bool):
    def run(argv: list, check: bool = True) -> None:
        command = [str(part) for part in argv]
        if as_root:
            command = ["runuser", "-u", SERVER_ACCOUNT, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, cwd="/")
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")

    return run
