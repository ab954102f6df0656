"""Money paid once, to the right person, however the money event reaches us (issue 9's must-shows 1-3, and the
approval and goodwill rules), through the REST API on a real Temporal server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from activities.verification import verify_against
from providers.payments import RefundRejected
from providers.payments.sandbox import SandboxPayments
from schemas.auth import PrincipalKind, Scope
from schemas.incidents import IncidentIn
from schemas.progress import CaseOutcome
from schemas.refunds import RefundRequest, RefundStatus, money_event_key
from schemas.transactions import TransactionRecord
from settings import Settings
from store import refunds as refund_ledger
from store.cases import open_case
from store.db import session_for
from store.tables import CaseRow, DestinationCodeRow, RefundRow, TimelineRow, TransactionRow, WebhookEventRow
from store.transactions import record_transaction
from tests.harness import Stack, eventually, sign_email
from tests.scenarios.test_close_cancel_notes import ProviderDown
from tests.scenarios.test_s1_till_overcharge import PHONE, till_record
from worker import Providers, sandbox_providers

IBAN = "FI2112345600000785"
pytestmark = pytest.mark.both_databases  # the ledger's unique keys and conditional updates, on SQLite and PostgreSQL


@pytest.fixture
def stack(live_stack: Stack) -> Stack:
    """These stories skip no time: they run on the dev server, so nothing of theirs can hold the shared
    time-skipping server's clock for the tests that come after."""
    return live_stack


def opened(session, case_id: str, incident: IncidentIn) -> None:
    """A case row as intake writes it, for the ledger's tests that need no workflow."""
    open_case(session, case_id, case_id[-8:].upper(), "acme", "contact-centre", incident, datetime.now(UTC),
              owner=None)
    session.commit()


def contact_centre_report(**changes) -> dict:
    """The contact centre's report of the same sale the till sent (same store and transaction reference)."""
    return {"external_id": "cc-77", "kind": "overcharge", "source": "contact_centre",
            "customer": {"name": "Maija Meikäläinen", "phone": PHONE, "language": "en"},
            "amount": {"amount_minor": 995, "currency": "EUR"}, "store": "Prisma Kaleva",
            "transaction_ref": "T-1001", **changes}


async def test_one_sale_reported_by_the_till_and_the_contact_centre_is_refunded_once(stack: Stack):
    # Integrators of this test's own (case ids derive from them; the Temporal server is shared by the session).
    own = stack.settings.temporal_task_queue
    till = stack.key(f"till-{own}", Scope.incidents_write, Scope.cases_read, kind=PrincipalKind.integrator)
    centre = stack.key(f"contact-centre-{own}", Scope.incidents_write, Scope.cases_read, kind=PrincipalKind.integrator)
    first = (await stack.api.post("/transactions", json=till_record(), headers=till)).json()["case"]["case_id"]
    second = await stack.api.post("/incidents", json=contact_centre_report(), headers=centre)
    assert second.status_code == 201, second.text
    assert second.json()["linked_to"] == first

    await eventually(lambda: stack.texts_to(PHONE))
    for case_id in (first, second.json()["case_id"]):
        await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": "1", "sender": PHONE})
    await eventually(lambda: stack.refunds(first))
    await eventually(lambda: len(stack.texts_to(PHONE)) == 2)  # the question and the thank-you, once each

    assert [entry.amount_minor for entry in stack.ledger()] == [995], "one payment at the provider"
    linked = (await stack.api.get(f"/cases/{second.json()['case_id']}")).json()
    assert (linked["linked_to"], linked["outcome"], linked["refunds"]) == (first, "linked", [])
    events = sorted(stack.rows(WebhookEventRow, case_id=second.json()["case_id"]), key=lambda event: event.sequence)
    assert [event.type for event in events] == [
        "case.opened", "case.closed"], "the integrator that opened the linked case hears it closed"
    assert len((await stack.api.get(f"/cases/{first}")).json()["refunds"]) == 1
    assert any(line.note.startswith("reported again by contact-centre")
               and f"as case {second.json()['case_id']}" in line.note
               for line in stack.rows(TimelineRow, case_id=first))


