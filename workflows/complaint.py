"""S3 and S4, the complaint nobody answered: acknowledge at once and say when a person will reply; a person
replies, personally, before the promise breaks (the SLA watch escalates if not); put the money right and add
goodwill (a supervisor approves large amounts); ask how it went, and reopen the case if it went badly."""

from __future__ import annotations

from temporalio import workflow

from workflows.paying import PayingSteps
from workflows.personal_reply import PersonalReplies
from workflows.steps import RecoveryWorkflow
from workflows.supervision import supervised

with workflow.unsafe.imports_passed_through():
    from schemas.cases import CaseInput
    from schemas.progress import CaseOutcome
    from schemas.replies import RefundDestination, RefundDestinationKind


@workflow.defn
class ComplaintRecovery(PersonalReplies, PayingSteps, RecoveryWorkflow):
    @workflow.run
    @supervised
    async def run(self, case: CaseInput) -> CaseOutcome:
        await self.begin()
        await self.acknowledge()
        await self.await_personal_reply()
        outcome = CaseOutcome.recovered if await self.put_right() else CaseOutcome.not_approved

        satisfaction = await self.follow_up()
        if satisfaction is not None and satisfaction <= self.policy.low_satisfaction:
            await self.hand_to_owner(f"the customer rated the recovery {satisfaction}/5: reopened")
            await self.record("reopened after a low score", "reopened", notify=self.policy.supervisor_address)
            await self.await_personal_reply()
        note = {CaseOutcome.recovered: "answered personally and put right",
                CaseOutcome.not_approved: "answered personally; the refund and goodwill were not approved"}
        return await self.close(outcome, note[outcome], satisfaction)

    async def put_right(self) -> bool:
        """Refund what the customer lost and add goodwill by policy; large amounts need a supervisor. False when
        the supervisor said no: the case then does not count as recovered."""
        lost = self.case.incident.amount
        goodwill = self.policy.goodwill.get(self.case.incident.kind)
        offer = goodwill.offer(lost) if goodwill else None
        if lost is None and offer is None:
            return True
        if not await self.approved("refund and goodwill", [money for money in (lost, offer and offer.value) if money]):
            await self.tell_customer("complaint/not_approved")
            return False
        if lost is not None:
            await self.refund(lost, RefundDestination(kind=RefundDestinationKind.original_card), "complaint upheld")
        if offer is not None:
            await self.grant_goodwill(offer)
        await self.tell_customer("complaint/put_right")
        return True
