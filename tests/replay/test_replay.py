"""Histories of finished cases, replayed against today's workflow code: a change that would break the
cases open in production fails here (then guard it with `workflow.patched`, never re-record)."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from settings import Settings
from temporal_client import data_converter
from worker import WORKFLOWS
from workflows.sandbox import workflow_runner

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_there_is_a_recorded_history_per_workflow_type():
    assert len(HISTORIES) >= len(WORKFLOWS)


@pytest.mark.parametrize("path", HISTORIES, ids=lambda path: path.stem)
async def test_recorded_history_replays_on_current_code(path: Path):
    history = load(path)
    replayer = Replayer(workflows=WORKFLOWS, data_converter=data_converter(Settings()),
                        workflow_runner=workflow_runner())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.stem}: {result.replay_failure}"


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text())


def test_s1_history_stays_small():
    overcharge = load(Path(__file__).parent / "histories/overcharge.json")
    assert len(overcharge.events) <= 60, "an S1 case must stay cheap to replay"