async def test_the_same_sale_reference_in_two_tenants_is_two_money_events(stack: Stack):
    """Store names and transaction references are each company's own: another tenant's report of "the same" sale
    is another sale, never linked to (nor paid by, nor deduplicated against) this tenant's case."""
    own = stack.settings.temporal_task_queue
    ours = stack.key(f"till-{own}", Scope.incidents_write, Scope.cases_read, kind=PrincipalKind.integrator)
    theirs = stack.key(f"till-{own}", Scope.incidents_write, Scope.cases_read, kind=PrincipalKind.integrator,
                       tenant="globex")
    first = (await stack.api.post("/transactions", json=till_record(), headers=ours)).json()["case"]
    other = (await stack.api.post("/transactions", json=till_record(), headers=theirs)).json()["case"]
    assert first["case_id"] != other["case_id"]
    assert (first["linked_to"], other["linked_to"]) == (None, None)
    assert sorted(row.tenant for row in stack.rows(TransactionRow, transaction_id="T-1001")) == ["acme", "globex"], \
        "each tenant keeps its own till record: the second is not dropped as a duplicate"
    await eventually(lambda: len(stack.texts_to(PHONE)) == 2)  # each company asks its customer
    for case, tenant in ((first, "acme"), (other, "globex")):
        agent = stack.key(f"agent-{tenant}", Scope.cases_act, Scope.cases_read, tenant=tenant)
        answered = await stack.api.post(f"/cases/{case['case_id']}/replies", headers=agent,
                                        json={"channel": "agent", "text": "1"})
        assert answered.status_code == 202, answered.text
    for case in (first, other):
        [refund] = await eventually(lambda case=case: stack.refunds(case["case_id"]))
        assert refund.amount_minor == 995
    assert len(stack.ledger()) == 2, "two companies' sales, two refunds"


async def test_a_transaction_posted_again_after_its_case_closed_never_starts_it_again(stack: Stack):
    case_id = (await stack.api.post("/transactions", json=till_record())).json()["case"]["case_id"]
    await eventually(lambda: stack.texts_to(PHONE))
    await stack.idle(case_id)  # the time-skipping server stalls on a workflow terminated mid-activity
    await stack.env.client.get_workflow_handle(case_id).terminate("as if Temporal's retention had dropped it")
    with session_for(stack.settings.database_url) as session:
        session.get(CaseRow, case_id).status = "closed"
        session.commit()
    again = (await stack.api.post("/transactions", json=till_record())).json()["case"]
    assert (again["case_id"], again["created"]) == (case_id, False)
    description = await stack.env.client.get_workflow_handle(case_id).describe()
    assert description.status.name == "TERMINATED", "the closed case's workflow was not started again"


class RefusingPayments(SandboxPayments):
    """Refuses the first refund for good, then pays whatever it is asked: an automatic refund after the hand
    payment would show in its books."""

    def __init__(self, database_url: str) -> None:
        super().__init__(database_url)
        self.refused = 0

    def refund(self, idempotency_key, amount, destination, original_payment_ref):
        if not self.refused:
            self.refused += 1
            raise RefundRejected("card account closed")
        return super().refund(idempotency_key, amount, destination, original_payment_ref)


async def test_a_hand_payment_is_taken_only_when_the_case_waits_for_one(dev_server, settings: Settings):
    providers = Providers(payments=RefusingPayments(settings.database_url), senders=sandbox_providers(settings).senders)
    async with Stack.running(dev_server, settings, providers) as stack:
        case_id = (await stack.api.post("/transactions", json=till_record())).json()["case"]["case_id"]
        await eventually(lambda: stack.texts_to(PHONE))
        early = await stack.api.post(f"/cases/{case_id}/manual-refund", json={"reference": "TRF-1"})
        assert early.status_code == 409 and "customer's answer" in early.json()["detail"]

        await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": "1", "sender": PHONE})
        await eventually(lambda: stack.case(case_id).status == "needs_attention")
        stranger = stack.key("another.agent", Scope.cases_act, Scope.cases_read)
        refused = await stack.api.post(f"/cases/{case_id}/manual-refund", json={"reference": "TRF-1"},
                                       headers=stranger)
        assert refused.status_code == 403

        owner = stack.key(stack.case(case_id).owner, Scope.cases_act, Scope.cases_read)  # not a supervisor
        paid = await stack.api.post(f"/cases/{case_id}/manual-refund", json={"reference": "TRF-1"}, headers=owner)
        assert paid.status_code == 202, paid.text
        assert (paid.json()["route"], paid.json()["reference"]) == ("by_hand", "TRF-1")
        again = await stack.api.post(f"/cases/{case_id}/manual-refund", json={"reference": "TRF-2"})
        assert again.status_code == 409
        await eventually(lambda: len(stack.texts_to(PHONE)) == 2)  # thanked once the money moved by hand

        [entry] = stack.rows(RefundRow, case_id=case_id)
        assert (entry.route, entry.status, entry.amount_minor, entry.recorded_by, entry.reference) == (
            "by_hand", "paid", 995, stack.case(case_id).owner, "TRF-1")
        assert providers.payments.refused == 1 and stack.ledger() == [], "the provider, asked once, never paid"
        assert stack.case(case_id).refunded_at is not None, "time to refund counts the hand payment"
        assert "refund.paid" in [event.type for event in stack.rows(WebhookEventRow, case_id=case_id)], \
            "the integrator hears of a hand payment like of any refund"
        metrics = (await stack.api.get("/metrics")).text
        assert 'recovery_refunds_total{currency="EUR"} 1.0' in metrics


