"""S1, the till overcharge: tell the customer before they notice, pay it back once, ask how it went."""

from __future__ import annotations

from temporalio import workflow

from workflows.steps import RecoveryWorkflow

with workflow.unsafe.imports_passed_through():
    from schemas.cases import CaseInput
    from schemas.progress import CaseOutcome
    from schemas.replies import IntentKind, RefundDestination


@workflow.defn
class OverchargeRecovery(RecoveryWorkflow):
    @workflow.run
    async def run(self, case: CaseInput) -> CaseOutcome:
        await self.begin()
        verification = await self.verify()
        if not verification.confirmed:
            return await self.close(CaseOutcome.not_confirmed, verification.detail)

        answer = await self.ask_customer("overcharge/ask_destination", IntentKind.refund_destination,
                                         within=self.policy.reply_timeout)
        if answer is not None:
            destination, why = answer.destination, "the customer's choice"
        else:
            destination = RefundDestination(kind=self.policy.default_refund_destination)
            why = "no answer in time, so by policy"
        await self.refund(verification.amount, destination, why)
        await self.tell_customer("overcharge/thank_you")

        satisfaction = await self.follow_up()
        return await self.close(CaseOutcome.recovered, "money returned", satisfaction)
