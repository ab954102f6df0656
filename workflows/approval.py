"""Approval: a supervisor (four eyes: not the owner, nor who assigned it) decides on large or unconfirmed amounts.
Staff reach it with `POST /cases/{id}/approvals`, which signals `decide`."""

from __future__ import annotations

from temporalio import workflow

from workflows.capability import Capability

with workflow.unsafe.imports_passed_through():
    from schemas.cases import CaseInput
    from schemas.money import Money
    from schemas.progress import CaseStatus, CaseStep
    from schemas.steps import Decision, StaffAction, decision_refusal

FOUR_EYES_PATCH = "four-eyes-owner-and-reassigner"


class Approval(Capability):
    grants = StaffAction.approval

    @workflow.init
    def __init__(self, case: CaseInput) -> None:
        super().__init__(case)
        self._decision: Decision | None = None
        self._refused_decisions = 0

    @workflow.signal
    async def decide(self, decision: Decision) -> None:
        """Four eyes, here as at the API (which answers 409 for a decision this refuses). One that slips past
        the API's check (a reassignment in between) is refused here and the refusal goes on the timeline."""
        if not workflow.patched(FOUR_EYES_PATCH):
            if decision.decided_by != self.live.owner:  # the rule before reassigners counted
                self._decision = decision
            return
        waiting = self.live.status == CaseStatus.waiting_on_approval
        refusal = decision_refusal(decision, self.live.owner, self.live.assigned_by, waiting)
        if refusal is None:
            self._decision = decision
            return
        self._refused_decisions += 1
        await self.record(f"decision by {decision.decided_by} refused: {refusal}",
                          f"approval:refused:{self._refused_decisions}")

    async def approved(self, what: str, amounts: list[Money]) -> bool:
        """Above the policy's threshold, a supervisor (not the owner) decides; a late decision escalates."""
        if not self.policy.needs_approval(amounts):
            return True
        total = " + ".join(str(amount) for amount in amounts)
        self.set_step(CaseStep.approval, CaseStatus.waiting_on_approval)
        await self.record(f"{what} ({total}) waits for a supervisor's approval", "approval:asked",
                          notify=self.policy.supervisor_address, status=CaseStatus.waiting_on_approval)
        try:
            await workflow.wait_condition(lambda: self._decision is not None, timeout=self.policy.approval_timeout)
        except TimeoutError:
            await self.record(f"no decision on {what} within {self.policy.approval_timeout}: escalated",
                              "approval:escalated", notify=self.policy.management_address,
                              status=CaseStatus.waiting_on_approval)
            await workflow.wait_condition(lambda: self._decision is not None)
        decision = self._decision
        self.set_step(CaseStep.approval, CaseStatus.open)
        verdict = "approved" if decision.approved else "rejected"
        await self.record(f"{what} {verdict} by {decision.decided_by}: {decision.reason}", f"approval:{verdict}")
        return decision.approved