async def test_a_refund_out_of_time_is_confirmed_by_hand_once_and_the_case_goes_on(dev_server, settings: Settings):
    """No answer from the provider in time: the ledger says `unknown`, the owner checks the provider and confirms
    a hand payment (202), the customer is thanked; a second confirmation is 409 and moves no money."""
    settings.policy = settings.policy.model_copy(update={"refund_give_up_after": timedelta(seconds=10)})
    providers = Providers(payments=ProviderDown(), senders=sandbox_providers(settings).senders)
    async with Stack.running(dev_server, settings, providers) as stack:
        case_id = (await stack.api.post("/transactions", json=till_record())).json()["case"]["case_id"]
        await eventually(lambda: stack.texts_to(PHONE))
        await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": "1", "sender": PHONE})
        [row] = await eventually(lambda: [row for row in stack.rows(RefundRow, case_id=case_id)
                                          if row.status == "unknown"])
        assert providers.payments.calls > 0
        await eventually(lambda: stack.case(case_id).status == "needs_attention")  # the hand-over follows the mark

        owner = stack.key(stack.case(case_id).owner, Scope.cases_act, Scope.cases_read)
        paid = await stack.api.post(f"/cases/{case_id}/manual-refund", json={"reference": "TRF-9"}, headers=owner)
        assert paid.status_code == 202, paid.text
        await eventually(lambda: len(stack.texts_to(PHONE)) == 2)  # thanked once the money moved by hand
        again = await stack.api.post(f"/cases/{case_id}/manual-refund", json={"reference": "TRF-10"}, headers=owner)
        assert again.status_code == 409
        [entry] = stack.rows(RefundRow, case_id=case_id)
        assert (entry.status, entry.route, entry.reference) == ("paid", "by_hand", "TRF-9")


def test_a_late_provider_answer_never_overwrites_a_hand_payment(settings: Settings):
    """The refund timed out, the owner paid by hand; the provider's attempt still in flight then answers: the
    ledger keeps the hand payment (one route); the refund activity then warns of the second payment."""
    incident = IncidentIn.model_validate(contact_centre_report())
    request = RefundRequest(case_id="case-late", money_event="sale:late", amount=incident.amount,
                            destination={"kind": "original_card"},
                            progress={"case_id": "case-late", "step": "refund", "note": "refund"})
    with session_for(settings.database_url) as session:
        opened(session, "case-late", incident)
        row = refund_ledger.reserve(session, request)
        refund_ledger.outcome_unknown(session, "case-late", "sale:late")
        assert refund_ledger.record_hand_payment(session, "case-late", "owner", "TRF-1", incident.amount,
                                                 "original_card") is not None
        assert refund_ledger.settle(session, row, RefundStatus.paid, "sandbox", "re_late") is False
        session.commit()
        [entry] = session.exec(select(RefundRow).where(RefundRow.case_id == "case-late")).all()
    assert (entry.route, entry.reference, entry.provider_ref) == ("by_hand", "TRF-1", None)


class PaymentsThatSayWhere(SandboxPayments):
    """The sandbox's books keep the destination's kind only: this one also keeps which account was paid."""

    def __init__(self, database_url: str) -> None:
        super().__init__(database_url)
        self.accounts: list[str | None] = []

    def refund(self, idempotency_key, amount, destination, original_payment_ref):
        self.accounts.append(destination.iban)
        return super().refund(idempotency_key, amount, destination, original_payment_ref)


