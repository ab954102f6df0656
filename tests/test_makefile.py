"""`make` on a fresh machine: the pinned uv is the one used, and PostgreSQL for the suite installs without root
(through sudo), or the message says what to install. Run against stand-in commands, never the real apt-get."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAKE = shutil.which("make")
NO_POSTGRES = "POSTGRES_BINARIES=/nonexistent/bin/initdb"


def command(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)


def make(*args: str, path: str) -> subprocess.CompletedProcess:
    return subprocess.run([MAKE, "--no-print-directory", "-C", str(ROOT), *args], env={"PATH": path},
                          capture_output=True, text=True, timeout=60)


def test_a_changed_uv_pin_reinstalls_uv_in_an_existing_tools_folder() -> None:
    planned = subprocess.run([MAKE, "-n", "-C", str(ROOT), "lint", "UV_VERSION=0.0.1"], capture_output=True,
                             text=True, timeout=60)
    assert "install --quiet uv==0.0.1" in planned.stdout, planned.stdout
    assert "uv sync --locked" in planned.stdout, "and the venv is synced again by the new uv"


def test_postgres_installs_through_sudo_when_not_root(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    command(tmp_path, "id", "echo 1000")
    command(tmp_path, "sudo", f'echo "sudo $*" >> {calls}; exec "$@"')
    command(tmp_path, "apt-get", f'echo "apt-get $*" >> {calls}')

    installed = make("postgres", NO_POSTGRES, path=f"{tmp_path}:/usr/bin:/bin")

    assert installed.returncode == 0, installed.stderr
    lines = calls.read_text().splitlines()
    assert "sudo apt-get update" in lines
    assert "sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql" in lines
    assert "apt-get install -y postgresql" in lines


def test_postgres_says_what_to_install_when_it_cannot(tmp_path: Path) -> None:
    command(tmp_path, "id", "echo 1000")
    (tmp_path / "ls").symlink_to(shutil.which("ls"))

    refused = make("postgres", NO_POSTGRES, path=str(tmp_path))  # no sudo, no apt-get

    assert refused.returncode != 0
    assert "needs root or sudo" in refused.stderr and "apt-get install postgresql" in refused.stderr
