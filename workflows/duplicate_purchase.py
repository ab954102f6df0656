"""S2, the ticket paid twice: find the customer even when we only have their name, call them, ask where the
extra payment should go, return it once, and never suggest it was their fault."""

from __future__ import annotations

from temporalio import workflow

from workflows.paying import PayingSteps
from workflows.steps import RecoveryWorkflow
from workflows.supervision import supervised

with workflow.unsafe.imports_passed_through():
    from schemas.cases import CaseInput
    from schemas.progress import CaseOutcome


@workflow.defn
class DuplicatePurchaseRecovery(PayingSteps, RecoveryWorkflow):  # approval and hand payment come with paying
    @workflow.run
    @supervised
    async def run(self, case: CaseInput) -> CaseOutcome:
        await self.begin()
        verification = await self.verify()
        if not verification.confirmed:
            return await self.close(CaseOutcome.not_confirmed, verification.detail)
        if not await self.approve_unverified(verification):
            return await self.close(CaseOutcome.not_approved, "a supervisor did not approve the reported amount")

        await self.find_contact(purpose="return a double payment to the customer")
        await self.pay_back(verification.amount, ask="duplicate_purchase/ask_destination",
                            thank="duplicate_purchase/thank_you", offers=frozenset({1}))  # 1 the card, or an IBAN
        satisfaction = await self.follow_up()
        return await self.close(CaseOutcome.recovered, "double payment returned", satisfaction)