async def test_an_iban_sent_by_email_is_paid_only_after_the_code_comes_back(dev_server, settings: Settings):
    payments = PaymentsThatSayWhere(settings.database_url)
    async with Stack.running(dev_server, settings, Providers(payments=payments,
                                                             senders=sandbox_providers(settings).senders)) as stack:
        customer = {"name": "Maija Meikäläinen", "phone": PHONE, "email": "maija@example.fi", "language": "en"}
        case_id = (await stack.api.post("/transactions", json=till_record(customer=customer))).json()["case"]["case_id"]
        await eventually(lambda: stack.texts_to(PHONE))
        carrier = stack.key("carrier", Scope.messages_inbound, kind=PrincipalKind.carrier)
        content, signed = sign_email(stack.settings, {
            "sender": "maija@example.fi", "subject": "refund", "text": f"Please pay it to {IBAN} thanks",
            "spf": "pass", "dkim": "pass"})  # the gateway's verdict proves no account (review minor 11)
        emailed = await stack.api.post("/webhooks/email", headers={**carrier, **signed}, content=content)
        assert emailed.json()["case_id"] == case_id
        [_, code_text] = await eventually(lambda: stack.texts_to(PHONE)[1:] and stack.texts_to(PHONE))
        assert "code" in code_text.body and stack.rows(DestinationCodeRow, case_id=case_id)
        assert "FI **** 0785" in code_text.body, "the customer sees which account the code would approve"
        assert stack.refunds(case_id) == [], "nothing is paid to an account nobody proved"

        code = code_text.body.split("code ")[1][:6]
        assert code.isdigit() and code not in stack.outbound(case_id)[-1].body, "the case's copy hides the code"
        agent = stack.key("aino.agent", Scope.cases_act, Scope.cases_read)  # the case's own route: it reaches it
        elsewhere = await stack.api.post(f"/cases/{case_id}/replies", headers=agent,
                                         json={"channel": "sms", "text": code, "sender": "+358409999999"})
        assert elsewhere.json()["delivered_to_workflow"], "the code from another number reached the case"
        await eventually(lambda: any(line.note == "customer replied on sms"
                                     for line in stack.rows(TimelineRow, case_id=case_id)))
        assert stack.refunds(case_id) == [] and payments.accounts == [], "a text from another number proves nothing"
        await stack.api.post("/webhooks/twilio/sms", headers=carrier,
                             data={"From": PHONE, "Body": code, "MessageSid": "SM-1"})
        [refund] = await eventually(lambda: stack.refunds(case_id))
        assert (refund.destination, refund.amount_minor) == ("bank_account", 995)
        assert payments.accounts == [IBAN], "paid once, to the account the customer confirmed"
        assert len(stack.ledger()) == 1


async def test_an_unverified_amount_above_the_threshold_waits_for_a_supervisor(stack: Stack):
    report = contact_centre_report(external_id="cc-big", transaction_ref="T-NONE",
                                   amount={"amount_minor": 90000, "currency": "EUR"})
    case_id = (await stack.api.post("/incidents", json=report)).json()["case_id"]
    await eventually(lambda: stack.case(case_id).status == "waiting_on_approval")
    assert stack.texts_to(PHONE) == [], "no promise to the customer before the approval"
    supervisor = stack.key("sami.supervisor", Scope.cases_approve)
    await stack.api.post(f"/cases/{case_id}/approvals", headers=supervisor,
                         json={"decision": "reject", "reason": "no record of this sale"})
    assert await stack.env.client.get_workflow_handle(case_id).result() == CaseOutcome.not_approved
    assert stack.ledger() == []


async def test_a_report_after_the_first_case_was_rejected_takes_the_sale_over_and_is_paid(stack: Stack):
    """The contact centre reports 900 EUR on the sale; a supervisor rejects it. The till's record of the same sale
    then shows the real overcharge: it is not linked to the rejected case (which will never pay) but runs and
    pays, once."""
    report = contact_centre_report(external_id="cc-wrong", amount={"amount_minor": 90000, "currency": "EUR"})
    rejected = (await stack.api.post("/incidents", json=report)).json()["case_id"]
    await eventually(lambda: stack.case(rejected).status == "waiting_on_approval")
    supervisor = stack.key("sami.supervisor", Scope.cases_approve)
    await stack.api.post(f"/cases/{rejected}/approvals", headers=supervisor,
                         json={"decision": "reject", "reason": "no record of this sale"})
    assert await stack.env.client.get_workflow_handle(rejected).result() == CaseOutcome.not_approved
    await eventually(lambda: stack.case(rejected).status == "closed")

    till = (await stack.api.post("/transactions", json=till_record())).json()["case"]
    assert till["linked_to"] is None, "never linked to a case that closed without paying"
    await eventually(lambda: stack.texts_to(PHONE))
    await stack.api.post(f"/cases/{till['case_id']}/replies", json={"channel": "agent", "text": "1"})
    [refund] = await eventually(lambda: stack.refunds(till["case_id"]))
    assert refund.amount_minor == 995 and len(stack.ledger()) == 1


