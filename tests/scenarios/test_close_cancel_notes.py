"""A person closes or cancels a case, and keeps notes on it: a cancelled S1 case pays nothing afterwards and
the customer already texted hears that it is closed; a refund in flight when the cancel comes finishes and is
recorded; notes are for staff, never for the integrator or the customer."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from providers.payments import ProviderRefund
from schemas.auth import PrincipalKind, Scope
from schemas.channels import Channel
from schemas.money import Money
from schemas.refunds import RefundStatus
from schemas.replies import RefundDestination
from settings import Settings
from store.api_keys import KeyRefused
from store.tables import CompensationRow, RefundRow, TimelineRow
from tests.harness import Stack, eventually
from tests.scenarios.test_s1_till_overcharge import PHONE, till_record
from tests.scenarios.test_s3_s4_complaints import OWNER, complaint
from worker import sandbox_providers

NOTE = "Customer called: she is abroad until Friday, prefers email."


def till(stack: Stack) -> dict[str, str]:
    return stack.key("till-prisma", Scope.incidents_write, Scope.cases_read, kind=PrincipalKind.integrator)


async def open_s1(stack: Stack, transaction_id: str) -> str:
    verdict = (await stack.api.post("/transactions", json=till_record(transaction_id), headers=till(stack))).json()
    await eventually(lambda: stack.texts_to(PHONE))  # asked where the 9.95 should go
    return verdict["case"]["case_id"]


async def test_cancel_mid_flight_pays_nothing_and_tells_the_customer_and_notes_stay_internal(stack: Stack):
    case_id = await open_s1(stack, "T-7001")
    agent = stack.key("aino.agent", Scope.cases_act, Scope.cases_read)
    noted = await stack.api.post(f"/cases/{case_id}/notes", json={"text": NOTE}, headers=agent)
    assert noted.status_code == 201
    staff_view = (await stack.api.get(f"/cases/{case_id}/timeline", headers=agent)).json()
    assert [(e["step"], e["actor"]) for e in staff_view if e["note"] == NOTE] == [("note", "aino.agent")]
    integrator_view = (await stack.api.get(f"/cases/{case_id}/timeline", headers=till(stack))).json()
    assert integrator_view and all(entry["note"] != NOTE for entry in integrator_view)

    cancelled = await stack.api.post(f"/cases/{case_id}/cancel", headers=till(stack),
                                     json={"reason": "the till report was a test transaction"})
    assert cancelled.status_code == 202
    assert await stack.env.client.get_workflow_handle(case_id).result() == "cancelled"
    [_, told] = stack.texts_to(PHONE)
    assert "closed" in told.body and stack.case(case_id).reference in told.body
    assert "no longer read" in told.body and "contact our customer service" in told.body, "not: answer this"
    assert "refund" not in told.body, "nothing was paid"
    late = await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": "1", "sender": PHONE})
    assert late.status_code in (202, 409)
    case = (await stack.api.get(f"/cases/{case_id}")).json()
    assert (case["status"], case["outcome"], case["refunds"], stack.ledger()) == ("closed", "cancelled", [], [])
    assert all(NOTE not in text.body for text in stack.texts_to(PHONE)), "a note is never sent"


async def test_close_by_hand_records_the_outcome_and_reason(stack: Stack):
    case_id = await open_s1(stack, "T-7002")
    agent = stack.key("aino.agent", Scope.cases_act, Scope.cases_read)
    closed = await stack.api.post(f"/cases/{case_id}/close", headers=agent,
                                  json={"outcome": "duplicate", "reason": "same sale as case T-7001"})
    assert closed.status_code == 202
    assert await stack.env.client.get_workflow_handle(case_id).result() == "duplicate"
    timeline = (await stack.api.get(f"/cases/{case_id}/timeline", headers=agent)).json()
    assert "closed by hand by aino.agent: same sale as case T-7001" in timeline[-1]["note"]
    assert len(stack.texts_to(PHONE)) == 1 and stack.ledger() == []
    again = await stack.api.post(f"/cases/{case_id}/close", headers=agent,
                                 json={"outcome": "not_a_failure", "reason": "twice"})
    assert again.status_code == 409


async def test_only_the_integrator_or_a_supervisor_may_cancel_and_only_known_outcomes_close(stack: Stack):
    case_id = await open_s1(stack, "T-7003")
    agent = stack.key("aino.agent", Scope.cases_act, Scope.cases_read)
    refused = await stack.api.post(f"/cases/{case_id}/cancel", headers=agent, json={"reason": "not mine to do"})
    assert refused.status_code == 403
    unknown = await stack.api.post(f"/cases/{case_id}/close", headers=agent,
                                   json={"outcome": "recovered", "reason": "by hand"})
    assert unknown.status_code == 422


async def test_a_person_with_incidents_write_may_not_cancel_nor_an_integrator_with_cases_act_close_or_note(
        stack: Stack):
    case_id = await open_s1(stack, "T-7004")
    clerk = stack.key("clerk.with.till.rights", Scope.incidents_write, Scope.cases_read)
    refused = await stack.api.post(f"/cases/{case_id}/cancel", headers=clerk, json={"reason": "not a supervisor"})
    assert refused.status_code == 403 and "cases:approve" in refused.text
    with pytest.raises(KeyRefused):  # a system's key is bounded by its kind: `cases:act` is never an integrator's
        stack.key("till-prisma", Scope.incidents_write, Scope.cases_read, Scope.cases_act,
                  kind=PrincipalKind.integrator)
    tool = stack.key("till-prisma", Scope.incidents_write, Scope.cases_read, kind=PrincipalKind.integrator)
    closed = await stack.api.post(f"/cases/{case_id}/close", headers=tool,
                                  json={"outcome": "duplicate", "reason": "a system may not decide this"})
    noted = await stack.api.post(f"/cases/{case_id}/notes", headers=tool, json={"text": "a system's note"})
    assert (closed.status_code, noted.status_code) == (403, 403)
    supervisor = stack.key("sanna.supervisor", Scope.cases_approve, Scope.cases_read)
    assert (await stack.api.post(f"/cases/{case_id}/cancel", headers=supervisor,
                                 json={"reason": "withdrawn by the store"})).status_code == 202
    assert await stack.env.client.get_workflow_handle(case_id).result() == "cancelled"


@dataclass
class HeldPayments:
    """The sandbox provider, holding each refund until the test lets it go: a refund in flight."""

    inner: object
    started: threading.Event
    release: threading.Event
    name: str = "held"
    key_window: timedelta | None = None  # the sandbox's: every key kept

    def refund(self, idempotency_key: str, amount: Money, destination: RefundDestination,
               original_payment_ref: str | None) -> ProviderRefund:
        self.started.set()
        self.release.wait(timeout=30)
        return self.inner.refund(idempotency_key, amount, destination, original_payment_ref)


async def test_a_cancel_during_a_refund_lets_the_refund_finish_and_stops_after_it(dev_server: WorkflowEnvironment,
                                                                                   settings: Settings):
    providers = sandbox_providers(settings)
    held = HeldPayments(providers.payments, threading.Event(), threading.Event())
    providers.payments = held
    async with Stack.running(dev_server, settings, providers=providers) as stack:
        case_id = await open_s1(stack, "T-7004")
        await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": "card", "sender": PHONE})
        await asyncio.to_thread(held.started.wait, 15)
        supervisor = stack.key("sami.supervisor", Scope.cases_approve, Scope.cases_read)
        cancelled = await stack.api.post(f"/cases/{case_id}/cancel", headers=supervisor,
                                         json={"reason": "customer asked us to stop"})
        assert cancelled.status_code == 202
        await asyncio.sleep(1)
        assert stack.ledger() == [], "held: the money has not moved yet"
        held.release.set()
        assert await stack.env.client.get_workflow_handle(case_id).result() == "cancelled"
        [refund] = stack.refunds(case_id)
        assert (refund.amount_minor, len(stack.ledger())) == (995, 1), "finished and recorded, once"
        texts = [text.body for text in stack.texts_to(PHONE)]
        assert len(texts) == 2 and "closed" in texts[1], "no thank-you after the cancel, but the word it is closed"
        assert "The refund of €9.95 stays yours" in texts[1]


@dataclass
class HeldFirstText:
    """The sandbox carrier, holding the case's first text until the test lets it go: a send in flight, which
    the carrier may already have taken when the cancel comes."""

    inner: object
    started: threading.Event
    release: threading.Event
    name: str = "held"

    def send(self, idempotency_key: str, to: str, subject: str, body: str):
        if not self.started.is_set():
            self.started.set()
            self.release.wait(timeout=30)
        return self.inner.send(idempotency_key, to, subject, body)


async def test_a_cancel_during_the_first_send_tells_the_customer_as_the_text_may_have_gone(
        dev_server: WorkflowEnvironment, settings: Settings):
    providers = sandbox_providers(settings)
    held = HeldFirstText(providers.senders[Channel.sms], threading.Event(), threading.Event())
    providers.senders[Channel.sms] = held
    async with Stack.running(dev_server, settings, providers=providers) as stack:
        verdict = (await stack.api.post("/transactions", json=till_record("T-7005"), headers=till(stack))).json()
        case_id = verdict["case"]["case_id"]
        await asyncio.to_thread(held.started.wait, 15)
        assert (await stack.api.post(f"/cases/{case_id}/cancel", headers=till(stack),
                                     json={"reason": "entered twice at the till"})).status_code == 202
        assert await stack.env.client.get_workflow_handle(case_id).result() == "cancelled"
        held.release.set()  # the carrier delivers the question after all
        await eventually(lambda: len(stack.texts_to(PHONE)) == 2)
        assert sum("is closed" in text.body or "closed case" in text.body for text in stack.texts_to(PHONE)) == 1


async def test_a_cancel_during_a_complaints_refund_grants_no_goodwill_after_it(dev_server: WorkflowEnvironment,
                                                                              settings: Settings):
    """A complaint pays its refund and its goodwill in one go: the cancel that comes during the refund lets the
    refund finish, and no goodwill starts after it."""
    providers = sandbox_providers(settings)
    held = HeldPayments(providers.payments, threading.Event(), threading.Event())
    providers.payments = held
    async with Stack.running(dev_server, settings, providers=providers) as stack:
        small = {"amount_minor": 100, "currency": "EUR"}  # goodwill capped at 3 x 1 EUR: no approval needed
        case_id = (await stack.api.post("/incidents", json=complaint("form-cancel", source="feedback_form",
                                                                     amount=small))).json()["case_id"]
        replied = await stack.api.post(f"/cases/{case_id}/responses", headers=stack.key(OWNER, Scope.cases_act), json={
            "agent_name": "Aino", "text": "Hello Jari, about the sports package on Elisa Viihde: it is fixed. Aino"})
        assert replied.status_code == 202, replied.text
        await asyncio.to_thread(held.started.wait, 15)
        supervisor = stack.key("sami.supervisor", Scope.cases_approve, Scope.cases_read)
        assert (await stack.api.post(f"/cases/{case_id}/cancel", headers=supervisor,
                                     json={"reason": "the customer withdrew the complaint"})).status_code == 202
        await asyncio.sleep(1)
        held.release.set()
        assert await stack.env.client.get_workflow_handle(case_id).result() == "cancelled"
        assert len(stack.refunds(case_id)) == 1, "the refund in flight finished and was recorded"
        assert stack.rows(CompensationRow, case_id=case_id) == [], "no goodwill after the cancel"


class ProviderDown:
    """A payment provider that never answers: every refund attempt fails as a transient error."""

    name = "down"
    key_window = None

    def __init__(self) -> None:
        self.calls = 0  # the provider was really asked (not stopped before it by a broken double)

    def refund(self, idempotency_key: str, amount: Money, destination: RefundDestination,
               original_payment_ref: str | None) -> ProviderRefund:
        self.calls += 1
        raise ConnectionError("the payment provider does not answer")


@asynccontextmanager
async def refunding_to_a_provider_that_is_down(dev_server: WorkflowEnvironment, settings: Settings,
                                               transaction_id: str) -> AsyncIterator[tuple[Stack, ProviderDown, str]]:
    """An S1 case whose customer chose the card; its refund goes to a provider that never answers, given up on
    after 10 s."""
    settings.policy = settings.policy.model_copy(update={"refund_give_up_after": timedelta(seconds=10)})
    providers = sandbox_providers(settings)
    providers.payments = ProviderDown()
    async with Stack.running(dev_server, settings, providers=providers) as stack:
        case_id = await open_s1(stack, transaction_id)
        await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": "card", "sender": PHONE})
        yield stack, providers.payments, case_id


async def test_a_refund_out_of_time_goes_to_the_owner_as_unknown_and_a_cancel_completes(
        dev_server: WorkflowEnvironment, settings: Settings):
    async with refunding_to_a_provider_that_is_down(dev_server, settings, "T-7006") as (stack, provider, case_id):
        await eventually(lambda: stack.case(case_id).status == "needs_attention")
        agent = stack.key("aino.agent", Scope.cases_read)
        notes = [entry["note"] for entry in (await stack.api.get(f"/cases/{case_id}/timeline", headers=agent)).json()]
        assert any("outcome unknown, check the provider before paying by hand" in note for note in notes), notes
        assert (await stack.api.post(f"/cases/{case_id}/cancel", headers=till(stack),
                                     json={"reason": "the provider is down"})).status_code == 202
        assert await stack.env.client.get_workflow_handle(case_id).result() == "cancelled"
        assert stack.refunds(case_id) == [] and stack.ledger() == []
        assert provider.calls > 0, "the refund reached the provider, which never answered"


async def test_a_cancel_during_a_refund_that_runs_out_of_time_still_records_the_unknown_outcome(
        dev_server: WorkflowEnvironment, settings: Settings):
    """The cancel waits for the refund in flight, and for what its failure leaves: the ledger's `unknown` (the
    provider may have paid) and the hand-over to the owner. Before, the cancel cut both: money that may have
    moved had no trace but the provider's."""
    async with refunding_to_a_provider_that_is_down(dev_server, settings, "T-7007") as (stack, provider, case_id):
        await eventually(lambda: provider.calls > 0)  # the refund is in flight
        assert (await stack.api.post(f"/cases/{case_id}/cancel", headers=till(stack),
                                     json={"reason": "declared in error"})).status_code == 202
        assert await stack.env.client.get_workflow_handle(case_id).result() == "cancelled"
        assert [row.status for row in stack.rows(RefundRow, case_id=case_id)] == [RefundStatus.unknown]
        notes = [row.note for row in stack.rows(TimelineRow, case_id=case_id)]
        assert any("outcome unknown, check the provider before paying by hand" in note for note in notes), notes
        assert stack.refunds(case_id) == [] and stack.ledger() == []
        await stack.keep_history(case_id, "overcharge_cancelled_as_the_refund_ran_out")  # the patch's path
