"""Which workflow type recovers which kind of incident. Adding a kind: one module, one line here."""

from __future__ import annotations

from temporalio import workflow

from workflows.complaint import ComplaintRecovery
from workflows.data_misuse import DataMisuseInvestigation
from workflows.duplicate_purchase import DuplicatePurchaseRecovery
from workflows.overcharge import OverchargeRecovery
from workflows.undercharge import UnderchargeRecovery

with workflow.unsafe.imports_passed_through():
    from schemas.incidents import IncidentKind
    from schemas.steps import StaffAction

WORKFLOW_FOR_KIND: dict[IncidentKind, type] = {
    IncidentKind.overcharge: OverchargeRecovery,
    IncidentKind.undercharge: UnderchargeRecovery,
    IncidentKind.duplicate_purchase: DuplicatePurchaseRecovery,
    IncidentKind.complaint: ComplaintRecovery,
    IncidentKind.data_misuse: DataMisuseInvestigation,
}

ALL_WORKFLOWS = sorted(set(WORKFLOW_FOR_KIND.values()), key=lambda cls: cls.__name__)


def workflow_for(kind: IncidentKind) -> type:
    return WORKFLOW_FOR_KIND[kind]


def staff_actions(kind: str) -> frozenset[StaffAction]:
    """The staff actions a case of `kind` takes (none for a kind this release does not run)."""
    recovery = WORKFLOW_FOR_KIND.get(kind)  # a StrEnum member hashes as its value
    return recovery.staff_actions if recovery else frozenset()
