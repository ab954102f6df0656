"""The workflow kit's public surface: a workflow type tells its story with the public steps of `RecoveryWorkflow`
and its capabilities, never with their underscore state; and a type takes only the staff signals of the
capabilities it mixes in, which are also what the API lets staff do to its cases."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
from temporalio.workflow import _Definition

from schemas.steps import StaffAction
from workflows import approval, capability, findings, paying, personal_reply, promises, steps, supervision
from workflows.personal_reply import PersonalReplies
from workflows.registry import WORKFLOW_FOR_KIND, staff_actions
from workflows.steps import RecoveryWorkflow

ROOT = Path(__file__).resolve().parents[1]
KIT = (steps, promises, paying, supervision, approval, personal_reply, findings, capability)
TYPE_MODULES = sorted({Path(inspect.getfile(cls)) for cls in WORKFLOW_FOR_KIND.values()}
                      | set((ROOT / "workflows/skeleton").glob("*.tmpl")) | set((ROOT / "kinds").glob("*.py")))
# The staff signal each capability adds; every other signal is every case's (replies, assignment, priority, stop).
SIGNAL_OF = {StaffAction.approval: "decide", StaffAction.personal_reply: "personal_reply",
             StaffAction.hand_payment: "refund_paid_by_hand", StaffAction.findings: "record_findings"}


def kit_private_names() -> set[str]:
    """Every `_name` the kit's modules define or set on `self`: the base class's and capabilities' own state."""
    names = set()
    for module in KIT:
        for node in ast.walk(ast.parse(inspect.getsource(module))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("_"):
                names.add(node.name)
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"
                    and node.attr.startswith("_")):
                names.add(node.attr)
    return names - {"__init__"}


def test_the_kit_has_private_state_to_protect():
    assert {"_live", "_sla", "_customer", "_progress", "_decision", "_personal_replies"} & kit_private_names()


@pytest.mark.parametrize("path", TYPE_MODULES, ids=lambda path: str(path.relative_to(ROOT)))
def test_a_workflow_type_uses_only_the_public_steps(path: Path):
    private = kit_private_names()
    used = {name for name in re.findall(r"\bself\.(_\w+)", path.read_text()) if name in private}
    assert not used, f"{path.relative_to(ROOT)} uses the kit's private {sorted(used)}: use the public surface " \
                     "(workflows/steps.py, RecoveryWorkflow's docstring)"


@pytest.mark.parametrize("kind", sorted(WORKFLOW_FOR_KIND))
def test_a_type_takes_only_the_staff_signals_of_its_capabilities(kind: str):
    signals = set(_Definition.from_class(WORKFLOW_FOR_KIND[kind]).signals)
    granted = staff_actions(kind)
    for action, signal in SIGNAL_OF.items():
        assert (signal in signals) == (action in granted), f"{kind}: {signal} vs {sorted(granted)}"


def test_an_undercharge_has_no_approval_nor_hand_payment_signal():
    signals = set(_Definition.from_class(WORKFLOW_FOR_KIND["undercharge"]).signals)
    assert not signals & {"decide", "refund_paid_by_hand", "personal_reply", "record_findings"}
    assert staff_actions("undercharge") == frozenset()


def test_every_recorded_staff_signal_still_has_its_handler():
    """A running case must find every signal it was sent: the recorded histories stand for them."""
    import json

    types = {cls.__name__: cls for cls in WORKFLOW_FOR_KIND.values()}
    for path in (ROOT / "tests/replay/histories").glob("*.json"):
        events = json.loads(path.read_text())["events"]
        started = next(e["workflowExecutionStartedEventAttributes"] for e in events
                       if "workflowExecutionStartedEventAttributes" in e)
        cls = types.get(started["workflowType"]["name"])
        if cls is None:
            continue  # not a recovery type (webhook delivery, major incident)
        sent = {e["workflowExecutionSignaledEventAttributes"]["signalName"] for e in events
                if "workflowExecutionSignaledEventAttributes" in e}
        assert sent <= set(_Definition.from_class(cls).signals), path.name


def test_a_capability_mixed_in_after_the_base_class_is_refused_when_the_type_is_made():
    """Its `__init__` would never run (the base class ends the chain): its signal would fail the workflow task and
    leave the case stuck. Every shipped type, and the skeleton's advice, puts capabilities first."""
    with pytest.raises(TypeError, match="mix PersonalReplies in before RecoveryWorkflow"):
        type("Misordered", (RecoveryWorkflow, PersonalReplies), {})
    assert type("Ordered", (PersonalReplies, RecoveryWorkflow), {}).__mro__[1] is PersonalReplies
