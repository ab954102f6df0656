"""S5, the clerk who looked me up: a customer says their personal data was misused.

The engine lists every recorded read of the customer's data, tells the data protection officer, and leaves the
case with its owner to investigate. The customer gets a truthful answer (what was read, by which role, when,
and what was done) within the legal month: with the owner's findings if they come in time, otherwise with the
reads and word that the investigation goes on (GDPR art. 12(3) allows that), and the findings when they come.
An unanswered case escalates to the supervisors at the policy's share of the month.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

from workflows import activity_stubs as stubs
from workflows.findings import OwnersFindings, until_instant
from workflows.steps import RecoveryWorkflow
from workflows.supervision import supervised

with workflow.unsafe.imports_passed_through():
    from schemas.cases import CaseInput
    from schemas.messages import MessageFacts
    from schemas.privacy import AccessQuery, AccessReport, SubjectRef
    from schemas.progress import CaseOutcome, CaseStatus, CaseStep


@workflow.defn
class DataMisuseInvestigation(OwnersFindings, RecoveryWorkflow):
    @workflow.init
    def __init__(self, case: CaseInput) -> None:
        super().__init__(case)
        self._report: AccessReport | None = None
        self._answered = False

    @workflow.run
    @supervised
    async def run(self, case: CaseInput) -> CaseOutcome:
        await self.begin()
        # The legal month runs from the complaint's arrival, on Temporal's clock (the workflow starts at intake).
        rules, received = self.policy.privacy, workflow.info().start_time
        report = await self._gather_reads()
        self.set_step(CaseStep.investigate, CaseStatus.needs_attention)
        await self.record(f"{report.summary()}; the data protection officer is told; the owner's findings are "
                          f"due by {rules.answer_by(received):%Y-%m-%d}", "dpo", notify=rules.dpo_address)
        self.watch(self._escalate_unless_answered(rules.escalation_at(received), rules.answer_due(received)))

        found_in_time = await self.await_findings(until=rules.answer_by(received))
        await self._answer("data_misuse/answer")
        if not found_in_time:
            self.set_step(CaseStep.investigate, CaseStatus.needs_attention)
            await self.record("answered with the reads so far; the investigation goes on", "interim")
            await self.await_findings(until=None)
            await self._answer("data_misuse/outcome")
        findings = self.findings
        outcome = CaseOutcome.customer_informed if findings.misuse_confirmed else CaseOutcome.not_confirmed
        outcome = outcome if self._answered else CaseOutcome.unresolved  # the owner posts the answer by hand
        return await self.close(outcome, f"misuse {'confirmed' if findings.misuse_confirmed else 'not found'}; "
                                         f"done: {findings.actions}"[:300])

    async def _gather_reads(self) -> AccessReport:
        """Every read of the customer's data from the policy's look-back before the reported misuse until now."""
        customer, rules = self.case.incident.customer, self.policy.privacy
        query = AccessQuery(case_id=self.case.case_id, limit=rules.max_listed_reads,
                            subject=SubjectRef(name=customer.name, phone=customer.phone, email=customer.email),
                            since=rules.reads_since(self.case.incident.occurred_at, workflow.info().start_time))
        return await stubs.gather_access_records(query, **self.read_model_options)

    async def _answer(self, template: str) -> None:
        """The reads are gathered again just before answering, so the answer lists the investigation's too."""
        self._report = await self._gather_reads()
        self._answered = await self.tell_customer(template, CaseStep.contact)
        if not self._answered:
            await self.hand_to_owner(f"'{template}' reached the customer on no channel: send it by post")

    async def _escalate_unless_answered(self, at: datetime, due: datetime) -> None:
        try:
            await workflow.wait_condition(lambda: self._answered, timeout=until_instant(at))
        except TimeoutError:
            await self.record(f"the customer is not answered yet; the legal deadline is {due:%Y-%m-%d}: "
                              "escalated to the supervisors", "escalation:answer_due",
                              notify=self.policy.supervisor_address)

    def facts(self) -> MessageFacts:
        return super().facts().model_copy(update={"access_report": self._report})

