"""Steps about promises every workflow type can use: acknowledge at once, watch the SLA clocks and escalate
before they break, wait for a person's personal reply, ask a supervisor to approve large amounts, grant
goodwill. Mixed into `RecoveryWorkflow`, whose state (`_sla`, `_record`, `_progress` ...) they use."""

from __future__ import annotations

from temporalio import workflow

from workflows import activity_stubs as stubs
from workflows.sla_keeper import Escalation, Level

with workflow.unsafe.imports_passed_through():
    from schemas.compensation import CompensationGranted, CompensationRequest, GoodwillOffer
    from schemas.money import Money
    from schemas.progress import CaseStatus, CaseStep
    from schemas.steps import Decision, PersonalReply, PriorityChange, decision_refusal

FOUR_EYES_PATCH = "four-eyes-owner-and-reassigner"
PERSONAL_REPLY_DELIVERED_PATCH = "personal-reply-met-only-when-delivered"
_NOTICE = {Level.owner_warned: "owner warned", Level.supervisor: "escalated to the supervisors",
           Level.above_supervisor: "escalated above the supervisors"}


class PromiseSteps:
    # -- signals -------------------------------------------------------------------------------------

    @workflow.signal
    async def decide(self, decision: Decision) -> None:
        """Four eyes, here as at the API (which answers 409 for a decision this refuses). One that slips past
        the API's check (a reassignment in between) is refused here and the refusal goes on the timeline."""
        if not workflow.patched(FOUR_EYES_PATCH):
            if decision.decided_by != self._live.owner:  # the rule before reassigners counted
                self._decision = decision
            return
        waiting = self._live.status == CaseStatus.waiting_on_approval
        refusal = decision_refusal(decision, self._live.owner, self._live.assigned_by, waiting)
        if refusal is None:
            self._decision = decision
            return
        self._refused_decisions += 1
        await self._record(f"decision by {decision.decided_by} refused: {refusal}",
                           f"approval:refused:{self._refused_decisions}")

    @workflow.signal
    def personal_reply(self, reply: PersonalReply) -> None:
        self._personal_replies.append(reply)

    @workflow.signal
    async def set_priority(self, change: PriorityChange) -> None:
        """A supervisor's change of priority: every open deadline is recomputed from the same start."""
        self._sla.set_priority(change.priority)
        await self._record(f"priority {change.priority} by {change.changed_by}: {change.reason}",
                           f"priority:{self._sla.version}")

    # -- steps ---------------------------------------------------------------------------------------

    async def acknowledge(self) -> None:
        """At once, naming what the customer wrote about and when a person will answer."""
        await self.tell_customer("common/acknowledgement", CaseStep.acknowledge)

    async def await_personal_reply(self, template: str = "common/personal_reply") -> PersonalReply:
        """Waits for an agent's personal reply (`POST /cases/{id}/responses`; the SLA watch escalates meanwhile) and
        sends it as written, in `template` (its `reply_text`), which a type may give its own subject and framing.
        The first-reply promise is met only when it reaches the customer; if no channel does, its owner takes it."""
        self._set(CaseStep.personal_reply, CaseStatus.open)
        await workflow.wait_condition(lambda: bool(self._personal_replies))
        reply = self._personal_replies.pop(0)
        self._reply_text = reply.text
        if not workflow.patched(PERSONAL_REPLY_DELIVERED_PATCH):  # cases from before: met first, sent as it went
            self._sla.meet("first_reply", workflow.now())
            await self.tell_customer(template, CaseStep.personal_reply)
            return reply
        if await self.tell_customer(template, CaseStep.personal_reply):
            self._sla.meet("first_reply", workflow.now())  # a reply that reached nobody keeps no promise
        else:
            await self.hand_to_owner("the personal reply reached no channel (why is on the timeline): please "
                                     "reach the customer yourself")
        return reply

    async def approved(self, what: str, amounts: list[Money]) -> bool:
        """Above the policy's threshold, a supervisor (not the owner) decides; a late decision escalates."""
        if not self.policy.needs_approval(amounts):
            return True
        total = " + ".join(str(amount) for amount in amounts)
        self._set(CaseStep.approval, CaseStatus.waiting_on_approval)
        await self._record(f"{what} ({total}) waits for a supervisor's approval", "approval:asked",
                           notify=self.policy.supervisor_address, status=CaseStatus.waiting_on_approval)
        try:
            await workflow.wait_condition(lambda: self._decision is not None, timeout=self.policy.approval_timeout)
        except TimeoutError:
            await self._record(f"no decision on {what} within {self.policy.approval_timeout}: escalated",
                               "approval:escalated", notify=self.policy.management_address,
                               status=CaseStatus.waiting_on_approval)
            await workflow.wait_condition(lambda: self._decision is not None)
        decision = self._decision
        self._set(CaseStep.approval, CaseStatus.open)
        verdict = "approved" if decision.approved else "rejected"
        await self._record(f"{what} {verdict} by {decision.decided_by}: {decision.reason}", f"approval:{verdict}")
        return decision.approved

    async def grant_goodwill(self, offer: GoodwillOffer) -> CompensationGranted:
        granted = await self._paid(stubs.grant_compensation(
            CompensationRequest(case_id=self.case.case_id, idempotency_key=f"{self.case.case_id}:goodwill",
                                kind=offer.kind, product=offer.product, value=offer.value,
                                progress=self._progress(CaseStep.compensation,
                                                        f"goodwill {offer.kind}: {offer.product} ({offer.value})")),
            **self._read_model_options))
        self._compensation = granted
        return granted

    # -- the watch on the clocks ----------------------------------------------------------------------

    async def _keep_promises(self) -> None:
        """Sleeps until the next escalation falls due; any change to the clocks (pause, reply, priority)
        wakes it to look again. Ends when the case closes."""
        while not self._closed:
            version, due = self._sla.version, self._sla.next_escalation()
            if due is not None and due.due <= workflow.now():
                await self._escalate(due)
                continue
            wait = None if due is None else due.due - workflow.now()
            try:
                await workflow.wait_condition(lambda seen=version: self._sla.version != seen or self._closed,
                                              timeout=wait)
            except TimeoutError:
                await self._escalate(due)

    async def _escalate(self, due: Escalation) -> None:
        self._sla.escalated(due)
        address = {Level.owner_warned: self.policy.owner_address(self._live.owner),
                   Level.supervisor: self.policy.supervisor_address,
                   Level.above_supervisor: self.policy.management_address}[due.level]
        deadline = self._sla.clocks[due.clock].deadline
        # A share can fall due while the clock is paused (a priority raised while we wait on the customer):
        # the deadline itself is then not known until the pause ends.
        when = f"due {deadline:%Y-%m-%d %H:%M} UTC" if deadline else "paused while we wait on the customer"
        await self._record(f"{due.clock.replace('_', ' ')} {when}: {_NOTICE[due.level]}",
                           f"sla:{due.clock}:{due.level}", notify=address)
