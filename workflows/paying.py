"""Paying a customer back: ask where, make sure an account is really the customer's, have a supervisor approve an
amount only the reporter's word supports, and refund once per money event. Whichever case or route pays first,
the refund ledger (our database, unique per money event) decides; these steps only read its answer.
A capability (`workflows/capability.py`): a type that pays mixes in `PayingSteps`, which brings the supervisor's
approval (`decide`) and the refund paid by hand (`refund_paid_by_hand`) with it, as every payment may need both.
It uses the base class's state (`live`, `_customer`, `record` ...)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, RetryState, is_cancelled_exception

from workflows import activity_stubs as stubs
from workflows.approval import Approval
from workflows.capability import Capability
from workflows.supervision import A_STOP_IS_NO_FAILURE

with workflow.unsafe.imports_passed_through():
    from schemas.cases import CaseInput, Verification
    from schemas.channels import Channel
    from schemas.compensation import CompensationGranted, CompensationKind, CompensationRequest, GoodwillOffer
    from schemas.messages import CodeCheck, CodeMessage, MessageFacts
    from schemas.money import Money
    from schemas.progress import CaseStatus, CaseStep
    from schemas.refunds import RefundRequest
    from schemas.replies import CustomerReply, IntentKind, RefundDestination, RefundDestinationKind
    from schemas.steps import StaffAction

PAYMENTS = dict(start_to_close_timeout=timedelta(seconds=60),
                retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5),
                                         non_retryable_error_types=["RefundRejected"]))
_CODE_TEXT = dict(start_to_close_timeout=timedelta(seconds=30),
                  retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1),
                                           maximum_interval=timedelta(minutes=1)))
MAX_CODE_TRIES = 3
# Cases opened before these changes replay as they ran (tests/replay).
APPROVE_UNVERIFIED = "approve-unverified-amounts"
APPROVE_ABOVE_CEILING = "approve-amounts-above-the-ceiling"
PROVE_ACCOUNTS = "prove-accounts-from-unauthenticated-senders"
CODE_TEXT_FAILS_TO_OWNER = "code-text-that-fails-goes-to-the-owner"
HAND_PAYMENT_ONLY_WHEN_AWAITED = "hand-payment-only-when-awaited"
OUTCOME_UNKNOWN_IN_LEDGER = "refund-outcome-unknown-in-ledger"
# A refund's failure (outcome unknown, refused) is recorded and handed to the owner, and a hand payment confirmed,
# before a close or cancel cuts the story: otherwise the stop cancelled the record and money that may have moved
# had no trace but the provider's.
BOOKKEEPING_BEFORE_A_STOP = "money-bookkeeping-before-a-stop"


class HandPayment(Capability):
    """A refund the provider refused (or never answered) is paid by a person, who confirms it with
    `POST /cases/{id}/manual-refund` (signal `refund_paid_by_hand`); the case goes on from there."""

    grants = StaffAction.hand_payment

    @workflow.init
    def __init__(self, case: CaseInput) -> None:
        super().__init__(case)
        self._paid_by_hand: str | None = None

    @workflow.signal
    def refund_paid_by_hand(self, confirmed_by: str) -> None:
        """Counts only while the case waits for it; the API has already written the payment into the ledger."""
        # Before the patch a confirmation counted at any time; cases opened then replay as they ran.
        if self.live.awaiting_hand_payment or not workflow.patched(HAND_PAYMENT_ONLY_WHEN_AWAITED):
            self._paid_by_hand = confirmed_by
            if self.live.awaiting_hand_payment and workflow.patched(BOOKKEEPING_BEFORE_A_STOP):
                self._paying = True  # recorded on the timeline before a stop that came with it ends the story

    async def pay_by_hand(self, amount: Money, reason: str) -> None:
        """Hands the refund to the owner, then waits for their confirmation: a safe point for a close or cancel
        (no money of ours in flight), unlike the hand-over and the record of the confirmation."""
        self.live.awaiting_hand_payment = True
        await self.hand_to_owner(reason)
        self._paying = self._paying and self._paid_by_hand is not None  # one confirmed meanwhile is recorded first
        await workflow.wait_condition(lambda: self._paid_by_hand is not None)
        self.live.awaiting_hand_payment = False
        await self.record(f"refund of {amount} paid by hand by {self._paid_by_hand}", "refund:manual")
        self._paying = False


class PayingSteps(HandPayment, Approval):
    """Pay back and compensate: where the money goes, a proven account, one refund per money event, goodwill."""

    async def pay_by_hand(self, amount: Money, reason: str) -> None:
        await super().pay_by_hand(amount, reason)
        self._refunded = True  # however a type reaches it: a cancel after it tells the customer the money stays theirs

    @workflow.init
    def __init__(self, case: CaseInput) -> None:
        super().__init__(case)
        self._refunded = False
        self._compensation: CompensationGranted | None = None

    async def approve_unverified(self, verification: Verification) -> bool:
        """An amount no till record of ours confirms is the reporter's word: above the policy's threshold a
        supervisor approves it first, in every workflow type that pays. A till record may be the reporter's own
        (`POST /transactions` opens a case from the record it sends), so above the policy's hard ceiling even a
        confirmed amount waits for a supervisor. False when the supervisor said no."""
        if verification.against_record:
            if not (self.policy.above_ceiling([verification.amount]) and workflow.patched(APPROVE_ABOVE_CEILING)):
                return True
            return await self.approved("refund above the hard ceiling (a till record confirms it)",
                                       [verification.amount])
        if not workflow.patched(APPROVE_UNVERIFIED):
            return True
        return await self.approved("refund of an amount no till record confirms", [verification.amount])

    async def pay_back(self, amount: Money, ask: str, thank: str, offers: frozenset[int]) -> None:
        """Asks where the money should go (the policy's default if no answer comes; once the customer's replies
        were not understood, asked again, the answer the owner records), refunds it once, and thanks the customer,
        unless another case had already paid this money event."""
        answer = await self.ask_customer(ask, IntentKind.refund_destination, within=self.policy.reply_timeout,
                                         owner_decides=True, offers=offers)  # one not understood is called
        if answer is not None:
            destination, why = await self.proven(answer.destination), "the customer's choice"
        else:
            destination = self._policy_destination()
            why = "no answer in time, so by policy"
        if await self.refund(amount, destination, why):
            await self.tell_customer(thank)

    async def proven(self, destination: RefundDestination) -> RefundDestination:
        """An account that arrived over a channel whose sender we cannot authenticate (email, a text from another
        number) is paid only once the customer echoes a one-time code texted to the number on file, or an agent
        records the account from the customer's call. Otherwise the money goes where policy sends it."""
        if destination.kind is not RefundDestinationKind.bank_account or self._from_customer(self._last_answer):
            return destination
        if not workflow.patched(PROVE_ACCOUNTS):
            return destination
        if self._number_on_file() is None or Channel.sms in self._unusable:
            return await self._unproven("there is no number on file that takes a text to confirm it")
        await self._wait_out_quiet_hours()  # whoever sent the account, nobody is woken by our text
        if not await self._code_texted(destination):
            return await self._unproven("the text with its code could not be sent")
        until = workflow.now() + self.policy.reply_timeout
        for _ in range(MAX_CODE_TRIES):
            reply = await self._next_from_customer(until)
            if reply is None:
                return await self._unproven("no code came back in time")
            if (choice := reply.read_as(IntentKind.refund_destination)).kind is IntentKind.refund_destination:
                return choice.destination  # the customer chose again, where we know it is them
            if await stubs.check_destination_code(CodeCheck(case_id=self.case.case_id, text=reply.text,
                                                            iban=destination.iban), **self.read_model_options):
                await self.record("the account was confirmed with the code texted to the number on file",
                                  "account:proven")
                return destination
        return await self._unproven(f"the code was wrong {MAX_CODE_TRIES} times")

    async def refund(self, amount: Money, destination: RefundDestination, why: str) -> bool:
        """Pays the customer back once per money event. False when another case had already paid the event:
        nothing is paid here. If the provider refuses for good, the owner or a supervisor pays by hand and
        records it (POST /cases/{id}/manual-refund); the story goes on from there."""
        self.live.refund_destination = destination.kind
        request = RefundRequest(case_id=self.case.case_id, money_event=self.case.money_event, amount=amount,
                                destination=destination, original_payment_ref=self.case.incident.transaction_ref,
                                progress=self._progress(CaseStep.refund,
                                                        f"refund of {amount} to {destination.kind}: {why}"))
        try:
            result = await self._paid(stubs.refund(
                request, schedule_to_close_timeout=self.policy.refund_give_up_after, **PAYMENTS))
        except ActivityError as error:
            reason = self._refund_for_the_owner(amount, error)
            self._paying = workflow.patched(BOOKKEEPING_BEFORE_A_STOP)  # set before the story yields: no stop between
            try:
                if error.retry_state is RetryState.TIMEOUT and workflow.patched(OUTCOME_UNKNOWN_IN_LEDGER):
                    await stubs.refund_outcome_unknown(request, **self.read_model_options)
                await self.pay_by_hand(amount, reason)
            finally:
                self._paying = False
            return True
        if result.paid_in_case not in (None, self.case.case_id):
            self.live.paid_in_case = result.paid_in_case
            await self.record(f"this money event is refunded by case {result.paid_in_case}: nothing paid here",
                              "refund:elsewhere")
            return False
        self._refunded = True
        return True

    async def grant_goodwill(self, offer: GoodwillOffer) -> CompensationGranted:
        granted = await self._paid(stubs.grant_compensation(
            CompensationRequest(case_id=self.case.case_id, idempotency_key=f"{self.case.case_id}:goodwill",
                                kind=offer.kind, product=offer.product, value=offer.value,
                                progress=self._progress(CaseStep.compensation,
                                                        f"goodwill {offer.kind}: {offer.product} ({offer.value})")),
            **self.read_model_options))
        self._compensation = granted
        return granted

    def facts(self) -> MessageFacts:
        granted = self._compensation
        return super().facts().model_copy(update={
            "refunded": self._refunded,
            "voucher_code": granted.code if granted else None,
            "compensation_product": granted.product if granted else None,
            "compensation_credit": granted.value if granted and granted.kind is CompensationKind.credit else None})

    def _refund_for_the_owner(self, amount: Money, error: ActivityError) -> str:
        """Why a refund goes to the owner: refused for good (pay by hand), or out of time with no answer, when
        the provider may have paid: never assumed unpaid, so the owner checks before paying (never twice)."""
        refusal = error.cause if isinstance(error.cause, ApplicationError) else None
        if refusal is not None and refusal.type == "RefundRejected":
            return f"the payment provider refused the refund of {amount} ({refusal.message}): please pay it by hand " \
                   "and confirm"
        if error.retry_state is RetryState.TIMEOUT:
            return f"the refund of {amount} got no answer from the provider in {self.policy.refund_give_up_after}: " \
                   "outcome unknown, check the provider before paying by hand (never twice), then confirm its " \
                   "refund id or your payment"
        raise error

    async def _code_texted(self, destination: RefundDestination) -> bool:
        """Texts the code; a text that cannot be sent (a template that cannot render: non-retryable) goes to the
        owner, and the money where policy sends it, instead of failing the case while it waits on the customer.
        (Cases from before the patch never failed here, so they replay as they ran.)"""
        try:
            await self._text_code(destination)
        except ActivityError as failed:
            if is_cancelled_exception(failed) and workflow.patched(A_STOP_IS_NO_FAILURE):
                raise  # a close or cancel cut the text short: the story stops, nothing goes to the owner
            if not workflow.patched(CODE_TEXT_FAILS_TO_OWNER):
                raise
            await self.hand_to_owner(f"the text with the code to confirm an account could not be sent: "
                                     f"{failed.cause.message if failed.cause else failed}")
            return False
        return True

    async def _text_code(self, destination: RefundDestination) -> None:
        """The code is bound to this account, and the text names it (masked), so a code the customer echoes
        approves the account they saw, never one an impostor swapped in."""
        self.set_step(CaseStep.contact, CaseStatus.waiting_on_customer)
        await stubs.send_destination_code(
            CodeMessage(case_id=self.case.case_id, idempotency_key=f"{self.case.case_id}:confirm_account",
                        channel=Channel.sms, to=self._customer.phone, template="common/confirm_account",
                        language=self._customer.language, iban=destination.iban,
                        facts=self.facts().model_copy(update={"account": destination.masked_account}),
                        progress=self._progress(CaseStep.contact, "one-time code texted to the number on file "
                                                "to confirm an account", CaseStatus.waiting_on_customer)),
            **_CODE_TEXT)

    async def _next_from_customer(self, until) -> CustomerReply | None:
        """The next reply that surely comes from the customer; others (the unproven sender's) stay ignored."""
        def first() -> CustomerReply | None:
            return next((reply for reply in self._inbox if self._from_customer(reply)), None)
        self.live.expecting, self.live.waiting_until = IntentKind.confirmation, until  # shown in the case view
        try:
            await workflow.wait_condition(lambda: first() is not None, timeout=max(until - workflow.now(),
                                                                                     timedelta(seconds=1)))
        except TimeoutError:
            return None
        finally:
            self.live.expecting = self.live.waiting_until = None
        reply = first()
        self._inbox.remove(reply)
        return reply

    def _from_customer(self, reply: CustomerReply | None) -> bool:
        """A call we placed or an agent's record of one, or a text from the number on file, as a carrier's webhook
        or a staff account vouches for it. Email senders, other numbers, and whatever channel or sender a caller
        merely states (`authenticated` False) are claims, not proof. (Replies signalled before the field came
        are None and keep the old rule, so open cases replay as they ran.)"""
        if reply is None or reply.authenticated is False:
            return False
        if reply.channel in (Channel.agent, Channel.voice):
            return True
        return reply.channel is Channel.sms and reply.sender is not None and reply.sender == self._number_on_file()

    def _number_on_file(self) -> str | None:
        """The number that proves a sender: the case's own (reported with it, or found in the directory), never
        one another report of the money event gave (that one only reaches the customer)."""
        phone = self._customer.phone
        return None if phone is not None and phone == self._learned_phone else phone

    async def _unproven(self, why: str) -> RefundDestination:
        destination = self._policy_destination()
        await self.record(f"a bank account came over a channel whose sender we cannot authenticate and was not "
                          f"confirmed ({why}): refunded to {destination.kind} by policy instead", "account:unproven")
        return destination

    def _policy_destination(self) -> RefundDestination:
        return RefundDestination(kind=self.policy.default_refund_destination)