async def test_a_till_record_confirming_a_huge_overcharge_still_waits_for_a_supervisor(stack: Stack):
    """The till's own record "confirms" what the till reports: above the policy's hard ceiling a supervisor
    approves it anyway, before the customer is promised anything."""
    record = till_record(transaction_id="T-HUGE", charged_minor=10**10,
                         lines=[{"product": "Chewing gum", "unit_price_minor": 1, "quantity": 1}])
    case_id = (await stack.api.post("/transactions", json=record)).json()["case"]["case_id"]
    await eventually(lambda: stack.case(case_id).status == "waiting_on_approval")
    assert stack.texts_to(PHONE) == [] and stack.refunds(case_id) == []
    supervisor = stack.key("sami.supervisor", Scope.cases_approve)
    await stack.api.post(f"/cases/{case_id}/approvals", headers=supervisor,
                         json={"decision": "reject", "reason": "a till fault, not an overcharge"})
    assert await stack.env.client.get_workflow_handle(case_id).result() == CaseOutcome.not_approved
    assert stack.ledger() == []


async def test_a_hungarian_overcharge_is_100_forint_everywhere(stack: Stack):
    """ISO 4217 gives HUF two minor digits (CLDR says none): 10000 minor units are 100.00 HUF, never 10,000."""
    record = till_record(transaction_id="H-1", currency="HUF", charged_minor=20000,
                         lines=[{"product": "Paprika", "unit_price_minor": 10000, "quantity": 1}])
    case_id = (await stack.api.post("/transactions", json=record)).json()["case"]["case_id"]
    [question] = await eventually(lambda: stack.texts_to(PHONE))
    assert "100.00" in question.body and "10,000" not in question.body
    await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": "1", "sender": PHONE})
    [refund] = await eventually(lambda: stack.refunds(case_id))
    assert (refund.amount_minor, refund.currency) == (10000, "HUF")
    metrics = (await stack.api.get("/metrics")).text
    assert 'recovery_refund_amount_minor_units_total{currency="HUF"} 10000.0' in metrics


async def test_an_iban_texted_from_another_number_waits_for_the_code(stack: Stack):
    case_id = (await stack.api.post("/transactions", json=till_record())).json()["case"]["case_id"]
    await eventually(lambda: stack.texts_to(PHONE))
    await stack.api.post(f"/cases/{case_id}/replies",
                         json={"channel": "sms", "text": IBAN, "sender": "+358409999999"})
    [_, code_text] = await eventually(lambda: stack.texts_to(PHONE)[1:] and stack.texts_to(PHONE))
    assert "code" in code_text.body, "the code goes to the number on file, not to the sender"
    assert stack.texts_to("+358409999999") == [] and stack.refunds(case_id) == []


async def test_a_sender_posted_to_the_replies_route_is_a_claim_not_proof(stack: Stack):
    """Channel and sender posted to /cases/{id}/replies are the caller's word, not a carrier's: a "text from the
    number on file" carrying an IBAN waits for the code texted there like any claim; the code, coming back
    through the carrier's webhook from the same number (written the carrier's way), proves the account."""
    case_id = (await stack.api.post("/transactions", json=till_record())).json()["case"]["case_id"]
    await eventually(lambda: stack.texts_to(PHONE))
    agent = stack.key("aino.agent", Scope.cases_act, Scope.cases_read)
    posed = await stack.api.post(f"/cases/{case_id}/replies", headers=agent,
                                 json={"channel": "sms", "text": IBAN, "sender": PHONE})
    assert posed.status_code == 202
    [_, code_text] = await eventually(lambda: stack.texts_to(PHONE)[1:] and stack.texts_to(PHONE))
    assert "code" in code_text.body and stack.refunds(case_id) == [], "no account paid on a caller's word"

    carrier = stack.key("carrier", Scope.messages_inbound, kind=PrincipalKind.carrier)
    code = code_text.body.split("code ")[1][:6]
    local = "0" + PHONE.removeprefix("+358")  # the carrier writes the number on file its own way
    await stack.api.post("/webhooks/twilio/sms", headers=carrier, data={"From": local, "Body": code,
                                                                        "MessageSid": "SM-local"})
    [refund] = await eventually(lambda: stack.refunds(case_id))
    assert refund.destination == "bank_account"


