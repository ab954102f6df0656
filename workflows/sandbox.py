"""The workflow sandbox, as every worker and replayer of ours must configure it."""

from __future__ import annotations

import dataclasses

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

# The shared steps every workflow type is built from. Re-importing them into a fresh sandbox for every case
# cost 4x the bare workflow's start-up and 3x its cached memory (make bench, e); they are deterministic by
# design, and the replay tests check that against recorded histories.
SHARED_WORKFLOW_MODULES = ("workflows.steps", "workflows.promises", "workflows.paying", "workflows.contact_plan",
                           "workflows.activity_stubs", "workflows.capability", "workflows.approval",
                           "workflows.personal_reply", "workflows.findings",
                           "workflows.sla_keeper", "sla",
                           "email_validator",  # pydantic's EmailStr imports it lazily, mid-workflow
                           "schwifty")  # IBAN checks load the bank registry (data files) lazily, mid-workflow


def workflow_runner() -> SandboxedWorkflowRunner:
    """The default sandbox, with `zoneinfo.ZoneInfo` usable as a tzinfo (quiet hours are in the customer's
    time zone; time-zone rules are data, the same on replay) and the shared steps loaded once per worker."""
    default = SandboxRestrictions.default
    members = default.invalid_module_members.with_child_unrestricted("zoneinfo")
    restrictions = dataclasses.replace(default, invalid_module_members=members)
    return SandboxedWorkflowRunner(restrictions=restrictions.with_passthrough_modules(*SHARED_WORKFLOW_MODULES))
