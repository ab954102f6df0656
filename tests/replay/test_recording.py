"""Recording a history touches only that history: the others stand for cases running in production on the code
that recorded them, so none is ever replaced (a change that fails to replay one needs `workflow.patched`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.replay.record import main
from tests.replay.test_replay import HISTORIES, workflow_type


async def test_recording_writes_only_the_missing_history_and_leaves_the_others_byte_for_byte(tmp_path: Path):
    for path in HISTORIES:
        shutil.copy(path, tmp_path)
    (tmp_path / "undercharge.json").unlink()
    before = contents(tmp_path)

    assert await main([], histories=tmp_path) == ["undercharge"]

    after = contents(tmp_path)
    assert {name: text for name, text in after.items() if name != "undercharge.json"} == before
    assert workflow_type(tmp_path / "undercharge.json") == "UnderchargeRecovery"


def contents(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.iterdir()}


async def test_a_recorded_history_is_never_recorded_again(tmp_path: Path):
    shutil.copy(HISTORIES[0], tmp_path)
    with pytest.raises(SystemExit, match=f"already recorded, never re-recorded: {HISTORIES[0].stem}"):
        await main([HISTORIES[0].stem], histories=tmp_path)
    assert (tmp_path / HISTORIES[0].name).read_bytes() == HISTORIES[0].read_bytes()


async def test_a_type_recorded_by_its_scenario_test_is_named_there():
    with pytest.raises(SystemExit, match="RECORD_HISTORY=<name> .venv/bin/python -m pytest tests/scenarios/"):
        await main(["a_kind_of_tomorrow"])
