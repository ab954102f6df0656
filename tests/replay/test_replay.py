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
from workflows.major_incident import MajorIncidentFanOut
from workflows.registry import WORKFLOW_FOR_KIND
from workflows.sandbox import workflow_runner
from workflows.webhook_delivery import WebhookDelivery

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))
# Each workflow type's history is named after it: a recovery type's after its kind (`overcharge.json`); more of
# a type's paths may be kept as `<name>_<what>.json` (`overcharge_not_understood.json`).
NAMES = {**{kind.value: recovery.__name__ for kind, recovery in WORKFLOW_FOR_KIND.items()},
         "webhook_delivery": WebhookDelivery.__name__, "major_incident": MajorIncidentFanOut.__name__}


def workflow_type(path: Path) -> str:
    return load(path).events[0].workflow_execution_started_event_attributes.workflow_type.name


def named_for(path: Path) -> str | None:
    """The type a history's file name says it is of: the longest name it starts with."""
    names = [name for name in NAMES if path.stem == name or path.stem.startswith(f"{name}_")]
    return NAMES[max(names, key=len)] if names else None


def test_every_workflow_type_has_its_own_history_by_name():
    assert sorted(NAMES.values()) == sorted(workflow.__name__ for workflow in WORKFLOWS)
    by_name = {path.stem: path for path in HISTORIES}
    missing = [name for name in NAMES if name not in by_name]
    assert missing == [], "record them: see tests/replay/record.py"
    assert {name: workflow_type(by_name[name]) for name in NAMES} == NAMES


@pytest.mark.parametrize("path", HISTORIES, ids=lambda path: path.stem)
def test_a_history_is_of_the_type_its_name_says(path: Path):
    assert named_for(path) == workflow_type(path), f"{path.name}: name it <type>.json or <type>_<what>.json"


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