async def test_an_account_the_owner_records_from_the_customers_call_is_paid_at_once(stack: Stack):
    case_id = (await stack.api.post("/transactions", json=till_record())).json()["case"]["case_id"]
    await eventually(lambda: stack.texts_to(PHONE))
    await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "agent", "text": IBAN})
    [refund] = await eventually(lambda: stack.refunds(case_id))
    assert refund.destination == "bank_account"
    assert not any("code" in text.body for text in stack.texts_to(PHONE))


def test_one_tenants_till_record_never_verifies_anothers_report(settings: Settings):
    with session_for(settings.database_url) as session:
        record_transaction(session, TransactionRecord.model_validate(till_record()), tenant="grocer")
        incident = IncidentIn.model_validate(contact_centre_report())
        assert verify_against(session, incident, "grocer").against_record
        elsewhere = verify_against(session, incident, "hardware-chain")
    assert (elsewhere.against_record, elsewhere.detail) == (False, "overcharge of 9.95 EUR taken from the "
                                                                   "reporter's record")


def test_a_money_event_is_the_sale_not_the_report():
    """Same tenant, store (however written) and sale: one event, whoever reports it and as whatever kind of money
    back (an overcharge, the sale bought twice, a complaint asking for its loss). Another tenant's sale, an
    undercharge (it pays nobody), or a complaint without a sale reference is another event."""
    till = IncidentIn.model_validate(contact_centre_report(external_id="till-9", source="till"))
    centre = IncidentIn.model_validate(contact_centre_report(store="  prisma   KALEVA "))
    assert money_event_key("grocer", till, "case-a") == money_event_key("grocer", centre, "case-b")
    assert money_event_key("grocer", till, "case-a") != money_event_key("hardware", centre, "case-b")
    twice = IncidentIn.model_validate(contact_centre_report(kind="duplicate_purchase"))
    complaint = IncidentIn.model_validate(contact_centre_report(kind="complaint", topic="charged twice"))
    assert money_event_key("grocer", twice, "case-c") == money_event_key("grocer", complaint, "case-d") == \
        money_event_key("grocer", till, "case-a")
    under = IncidentIn.model_validate(contact_centre_report(kind="undercharge"))
    assert money_event_key("grocer", under, "case-e") != money_event_key("grocer", till, "case-a")
    no_sale = IncidentIn.model_validate(contact_centre_report(kind="complaint", topic="rude", transaction_ref=None))
    assert money_event_key("grocer", no_sale, "case-f") == "case:case-f"


async def test_the_same_sale_reported_as_bought_twice_with_its_store_written_otherwise_is_linked(stack: Stack):
    first = (await stack.api.post("/transactions", json=till_record())).json()["case"]["case_id"]
    again = await stack.api.post("/incidents", json=contact_centre_report(kind="duplicate_purchase",
                                                                          store="prisma kaleva "))
    assert again.status_code == 201, again.text
    assert again.json()["linked_to"] == first


def test_a_case_refused_before_the_ledger_existed_can_still_be_paid_by_hand_once(settings: Settings):
    """Cases open at the deploy wait for a hand payment with no ledger row: the first confirmation makes one."""
    incident = IncidentIn.model_validate(contact_centre_report())
    owed = incident.amount
    with session_for(settings.database_url) as session:
        opened(session, "case-legacy", incident)
        entry = refund_ledger.record_hand_payment(session, "case-legacy", "owner", "TRF-9", owed, "original_card")
        assert (entry.route, entry.amount_minor, entry.reference, entry.money_event) == (
            "by_hand", 995, "TRF-9", "case:case-legacy")
        assert refund_ledger.record_hand_payment(session, "case-legacy", "owner", "TRF-10", owed,
                                                 "original_card") is None


