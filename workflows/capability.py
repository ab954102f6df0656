"""What a workflow type can be asked by staff is what it is made of. A step capability that waits for a staff
action (approval, a personal reply, a refund paid by hand, findings) is a mixin with its own state and its own
signal, and names the action it takes in `grants`; a type mixes in only the capabilities its story uses, so a type
without one has no such signal at all, and the API refuses that action at once (409)."""

from __future__ import annotations

from typing import ClassVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.steps import StaffAction


class Capability:
    """A step capability mixed into a `RecoveryWorkflow` type (before it: `class X(Approval, RecoveryWorkflow)`).
    Its state is set up in its own `@workflow.init __init__`, which passes the case on to the next class."""

    grants: ClassVar[StaffAction | None] = None  # the staff action its signal takes (`schemas/steps.py`)


def staff_actions_of(workflow_type: type) -> frozenset[StaffAction]:
    """The staff actions a workflow type takes: those its capabilities grant (one source of truth for the API)."""
    return frozenset(cls.__dict__["grants"] for cls in workflow_type.__mro__
                     if issubclass(cls, Capability) and cls.__dict__.get("grants") is not None)
