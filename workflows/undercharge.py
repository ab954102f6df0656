"""The till undercharged: the company's mistake. Absorbed below the policy limit; above it the customer is
told, without blame, and may settle if they wish. Nobody ever chases the customer for it."""

from __future__ import annotations

from temporalio import workflow

from workflows.steps import RecoveryWorkflow
from workflows.supervision import supervised

with workflow.unsafe.imports_passed_through():
    from schemas.cases import CaseInput
    from schemas.progress import CaseOutcome


@workflow.defn
class UnderchargeRecovery(RecoveryWorkflow):
    @workflow.run
    @supervised
    async def run(self, case: CaseInput) -> CaseOutcome:
        await self.begin()
        verification = await self.verify()
        if not verification.confirmed:
            return await self.close(CaseOutcome.not_confirmed, verification.detail)
        if self.policy.writes_off(verification.amount):
            return await self.close(CaseOutcome.written_off,
                                    f"{verification.amount} is below the write-off limit; the customer is not asked")
        informed = await self.tell_customer("undercharge/notice")
        outcome = CaseOutcome.customer_informed if informed else CaseOutcome.written_off
        return await self.close(outcome, "told the customer, without asking for payment" if informed
                                else "no way to reach the customer; absorbed")
