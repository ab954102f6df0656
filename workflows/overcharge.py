"""S1, the till overcharge: tell the customer before they notice, pay it back once, ask how it went."""

from __future__ import annotations

from temporalio import workflow

from workflows.paying import PayingSteps
from workflows.steps import RecoveryWorkflow
from workflows.supervision import supervised

with workflow.unsafe.imports_passed_through():
    from schemas.cases import CaseInput
    from schemas.progress import CaseOutcome


@workflow.defn
class OverchargeRecovery(PayingSteps, RecoveryWorkflow):  # approval and hand payment come with paying
    @workflow.run
    @supervised
    async def run(self, case: CaseInput) -> CaseOutcome:
        await self.begin()
        verification = await self.verify()
        if not verification.confirmed:
            return await self.close(CaseOutcome.not_confirmed, verification.detail)
        if not await self.approve_unverified(verification):
            return await self.close(CaseOutcome.not_approved, "a supervisor did not approve the reported amount")

        await self.pay_back(verification.amount, ask="overcharge/ask_destination", thank="overcharge/thank_you",
                            offers=frozenset({1, 2}))  # 1 the card, 2 the service desk
        satisfaction = await self.follow_up()
        return await self.close(CaseOutcome.recovered, "money returned", satisfaction)
