"""stock_shortfall, the pharmacist who phoned the neighbouring pharmacy (seeds/004): the product the customer came
for is not in stock. We say sorry at once and that we are finding it; a person finds where nearby it is available
(the SLA watch escalates if nobody does in time) and tells the customer where to pick it up; the next day we ask
how it went. Nothing is paid: the outcome is `arranged`."""

from __future__ import annotations

from temporalio import workflow

from workflows.personal_reply import PersonalReplies
from workflows.steps import RecoveryWorkflow
from workflows.supervision import supervised

with workflow.unsafe.imports_passed_through():
    from schemas.cases import CaseInput
    from schemas.progress import CaseOutcome, CaseStep


@workflow.defn
class StockShortfallRecovery(PersonalReplies, RecoveryWorkflow):  # where to pick it up: a person's own message
    @workflow.run
    @supervised
    async def run(self, case: CaseInput) -> CaseOutcome:
        await self.begin()
        if not await self.tell_customer("stock_shortfall/looking", CaseStep.acknowledge):
            await self.hand_to_owner("no channel reached the customer: tell them by hand where to pick it up")
        await self.await_personal_reply("stock_shortfall/pick_up")
        satisfaction = await self.follow_up()
        return await self.close(CaseOutcome.arranged, "told the customer where to pick the product up", satisfaction)


WORKFLOW = StockShortfallRecovery
