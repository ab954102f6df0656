"""The reusable steps of every recovery: verify, contact, refund, follow up, close.

A recovery workflow subclasses `RecoveryWorkflow` and tells its story with these steps. The base class also
owns what every case shares: the customer's replies (a signal) and the case's live state (a query).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from schemas.cases import CaseInput, LiveState, Verification
    from schemas.messages import Channel, MessageFacts, MessageReceipt, OutboundMessage
    from schemas.money import Money
    from schemas.policy import RecoveryPolicy
    from schemas.progress import CaseOutcome, CaseProgress, CaseStatus, CaseStep
    from schemas.refunds import RefundRequest, RefundResult
    from schemas.replies import CustomerReply, IntentKind, RefundDestination, ReplyIntent
    from schemas.steps import ActivityName, CloseRequest, VerifyRequest

# Retry policies per outside system. Our own database: retry until it is back. Carriers and payment
# providers: retry transient failures with backoff, stop at once on a permanent refusal.
_READ_MODEL = dict(start_to_close_timeout=timedelta(seconds=30),
                   retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1),
                                            maximum_interval=timedelta(seconds=30)))
_CARRIER = dict(start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1),
                                         non_retryable_error_types=["RecipientRejected"]))
_PAYMENTS = dict(start_to_close_timeout=timedelta(seconds=60),
                 retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5),
                                          non_retryable_error_types=["RefundRejected"]))


class RecoveryWorkflow:
    """Base class of every recovery workflow type."""

    def __init__(self) -> None:
        self._inbox: list[CustomerReply] = []
        self._case: CaseInput | None = None
        self._live: LiveState | None = None
        self._messages_sent: dict[str, int] = {}

    # -- what every case answers and accepts ---------------------------------------------------------

    @workflow.signal
    def customer_replied(self, reply: CustomerReply) -> None:
        self._inbox.append(reply)

    @workflow.query
    def state(self) -> LiveState | None:
        return self._live

    # -- the steps -------------------------------------------------------------------------------------

    def begin(self, case: CaseInput) -> None:
        self._case = case
        self._live = LiveState(case_id=case.case_id, kind=case.incident.kind, status=CaseStatus.open,
                               step=CaseStep.verify)

    async def verify(self) -> Verification:
        """Checks the report against our own records before we say anything to the customer."""
        verification: Verification = await workflow.execute_activity(
            ActivityName.verify_incident,
            VerifyRequest(incident=self.case.incident, progress=self._progress(CaseStep.verify, "verifying")),
            result_type=Verification, **_READ_MODEL)
        self._live.verified_amount = verification.amount
        return verification

    async def tell_customer(self, template: str, step: CaseStep = CaseStep.contact,
                            status: CaseStatus = CaseStatus.open, note: str | None = None) -> bool:
        """Sends one message on the customer's best channel. False when we have no way to reach them."""
        reach = self._reach()
        if reach is None:
            return False
        channel, address = reach
        self._set(step, status)
        n = self._messages_sent.get(template, 0)
        self._messages_sent[template] = n + 1
        await workflow.execute_activity(
            ActivityName.send_message,
            OutboundMessage(case_id=self.case.case_id, idempotency_key=f"{self.case.case_id}:{template}:{n}",
                            channel=channel, to=address, template=template,
                            language=self.case.incident.customer.language, facts=self._facts(),
                            progress=self._progress(step, note or f"{channel} '{template}' sent", status)),
            result_type=MessageReceipt, **_CARRIER)
        return True

    async def ask_customer(self, template: str, expecting: IntentKind, within: timedelta,
                           step: CaseStep = CaseStep.contact) -> ReplyIntent | None:
        """Asks a question and waits for the answer; None if there is no answer in time (or no way to ask)."""
        until = workflow.now() + within
        note = f"asked the customer ({template}); waiting until {until:%Y-%m-%d %H:%M} UTC"
        asked = await self.tell_customer(template, step, CaseStatus.waiting_on_customer, note=note)
        if not asked:
            return None
        self._live.expecting, self._live.waiting_until = expecting, until
        try:
            await workflow.wait_condition(lambda: self._pending(expecting) is not None, timeout=within)
        except TimeoutError:
            return None
        finally:
            self._live.expecting = self._live.waiting_until = None
            self._set(step, CaseStatus.open)
        reply = self._pending(expecting)
        self._inbox.remove(reply)
        return reply.intent

    async def refund(self, amount: Money, destination: RefundDestination, why: str) -> RefundResult:
        """Pays the customer back, exactly once per case: the idempotency key is the case id and step."""
        self._live.refund_destination = destination.kind
        return await workflow.execute_activity(
            ActivityName.refund,
            RefundRequest(case_id=self.case.case_id, idempotency_key=f"{self.case.case_id}:refund", amount=amount,
                          destination=destination, original_payment_ref=self.case.incident.transaction_ref,
                          progress=self._progress(CaseStep.refund, f"refund of {amount} to {destination.kind}: {why}")),
            result_type=RefundResult, **_PAYMENTS)

    async def follow_up(self) -> int | None:
        """After the policy delay, asks how it went (1-5). Returns the score, or None without an answer."""
        self._set(CaseStep.follow_up, CaseStatus.open)
        self._live.waiting_until = workflow.now() + self.policy.follow_up_delay
        await workflow.sleep(self.policy.follow_up_delay)
        answer = await self.ask_customer("common/satisfaction", IntentKind.satisfaction,
                                         within=self.policy.satisfaction_timeout, step=CaseStep.follow_up)
        self._live.satisfaction = answer.score if answer else None
        return self._live.satisfaction

    async def close(self, outcome: CaseOutcome, note: str, satisfaction: int | None = None) -> CaseOutcome:
        await workflow.execute_activity(
            ActivityName.close_case,
            CloseRequest(outcome=outcome, satisfaction=satisfaction,
                         progress=self._progress(CaseStep.close, f"closed: {outcome}. {note}", CaseStatus.closed)),
            **_READ_MODEL)
        self._set(CaseStep.close, CaseStatus.closed)
        self._live.outcome = outcome
        return outcome

    # -- helpers ---------------------------------------------------------------------------------------

    @property
    def case(self) -> CaseInput:
        assert self._case is not None, "begin() must run first"
        return self._case

    @property
    def policy(self) -> RecoveryPolicy:
        return self.case.policy

    def _reach(self) -> tuple[Channel, str] | None:
        customer = self.case.incident.customer
        if customer.phone:
            return Channel.sms, customer.phone
        if customer.email:
            return Channel.email, customer.email
        return None

    def _facts(self) -> MessageFacts:
        incident = self.case.incident
        return MessageFacts(customer_name=incident.customer.name, store=incident.store,
                            amount=self._live.verified_amount or incident.amount,
                            case_reference=self.case.case_id.removeprefix("case-")[:8].upper(),
                            refund_destination=self._live.refund_destination)

    def _pending(self, expecting: IntentKind) -> CustomerReply | None:
        return next((reply for reply in self._inbox if reply.intent.kind == expecting), None)

    def _set(self, step: CaseStep, status: CaseStatus) -> None:
        self._live.step, self._live.status = step, status

    def _progress(self, step: CaseStep, note: str, status: CaseStatus = CaseStatus.open) -> CaseProgress:
        return CaseProgress(case_id=self.case.case_id, step=step, status=status, note=note)
