"""The reusable steps of every recovery: verify, find and reach the customer, follow up, close.

A recovery workflow subclasses `RecoveryWorkflow` and tells its story with these steps, plus those of the
capabilities it mixes in (paying back, approval, a personal reply, findings: `workflows/capability.py`). The base
class owns what every case shares: the customer's replies, carriers' delivery reports, reassignment, priority and
a person's close or cancel (signals), and the case's live state (a query).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, RetryState, is_cancelled_exception

from workflows import activity_stubs as stubs
from workflows.capability import Capability
from workflows.contact_plan import Attempt, attempts, channel_order, quiet_hours_end
from workflows.promises import PromiseSteps
from workflows.sla_keeper import SlaKeeper
from workflows.supervision import A_STOP_IS_NO_FAILURE, Supervision

with workflow.unsafe.imports_passed_through():
    from schemas.cases import CaseInput, ContactAttempt, LiveState, Verification
    from schemas.channels import Channel, stopped_by
    from schemas.incidents import Customer
    from schemas.messages import DeliveryStatus, DeliveryUpdate, MessageFacts, NextMessageFacts, OutboundMessage
    from schemas.phones import PhoneType
    from schemas.policy import RecoveryPolicy
    from schemas.progress import CaseOutcome, CaseProgress, CaseStatus, CaseStep
    from schemas.replies import CustomerReply, IntentKind, ReplyIntent
    from schemas.steps import (
        Assignment,
        CaseEvent,
        CloseRequest,
        LookupOutcome,
        LookupRequest,
        LookupResult,
        StopRequest,
        VerifyRequest,
    )

# Retry policies per outside system. Our own database: retry until it is back. Carriers: retry transient failures
# with backoff, stop at once on a permanent refusal (payment providers: `workflows/paying.py`).
_READ_MODEL = dict(start_to_close_timeout=timedelta(seconds=30),
                   retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1),
                                            maximum_interval=timedelta(seconds=30)))
# A look-up by name: each try is bounded (the CRM adapter's deadline is under this limit), and so are the tries
# (`CrmDirectory.attempts` is at most 10): a directory that never answers hands the case to its owner.
_LOOK_UP = dict(start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30),
                                         maximum_attempts=10))
_CARRIER = dict(start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)))


NOT_UNDERSTOOD_PATCH = "a-reply-not-understood-is-asked-again"
# Cases that took a reply outside a question before this patch only put it on the timeline, where nobody read it.
REPLY_OUTSIDE_A_QUESTION_PATCH = "a-reply-outside-a-question-goes-to-the-owner"
# Cases that asked again before this patch kept the first question's deadline, and after the hand-over to the
# owner applied the policy's default when it ran out, although the again-text promised the owner would call.
ASKED_AGAIN_PATCH = "asked-again-gives-time-and-the-owner-answers"
# Cases that asked where the money goes before this patch read "not to the card" as the card, and any 2 as the desk.
READ_AGAINST_THE_OFFER_PATCH = "a-destination-is-read-against-what-was-offered"
# Replies taken before this patch are read by the strict rules; after it, each reply is marked to be read widely
# (misspellings, number words, quoted mail, a negation's clause), and read so wherever it is read.
WIDE_READING_PATCH = "replies-read-as-customers-write"

# How a send that ended in an error was ended: out of time (the policy's bound) or refused for good.
_GIVEN_UP = {RetryState.TIMEOUT, RetryState.NON_RETRYABLE_FAILURE, RetryState.MAXIMUM_ATTEMPTS_REACHED}


class RecoveryWorkflow(PromiseSteps, Supervision):
    """Base class of every recovery workflow type: the steps and signals every case has.

    The public surface a type's story uses (docs/adding-a-workflow.md): `case`, `policy`, `live` (the case's live
    state, as the `state` query shows it), the steps (`begin`, `verify`, `find_contact`, `tell_customer`,
    `ask_customer`, `acknowledge`, `hand_to_owner`, `follow_up`, `close`), and for a story's own steps
    `record(note, key, ...)` (a note on the timeline), `set_step(step, status)`, `watch(coroutine)` (a watch the
    case owns), `meet_promise(clock)`, `facts()` (what templates may name; override it to add a type's own) and
    `read_model_options` (timeouts and retries for an activity on our own database). Underscore names are the kit's
    own. Steps that wait for a staff action are capabilities mixed in before this class (`workflows/capability.py`).
    """

    read_model_options = _READ_MODEL

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A capability mixed in after this class would never have its state set up (this `__init__` ends the
        chain): its signal would fail the workflow task and leave the case stuck. Refused when the type is made."""
        super().__init_subclass__(**kwargs)
        mro = cls.__mro__
        late = [base.__name__ for base in mro[mro.index(RecoveryWorkflow) + 1:]
                if issubclass(base, Capability) and base is not Capability]
        if late:
            raise TypeError(f"{cls.__name__}: mix {', '.join(late)} in before RecoveryWorkflow "
                            f"(class {cls.__name__}({', '.join(late)}, RecoveryWorkflow))")

    @workflow.init
    def __init__(self, case: CaseInput) -> None:
        self.case = case
        self._customer: Customer = case.incident.customer
        self.live = LiveState(case_id=case.case_id, kind=case.incident.kind, status=CaseStatus.open,
                               step=CaseStep.verify, owner=case.owner, opted_out=list(case.opted_out))
        self._unusable: set[Channel] = set(case.opted_out)  # opted out, or the address proved dead
        self._inbox: list[CustomerReply] = []
        self._unclear: list[CustomerReply] = []  # replies to the open question that do not answer it
        self._offered: frozenset[int] | None = None  # the numbered answers the open question offers
        self._delivery: dict[str, DeliveryStatus] = {}
        self._sent_per_template: dict[str, int] = {}
        self._assignments = 0
        self._reached_on: Channel | None = None  # once a channel works, the case keeps using it first
        # How this run treats a landline, as the patches said when a contact was last planned (`_plan`); a query
        # may not ask for a patch, so the preview reads these. Until then, as a case opened now would.
        self._landline_texted, self._landline_called = False, True
        self._sending: Channel | None = None  # a send in flight: if a stop cuts it short, it may have gone out
        # The promise runs from when the case's workflow started, on Temporal's clock (so it replays the same).
        started = workflow.info().start_time
        self._sla = SlaKeeper(case.policy.sla, case.incident.kind, case.priority, started_at=started)
        self.live.sla = self._sla.snapshot(started)
        self._closed = False
        self._watch_failure: BaseException | None = None
        self._stop: StopRequest | None = None
        self._writes = 0
        self._paying = False  # a refund or goodwill is in flight: not a safe point to stop at
        self._last_answer: CustomerReply | None = None  # whose answer it was decides whether an account is proven
        self._contacts_reported = self._contacts_planned = 0  # addresses another report of the event gave us
        self._learned_phone: str | None = None  # a number another report gave: it reaches the customer, proves nothing
        self._replies_read: set[int] = set()  # stored messages' ids: a reply signalled again is read once

    @property
    def policy(self) -> RecoveryPolicy:
        return self.case.policy

    # -- what every case answers and accepts ---------------------------------------------------------

    @workflow.signal
    def customer_replied(self, reply: CustomerReply) -> None:
        if reply.message_id is not None:  # a resent signal changes nothing, so no patch: no command depends on it
            if reply.message_id in self._replies_read:
                return
            self._replies_read.add(reply.message_id)
        if reply.intent is not None and reply.intent.kind is IntentKind.opt_out:
            # Cases that took a STOP before the rule was shared stopped only the channel it came on.
            stopped = stopped_by(reply.channel) if workflow.patched("one-opt-out-rule") else (reply.channel,)
            self._unusable.update(stopped)
            self.live.opted_out = sorted({*self.live.opted_out, *stopped})
            return
        if self._no_question_open() and workflow.patched(REPLY_OUTSIDE_A_QUESTION_PATCH):
            # Every message says "reply to reach me": a reply nothing in the story waits for goes to a person.
            # It is not kept for a later question either ("3" now is no satisfaction score then).
            self.watch(self.hand_to_owner(f"the customer wrote at {reply.received_at:%Y-%m-%d %H:%M:%S} while no "
                                           "question was open: please read their reply and answer them"))
            return
        if workflow.patched(WIDE_READING_PATCH):  # this reply on: read as customers write (schemas/phrasings.py)
            reply = reply.model_copy(update={"wide_reading": True})
        self._inbox.append(reply)
        expecting = self.live.expecting
        # Cases that took a reply before this patch left an unclear one unanswered until the question timed out.
        if (expecting and reply.read_as(expecting, self._offered).kind != expecting
                and workflow.patched(NOT_UNDERSTOOD_PATCH)):
            self._unclear.append(reply)

    def _no_question_open(self) -> bool:
        """Neither a question nor a texted code waits for the customer, and the owner does not have the case."""
        waiting = (CaseStatus.waiting_on_customer, CaseStatus.needs_attention, CaseStatus.closed)
        return self.live.expecting is None and self.live.status not in waiting and not self._closed

    @workflow.signal
    def contact_reported(self, customer: Customer) -> None:
        """Another report of this case's money event (linked at intake) knows how to reach the customer. If we
        could not reach them at all, that report's customer is ours (name and language too: a till seldom knows
        whom it served); otherwise only an address we lack is taken. A question still waiting is asked anew."""
        known = self._customer
        if known.phone is None and known.email is None:
            self._customer = customer
        else:
            self._customer = known.model_copy(update={field: getattr(customer, field) for field in ("phone", "email")
                                                      if getattr(known, field) is None})
        if self._customer != known:
            self._contacts_reported += 1
        # Anyone can report a sale with any number: never the number that proves a bank account (before the
        # patch, it was).
        if self._customer.phone != known.phone and workflow.patched("linked-reports-prove-no-account"):
            self._learned_phone = self._customer.phone

    @workflow.signal
    def delivery_updated(self, update: DeliveryUpdate) -> None:
        self._delivery[update.idempotency_key] = update.status

    @workflow.signal
    async def assign(self, assignment: Assignment) -> None:
        """Hands the case to a named owner; the reason goes on the timeline."""
        self._assignments += 1
        previous, self.live.owner = self.live.owner, assignment.owner
        self.live.assigned_by = assignment.assigned_by or None
        await self.record(f"owner {previous or 'none'} -> {assignment.owner} by {assignment.assigned_by}: "
                          f"{assignment.reason}", f"assign:{self._assignments}", owner=assignment.owner,
                          assigned_by=self.live.assigned_by)

    @workflow.query
    def state(self) -> LiveState:
        return self.live.model_copy(update={"sla": self._sla.snapshot(workflow.now())})

    @workflow.query
    def message_facts(self) -> NextMessageFacts:
        """What the next message would be made of, for the staff's preview (a query: no history, no patch)."""
        order = [channel for channel, _ in self._contact_order() if channel not in self._unusable]
        order.sort(key=lambda channel: channel != self._reached_on)
        return NextMessageFacts(language=self._customer.language, channels=order, facts=self.facts())

    # -- the steps -------------------------------------------------------------------------------------

    async def begin(self) -> None:
        """Starts the watches: on ownership (a case nobody owns escalates after the policy's limit) and on
        the case's SLA clocks, if its type and priority have targets."""
        if self.live.owner is None:
            self.watch(self._escalate_if_unowned())
        if self._sla.clocks:
            self.watch(self._keep_promises())

    async def verify(self) -> Verification:
        """Checks the report against our own records before we say anything to the customer."""
        verification = await stubs.verify_incident(
            VerifyRequest(incident=self.case.incident, tenant=self.case.tenant,
                          progress=self._progress(CaseStep.verify, "verifying")), **_READ_MODEL)
        self.live.verified_amount = verification.amount
        return verification

    async def find_contact(self, purpose: str) -> bool:
        """With only a name to go on, looks the customer up in the directory, on the record. Two matches
        are never guessed between: the case goes to its owner."""
        if self._customer.phone or self._customer.email:
            return True
        self.set_step(CaseStep.look_up, CaseStatus.open)
        request = LookupRequest(case_id=self.case.case_id, name=self._customer.name, city=self._customer.city,
                                purpose=purpose, requested_by=self.live.owner or "engine")
        if workflow.patched("bounded-look-up"):
            try:
                found = await stubs.look_up_customer(request, **_LOOK_UP)
            except ActivityError as error:  # every try failed or ran out of time: the directory did not answer
                if is_cancelled_exception(error) and workflow.patched(A_STOP_IS_NO_FAILURE):
                    raise  # a close or cancel cut the look-up short: the story stops, nothing goes to the owner
                found = LookupResult(outcome=LookupOutcome.unavailable, matches=0)
        else:  # cases started before: retried until the directory answers
            found = await stubs.look_up_customer(request, **_READ_MODEL)
        if found.outcome is LookupOutcome.found:
            self._customer = self._customer.model_copy(update={"phone": found.phone, "email": found.email})
            return True
        if found.outcome is LookupOutcome.unavailable:  # a new outcome: no recorded history takes this path
            await self.hand_to_owner("directory look-up by name: the directory did not answer; please find and "
                                     "contact the customer by hand")
        else:
            await self.hand_to_owner(f"directory look-up by name: {found.outcome} ({found.matches} matches); "
                                     "not guessed, please contact the customer by hand")
        return False

    async def tell_customer(self, template: str, step: CaseStep = CaseStep.contact) -> bool:
        """Delivers one message along the contact plan. False when no channel reached the customer."""
        return await self._deliver(self._plan(), template, step, CaseStatus.open) is not None

    async def ask_customer(self, template: str, expecting: IntentKind, within: timedelta,
                           step: CaseStep = CaseStep.contact, owner_decides: bool = False,
                           offers: frozenset[int] | None = None) -> ReplyIntent | None:
        """Asks along the contact plan and waits for the answer. If no channel reaches the customer, the case
        goes to its owner, who can record the answer from a call. None if no answer comes in time. A reply that
        does not answer the question is asked again (`<template>_again`), once, with the full time to answer
        again; then the owner takes it and, if `owner_decides`, the question waits for the answer they record
        (no default by policy), with the promise's clock running. `offers`: the numbered answers the question
        offers; a reply is read against them (a negation, or another number, is not understood).

        The customer's time to answer starts when the question reaches them (after quiet hours, retries)."""
        plan, handed_over = self._plan(), self.live.status is CaseStatus.needs_attention
        self._contacts_planned = self._contacts_reported
        until, ask, unclear, with_owner = None, True, 0, False
        self._unclear.clear()  # a reply read against an earlier wait (a texted code's) does not answer this question
        self.live.expecting = expecting
        if offers is not None and workflow.patched(READ_AGAINST_THE_OFFER_PATCH):
            self._offered = offers
        try:
            while True:
                if ask:
                    reached = await self._deliver(plan, template, step, CaseStatus.waiting_on_customer)
                    if reached is None and not handed_over:
                        handed_over = True
                        await self.hand_to_owner(f"could not reach the customer on any channel ({self._tried()})")
                until = None if with_owner else until or workflow.now() + within
                self.live.waiting_until = until
                if not with_owner:
                    self._sla.pause(workflow.now())  # the customer's time to answer is not ours to lose
                if not await self._await_answer_or_failure(expecting, reached, until):
                    return None
                if (reply := self._pending(expecting)) is not None:
                    self._inbox.remove(reply)
                    self._last_answer = reply
                    return reply.read_as(expecting, self._offered)
                if self._contacts_planned != self._contacts_reported:  # a new address: ask there, time anew
                    plan, until, self._contacts_planned = self._plan(), None, self._contacts_reported
                ask = not self._unclear  # no answer, no unclear reply: the message failed, the plan goes on
                if not ask:
                    asked_again = workflow.patched(ASKED_AGAIN_PATCH)
                    if asked_again:  # read and counted: never a later question's answer ("3" is no score then)
                        self._inbox = [reply for reply in self._inbox if reply not in self._unclear]
                    self._unclear.clear()  # several at once are one misunderstanding
                    unclear += 1
                    await self._not_understood(template, step, unclear)
                    if asked_again:
                        until, with_owner = workflow.now() + within, owner_decides and unclear >= 2
                        if with_owner:
                            self._sla.resume(workflow.now())  # the owner's call is ours to make in time
        finally:
            self._unclear.clear()
            self._sla.resume(workflow.now())
            self.live.expecting = self.live.waiting_until = self._offered = None

    async def _not_understood(self, template: str, step: CaseStep, times: int) -> None:
        """A reply that does not answer the question gets one short question back, in the customer's language,
        with the answers spelled out; the next one goes to the owner, who calls. Nothing is guessed, least of all
        where money goes."""
        if times == 1:
            await self._deliver(self._plan(), f"{template}_again", step, CaseStatus.waiting_on_customer)
        elif times == 2:
            await self.hand_to_owner(f"the customer's reply to '{template}' was not understood, also when asked "
                                     "again: please contact them and record their answer")

    async def hand_to_owner(self, reason: str) -> None:
        self.set_step(self.live.step, CaseStatus.needs_attention)
        await self.record(f"with its owner {self.live.owner or '(none)'}: {reason}", f"hand-over:{reason[:60]}",
                          status=CaseStatus.needs_attention)

    async def follow_up(self) -> int | None:
        """After the policy delay, asks how it went (1-5). Returns the score, or None without an answer."""
        self.set_step(CaseStep.follow_up, CaseStatus.open)
        delay = self.policy.follow_up_delay_for(self.case.incident.kind)
        self.live.waiting_until = workflow.now() + delay
        await workflow.sleep(delay)
        answer = await self.ask_customer("common/satisfaction", IntentKind.satisfaction,
                                         within=self.policy.satisfaction_timeout, step=CaseStep.follow_up)
        self.live.satisfaction = answer.score if answer else None
        return self.live.satisfaction

    async def close(self, outcome: CaseOutcome, note: str, satisfaction: int | None = None) -> CaseOutcome:
        self.meet_promise("resolution")
        self._closed = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        await stubs.close_case(
            CloseRequest(outcome=outcome, satisfaction=satisfaction,
                         progress=self._progress(CaseStep.close, f"closed: {outcome}. {note}", CaseStatus.closed)),
            **_READ_MODEL)
        self.set_step(CaseStep.close, CaseStatus.closed)
        self.live.outcome = outcome
        return outcome

    # -- reaching the customer -------------------------------------------------------------------------

    def _plan(self) -> Iterator[Attempt]:
        if self._customer.phone_type is PhoneType.landline:
            # Opened before: a landline was texted, as it was then; later, called only where the order had a call.
            self._landline_texted = not workflow.patched("landlines-not-texted")
            self._landline_called = (not self._landline_texted
                                     and workflow.patched("landlines-called-in-the-texts-place"))
        order = self._contact_order()
        order.sort(key=lambda step: step[0] != self._reached_on)
        return attempts(self.policy.contact, order, self._unusable)

    def _contact_order(self) -> list[tuple[Channel, str]]:
        """The channels a contact tries, with their addresses, treating a landline as this run's patches do."""
        customer = self._customer
        if self._landline_texted:
            customer = customer.model_copy(update={"phone_type": None})
        return channel_order(self.policy.contact, self.case.incident.kind, customer, self._landline_called)

    async def _deliver(self, plan: Iterator[Attempt], template: str, step: CaseStep,
                       status: CaseStatus) -> str | None:
        """Works through the plan until a message gets through; returns its key, or None if none did."""
        given_up: set[Channel] = set()  # channels whose carrier gave up on this message (the address may be fine)
        for attempt in plan:
            if attempt.channel in given_up:
                continue
            if attempt.channel.quiet_at_night:
                await self._wait_out_quiet_hours()
            key, outcome = await self._send(attempt, template, step, status)
            self.live.contact_attempts.append(ContactAttempt(channel=attempt.channel, status=outcome or
                                                              DeliveryStatus.failed, at=workflow.now()))
            if outcome is None:
                given_up.add(attempt.channel)
            elif outcome.reached:
                self._reached_on = attempt.channel
                return key
            elif outcome is DeliveryStatus.no_answer and not attempt.last_on_channel:
                await workflow.sleep(self.policy.contact.attempt_spacing)
            elif outcome is not DeliveryStatus.no_answer:
                self._unusable.add(attempt.channel)  # failed, bounced or rejected: this address will not work
        return None

    async def _send(self, attempt: Attempt, template: str, step: CaseStep,
                    status: CaseStatus) -> tuple[str, DeliveryStatus | None]:
        """Sends one message on one channel: its key and the carrier's outcome, or None when the carrier gave up
        on this message (see `_gave_up_on`)."""
        sent_before = self._sent_per_template.get(template, 0)
        self._sent_per_template[template] = sent_before + 1
        key = f"{self.case.case_id}:{template}:{sent_before}"
        self.set_step(step, status)
        self._sending = attempt.channel  # cleared when the send ends, not when a stop cancels it
        try:
            receipt = await stubs.send_message(
                OutboundMessage(case_id=self.case.case_id, idempotency_key=key, channel=attempt.channel,
                                to=attempt.address, template=template, language=self._customer.language,
                                facts=self.facts(),
                                progress=self._progress(step, f"{attempt.channel} '{template}'", status)),
                schedule_to_close_timeout=self.policy.contact.carrier_give_up_after,
                **_CARRIER)
        except ActivityError as error:
            if not is_cancelled_exception(error):  # cut short by a stop: the carrier may have taken it
                self._sending = None
            await self._gave_up_on(attempt, key, error)
            # An outage (a deploy, a carrier down for the policy's bound) or a message the carrier refuses says
            # nothing about the address: the next message tries the channel again. Before the patch: dead.
            return key, None if workflow.patched("give-up-on-the-message-not-the-address") else DeliveryStatus.failed
        self._sending = None
        outcome = receipt.status
        if attempt.channel is Channel.voice and outcome is DeliveryStatus.sent:
            outcome = await self._call_outcome(key)
        return key, outcome

    async def _gave_up_on(self, attempt: Attempt, key: str, error: ActivityError) -> None:
        """A carrier that kept failing for the policy's bound, or refused in a way the adapter could not turn
        into an outcome: this message is given up on the channel, on the timeline; the plan goes on."""
        if error.retry_state not in _GIVEN_UP:
            raise error
        reason = (f"still failing after {self.policy.contact.carrier_give_up_after}"
                  if error.retry_state is RetryState.TIMEOUT else "refused")
        last = error.cause.message if error.cause else error.message
        await self.record(f"{attempt.channel} to the customer given up, {reason}: {last}"[:300], f"gave-up:{key}")

    async def _call_outcome(self, key: str) -> DeliveryStatus:
        """A placed call reports answered or not later, by webhook; silence means nobody answered."""
        try:
            await workflow.wait_condition(lambda: key in self._delivery,
                                          timeout=self.policy.contact.call_outcome_wait)
        except TimeoutError:
            return DeliveryStatus.no_answer
        return self._delivery[key]

    async def _wait_out_quiet_hours(self) -> None:
        wake = quiet_hours_end(workflow.now(), self._customer.time_zone, self.policy.contact)
        if wake is not None:
            self.set_step(CaseStep.contact, self.live.status)
            self.live.waiting_until = wake  # visible in the case view: the text waits for the morning
            await workflow.sleep(wake - workflow.now())

    async def _await_answer_or_failure(self, expecting: IntentKind, reached: str | None, until) -> bool:
        """False on timeout (`until` None: none). True when an answer came, a reply that does not answer, when the
        message we relied on failed after all, or when another report gave us a new address."""
        remaining = None if until is None else until - workflow.now()
        if remaining is not None and remaining <= timedelta(0):
            return False
        failed = {DeliveryStatus.failed, DeliveryStatus.bounced, DeliveryStatus.rejected}
        try:
            await workflow.wait_condition(
                lambda: self._pending(expecting) is not None or self._delivery.get(reached) in failed
                or self._contacts_planned != self._contacts_reported or bool(self._unclear), timeout=remaining)
        except TimeoutError:
            return False
        return True

    def _tried(self) -> str:
        return ", ".join(f"{a.channel} {a.status}" for a in self.live.contact_attempts) or "no address on file"

    # -- bookkeeping -----------------------------------------------------------------------------------

    async def _escalate_if_unowned(self) -> None:
        try:
            await workflow.wait_condition(lambda: self.live.owner is not None, timeout=self.policy.unowned_limit)
        except TimeoutError:
            await self.record(f"no owner after {self.policy.unowned_limit}: escalated to the supervisors",
                              "escalation:unowned", notify=self.policy.supervisor_address)

    async def record(self, note: str, key: str, owner: str | None = None, notify: str | None = None,
                     status: CaseStatus | None = None, assigned_by: str | None = None) -> None:
        """Puts `note` on the case's timeline, once per `key` (unique within the case: a retry writes it once);
        `notify` mails an address, `owner`/`status` change the read model with it."""
        progress = self._progress(self.live.step, note, status or self.live.status)
        await stubs.record_case_event(
            CaseEvent(progress=progress, entry_key=f"{self.case.case_id}:{key}", owner=owner, notify=notify,
                      assigned_by=assigned_by),
            **_READ_MODEL)

    def facts(self) -> MessageFacts:
        """What a message may name. A type or capability with facts of its own overrides it and adds them to
        `super().facts()`."""
        incident = self.case.incident
        first_reply = self._sla.clocks.get("first_reply")
        return MessageFacts(customer_name=self._customer.name, store=incident.store,
                            amount=self.live.verified_amount or incident.amount,
                            case_reference=self.case.reference, refund_destination=self.live.refund_destination,
                            time_zone=self._customer.time_zone, topic=incident.topic or incident.description,
                            reply_due=first_reply.deadline if first_reply else None,
                            owner=self.live.owner, details=incident.details)

    def _pending(self, expecting: IntentKind) -> CustomerReply | None:
        """The first reply that answers what we asked, read knowing what we asked."""
        return next((reply for reply in self._inbox if reply.read_as(expecting, self._offered).kind == expecting),
                    None)

    def meet_promise(self, clock: str) -> None:
        """Marks an SLA promise (`first_reply`, `resolution`) kept now; the watch stops escalating it."""
        self._sla.meet(clock, workflow.now())

    def set_step(self, step: CaseStep, status: CaseStatus) -> None:
        """The step the case is at and its status, as the case view shows them (written with the next record)."""
        self.live.step, self.live.status = step, status

    def _progress(self, step: CaseStep, note: str, status: CaseStatus = CaseStatus.open) -> CaseProgress:
        self._writes += 1  # the read model applies writes in this order, whenever each activity finishes
        return CaseProgress(case_id=self.case.case_id, step=step, status=status, note=note,
                            sla=self._sla.snapshot(workflow.now()), seq=self._writes)
