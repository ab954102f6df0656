"""Which workflow type recovers which kind of incident. A kind added with `python -m workflows.new <kind>` is
switched on by one line in `kinds/__init__.py`, and joins this table from there."""

from __future__ import annotations

import importlib

from temporalio import workflow

from workflows.capability import staff_actions_of
from workflows.complaint import ComplaintRecovery
from workflows.data_misuse import DataMisuseInvestigation
from workflows.duplicate_purchase import DuplicatePurchaseRecovery
from workflows.overcharge import OverchargeRecovery
from workflows.undercharge import UnderchargeRecovery

with workflow.unsafe.imports_passed_through():
    from kinds import added_kinds
    from schemas.incidents import IncidentKind
    from schemas.steps import StaffAction

WORKFLOW_FOR_KIND: dict[IncidentKind, type] = {
    IncidentKind.overcharge: OverchargeRecovery,
    IncidentKind.undercharge: UnderchargeRecovery,
    IncidentKind.duplicate_purchase: DuplicatePurchaseRecovery,
    IncidentKind.complaint: ComplaintRecovery,
    IncidentKind.data_misuse: DataMisuseInvestigation,
}

# Kinds added with the scaffold: each one's `workflows/<kind>.py` names its workflow type `WORKFLOW`.
WORKFLOW_FOR_KIND.update({IncidentKind(kind.name): importlib.import_module(f"workflows.{kind.name}").WORKFLOW
                          for kind in added_kinds()})

ALL_WORKFLOWS = sorted(set(WORKFLOW_FOR_KIND.values()), key=lambda cls: cls.__name__)


def workflow_for(kind: IncidentKind) -> type:
    return WORKFLOW_FOR_KIND[kind]


def staff_actions(kind: str) -> frozenset[StaffAction]:
    """The staff actions a case of `kind` takes: those its workflow type's capabilities grant (none for a kind this
    release does not run)."""
    recovery = WORKFLOW_FOR_KIND.get(kind)  # a StrEnum member hashes as its value
    return staff_actions_of(recovery) if recovery else frozenset()
