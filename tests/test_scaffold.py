"""Must show: `python -m workflows.new <kind>` in a fresh copy of the repository, then the one line it names,
gives a recovery type that passes its own scenario test (over the REST API, on a real Temporal server), records its
replay history, and passes the replay and message tests; no file outside what the scaffold wrote is changed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from settings import PROJECT_DIR
from workflows.new import scaffold

KIND = "parcel_lost"


def run(*command: str, cwd: Path, **env: str) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYTHONPATH": str(cwd), **env})
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done.stdout


def fresh_copy(to: Path) -> Path:
    """The repository's files as they are in this working tree (tracked, and new ones not ignored), committed in a
    repository of its own."""
    tracked = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=PROJECT_DIR, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        if (PROJECT_DIR / name).is_file():
            (to / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PROJECT_DIR / name, to / name)
    for command in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@example.com",
                                                     "commit", "-qm", "fresh clone"]):
        subprocess.run(["git", *command], cwd=to, check=True, capture_output=True)
    return to


def test_a_kind_from_the_scaffold_passes_its_scenario_and_replay_tests(tmp_path: Path):
    repo = fresh_copy(tmp_path / "repo")
    told = run(sys.executable, "-m", "workflows.new", KIND, cwd=repo)

    line = f'    "{KIND}",'
    assert f"add this line to ADDED in kinds/__init__.py:\n       \"{KIND}\"," in told
    registry = repo / "kinds/__init__.py"
    registry.write_text(registry.read_text().replace("ADDED = (\n", f"ADDED = (\n{line}\n"))

    run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"tests/scenarios/test_{KIND}.py", cwd=repo,
        RECORD_HISTORY=KIND)
    assert (repo / f"tests/replay/histories/{KIND}.json").is_file()
    run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/replay", "tests/test_message_quality.py",
        "-k", f"replay or {KIND} or every_template", cwd=repo)

    changed = run("git", "status", "--porcelain", "--untracked-files=all", cwd=repo).splitlines()
    assert sorted(changed) == sorted([
        " M kinds/__init__.py", f"?? kinds/{KIND}.py", f"?? workflows/{KIND}.py",
        f"?? tests/scenarios/test_{KIND}.py", f"?? tests/replay/histories/{KIND}.json",
        *(f"?? messages/templates/{KIND}/first_contact.{language}.j2" for language in ("en", "fi", "sv"))])
    diff = run("git", "diff", "-U0", "kinds/__init__.py", cwd=repo)
    assert [row for row in diff.splitlines() if row[:1] in "+-" and row[:3] not in ("+++", "---")] == [f"+{line}"]


@pytest.mark.parametrize("kind", ["mro", "count", "format", "title", "name", "value", "class", "lambda", "match",
                                  "Parcel", "9lives", "parcel-lost"])
def test_a_name_that_would_break_the_kind_is_refused(kind: str, tmp_path: Path):
    with pytest.raises(SystemExit, match=f"'{kind}'"):
        scaffold(kind, tmp_path)
    assert not any(tmp_path.iterdir())


def test_an_existing_kinds_templates_are_named_as_the_reason(tmp_path: Path):
    (tmp_path / "messages/templates/parcel_lost").mkdir(parents=True)
    with pytest.raises(SystemExit) as refused:
        scaffold(KIND, tmp_path)
    assert str(refused.value) == "'parcel_lost' exists already: its templates"
