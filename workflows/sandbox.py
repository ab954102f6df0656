"""The workflow sandbox, as every worker and replayer of ours must configure it."""

from __future__ import annotations

import dataclasses

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions


def workflow_runner() -> SandboxedWorkflowRunner:
    """The default sandbox, but with `zoneinfo.ZoneInfo` usable as a tzinfo: quiet hours are in the customer's
    time zone, and time-zone rules are data (the same on replay), not I/O the workflow could vary on."""
    default = SandboxRestrictions.default
    members = default.invalid_module_members.with_child_unrestricted("zoneinfo")
    return SandboxedWorkflowRunner(restrictions=dataclasses.replace(default, invalid_module_members=members))
