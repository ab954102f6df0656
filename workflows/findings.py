"""Findings: the owner investigates and records what they found and did. Staff reach it with
`POST /cases/{id}/findings`, which signals `record_findings`."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

from workflows.capability import Capability

with workflow.unsafe.imports_passed_through():
    from schemas.cases import CaseInput
    from schemas.messages import MessageFacts
    from schemas.privacy import Findings
    from schemas.progress import CaseStatus, CaseStep
    from schemas.steps import StaffAction


class OwnersFindings(Capability):
    grants = StaffAction.findings

    @workflow.init
    def __init__(self, case: CaseInput) -> None:
        super().__init__(case)
        self._findings: Findings | None = None

    @workflow.signal
    def record_findings(self, findings: Findings) -> None:
        """The owner's findings. Until the customer is answered, a later version replaces an earlier one."""
        self._findings = findings

    @property
    def findings(self) -> Findings | None:
        """The owner's latest findings; None until they come."""
        return self._findings

    async def await_findings(self, until: datetime | None) -> bool:
        """Waits for the owner's findings, until `until` (None: for as long as it takes). True if they came."""
        self.set_step(CaseStep.investigate, CaseStatus.needs_attention)
        self.live.waiting_until = until
        try:
            await workflow.wait_condition(lambda: self._findings is not None,
                                          timeout=None if until is None else until_instant(until))
            return True
        except TimeoutError:
            return False
        finally:
            self.live.waiting_until = None

    def facts(self) -> MessageFacts:
        return super().facts().model_copy(update={"findings": self._findings})


def until_instant(instant: datetime) -> timedelta:
    """A timer's length to `instant`; at least a second, as a timer must run (a past instant fires at once)."""
    return max(instant - workflow.now(), timedelta(seconds=1))
