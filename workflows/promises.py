"""Steps about promises every workflow type keeps: acknowledge at once, watch the SLA clocks and escalate before
they break, a supervisor's change of priority. Mixed into `RecoveryWorkflow`, whose state (`_sla`, `record` ...)
they use. Promises only some types make are capabilities of their own (`workflows/personal_reply.py`,
`workflows/approval.py`)."""

from __future__ import annotations

from temporalio import workflow

from workflows.sla_keeper import Escalation, Level

with workflow.unsafe.imports_passed_through():
    from schemas.progress import CaseStep
    from schemas.steps import PriorityChange

_NOTICE = {Level.owner_warned: "owner warned", Level.supervisor: "escalated to the supervisors",
           Level.above_supervisor: "escalated above the supervisors"}


class PromiseSteps:
    # -- signals -------------------------------------------------------------------------------------

    @workflow.signal
    async def set_priority(self, change: PriorityChange) -> None:
        """A supervisor's change of priority: every open deadline is recomputed from the same start."""
        self._sla.set_priority(change.priority)
        await self.record(f"priority {change.priority} by {change.changed_by}: {change.reason}",
                          f"priority:{self._sla.version}")

    # -- steps ---------------------------------------------------------------------------------------

    async def acknowledge(self) -> None:
        """At once, naming what the customer wrote about and when a person will answer."""
        await self.tell_customer("common/acknowledgement", CaseStep.acknowledge)

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
        address = {Level.owner_warned: self.policy.owner_address(self.live.owner),
                   Level.supervisor: self.policy.supervisor_address,
                   Level.above_supervisor: self.policy.management_address}[due.level]
        deadline = self._sla.clocks[due.clock].deadline
        # A share can fall due while the clock is paused (a priority raised while we wait on the customer):
        # the deadline itself is then not known until the pause ends.
        when = f"due {deadline:%Y-%m-%d %H:%M} UTC" if deadline else "paused while we wait on the customer"
        await self.record(f"{due.clock.replace('_', ' ')} {when}: {_NOTICE[due.level]}",
                          f"sla:{due.clock}:{due.level}", notify=address)