async def test_the_customer_answering_the_code_text_with_card_is_refunded_to_the_card(stack: Stack):
    case_id = (await stack.api.post("/transactions", json=till_record())).json()["case"]["case_id"]
    await eventually(lambda: stack.texts_to(PHONE))
    await stack.api.post(f"/cases/{case_id}/replies",
                         json={"channel": "email", "text": IBAN, "sender": "someone@example.com"})
    await eventually(lambda: stack.texts_to(PHONE)[1:])
    # The text is written by its activity a moment before the workflow, told it went, starts waiting for the code.
    live = await stack.until_live(case_id, lambda state: state.expecting == "confirmation")
    assert live.waiting_until
    carrier = stack.key("carrier", Scope.messages_inbound, kind=PrincipalKind.carrier)
    await stack.api.post("/webhooks/twilio/sms", headers=carrier, data={"From": PHONE, "Body": "1",
                                                                        "MessageSid": "SM-card"})
    [refund] = await eventually(lambda: stack.refunds(case_id))
    assert refund.destination == "original_card"


async def test_a_second_report_that_knows_the_customer_lets_the_first_case_reach_them(stack: Stack):
    """The till knows no customer (refund to the card by policy); the customer then calls the contact centre,
    which reports the same sale with their number: the till's case texts them, once, and pays once."""
    anonymous = {key: value for key, value in till_record().items() if key != "customer"}
    first = (await stack.api.post("/transactions", json=anonymous)).json()["case"]["case_id"]
    await eventually(lambda: stack.case(first).status == "needs_attention")  # nobody to reach yet
    second = (await stack.api.post("/incidents", json=contact_centre_report())).json()
    assert second["linked_to"] == first

    [question] = await eventually(lambda: stack.texts_to(PHONE))
    assert "Hello Maija" in question.body and "€9.95" in question.body
    assert question.idempotency_key.startswith(first)
    carrier = stack.key("carrier", Scope.messages_inbound, kind=PrincipalKind.carrier)
    answer = await stack.api.post("/webhooks/twilio/sms", headers=carrier,
                                  data={"From": PHONE, "Body": "1", "MessageSid": "SM-77"})
    assert answer.status_code == 200
    await eventually(lambda: stack.refunds(first))
    assert len(stack.ledger()) == 1 and stack.refunds(second["case_id"]) == []


async def test_a_number_from_a_linked_report_reaches_the_customer_but_proves_no_account(stack: Stack):
    """Anyone may report a sale with any number: the till's case texts the number the second report gave, but a
    bank account texted back from it is not the customer's proven choice; the money goes where policy says."""
    anonymous = {key: value for key, value in till_record().items() if key != "customer"}
    first = (await stack.api.post("/transactions", json=anonymous)).json()["case"]["case_id"]
    await eventually(lambda: stack.case(first).status == "needs_attention")
    assert (await stack.api.post("/incidents", json=contact_centre_report())).json()["linked_to"] == first
    await eventually(lambda: stack.texts_to(PHONE))
    carrier = stack.key("carrier", Scope.messages_inbound, kind=PrincipalKind.carrier)
    await stack.api.post("/webhooks/twilio/sms", headers=carrier, data={"From": PHONE, "Body": IBAN,
                                                                        "MessageSid": "SM-linked"})
    [refund] = await eventually(lambda: stack.refunds(first))
    assert refund.destination == "original_card", "no account is paid on a number another report gave"
    assert any("was not confirmed" in line.note for line in stack.rows(TimelineRow, case_id=first))


async def test_contact_details_a_stopped_case_cannot_take_are_handed_to_its_owner(stack: Stack):
    """The case that owns the sale is not running (its start waits for the reconciler, or it stopped) when a
    second report brings the customer's number: the number is on the case, and its timeline asks the owner to
    reach the customer, rather than the details silently going nowhere."""
    anonymous = {key: value for key, value in till_record().items() if key != "customer"}
    first = (await stack.api.post("/transactions", json=anonymous)).json()["case"]["case_id"]
    await eventually(lambda: stack.case(first).status == "needs_attention")
    await stack.idle(first)
    await stack.env.client.get_workflow_handle(first).terminate("as if its workflow were not running")
    second = (await stack.api.post("/incidents", json=contact_centre_report())).json()
    assert second["linked_to"] == first
    assert stack.case(first).customer_phone == PHONE
    assert any("please reach the customer by hand" in line.note for line in stack.rows(TimelineRow, case_id=first))
