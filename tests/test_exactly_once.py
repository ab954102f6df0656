"""A refund happens exactly once per case, whatever fails: the provider timing out after the money moved,
or the worker process being killed mid-case."""

from __future__ import annotations

import signal
from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from providers.faults import FaultPlan
from providers.payments import RefundRejected
from providers.payments.sandbox import SandboxPayments
from schemas.channels import Channel
from schemas.progress import CaseOutcome
from settings import Settings
from tests.harness import Stack, eventually, start_worker
from tests.scenarios.test_s1_till_overcharge import PHONE, till_record
from worker import Providers, sandbox_providers

pytestmark = pytest.mark.both_databases  # the read model's behaviour on SQLite and PostgreSQL alike


async def test_provider_timing_out_after_paying_does_not_pay_twice(dev_server: WorkflowEnvironment,
                                                                    settings: Settings):
    # On the dev server: the time-skipping server keeps counting a retried activity as running afterwards,
    # which would freeze its clock for the tests that follow.
    payments = SandboxPayments(settings.database_url, FaultPlan(fail_first_after_effect=2))
    providers = Providers(payments=payments, senders=sandbox_providers(settings).senders)
    async with Stack.running(dev_server, settings, providers) as stack:
        case_id = (await stack.api.post("/transactions", json=till_record())).json()["case"]["case_id"]
        await eventually(lambda: stack.texts_to(PHONE))
        await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": "card"})

        [refund] = await eventually(lambda: stack.refunds(case_id))
        assert payments.faults.injected == 2, "the money moved, then the call failed twice and was retried"
        assert [(e.idempotency_key, e.amount_minor) for e in stack.ledger()] == [(refund.idempotency_key, 995)]
        assert refund.amount_minor == 995


async def test_a_killed_worker_is_replaced_and_the_case_completes_with_one_refund(dev_server: WorkflowEnvironment,
                                                                                  settings: Settings):
    settings = settings.model_copy(update={"policy": settings.policy.model_copy(update={
        "follow_up_delay": timedelta(seconds=1), "satisfaction_timeout": timedelta(seconds=1)})})
    first_worker = start_worker(dev_server.client.service_client.config.target_host, settings, None)
    try:
        async with Stack.running(dev_server, settings, with_worker=False) as stack:
            case_id = (await stack.api.post("/transactions", json=till_record())).json()["case"]["case_id"]
            await eventually(lambda: stack.texts_to(PHONE))

            first_worker.send_signal(signal.SIGKILL)
            first_worker.wait(timeout=10)
            reply = await stack.api.post(f"/cases/{case_id}/replies", json={"channel": Channel.sms, "text": "1"})
            assert reply.json()["delivered_to_workflow"] is True, "Temporal takes the reply with no worker alive"

            second_worker = start_worker(dev_server.client.service_client.config.target_host, settings, None)
            try:
                outcome = await dev_server.client.get_workflow_handle(case_id).result()
            finally:
                second_worker.terminate()
                second_worker.wait(timeout=10)
            assert outcome == CaseOutcome.recovered
            assert len(stack.ledger()) == 1 and len(stack.refunds(case_id)) == 1
            assert stack.case(case_id).status == "closed"
    finally:
        if first_worker.poll() is None:
            first_worker.kill()


class RefusingPayments(SandboxPayments):
    """A provider that refuses every refund for good (a closed card, say)."""

    def refund(self, idempotency_key, amount, destination, original_payment_ref):
        raise RefundRejected("card account closed")


async def test_a_refused_refund_goes_to_the_owner_who_pays_by_hand(time_skipping: WorkflowEnvironment,
                                                                   settings: Settings):
    providers = Providers(payments=RefusingPayments(settings.database_url), senders=sandbox_providers(settings).senders)
    async with Stack.running(time_skipping, settings, providers) as stack:
        case_id = (await stack.api.post("/transactions", json=till_record())).json()["case"]["case_id"]
        await eventually(lambda: stack.texts_to(PHONE))
        await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": "1"})

        await eventually(lambda: stack.case(case_id).status == "needs_attention")
        timeline = (await stack.api.get(f"/cases/{case_id}/timeline")).json()
        assert "refused the refund of 9.95 EUR (card account closed)" in timeline[-1]["note"]
        assert len(stack.texts_to(PHONE)) == 1, "no thank-you for money that has not moved"

        assert (await stack.api.post(f"/cases/{case_id}/manual-refund", json={"reference": "TRF-1"})).status_code == 202
        thanks = await eventually(lambda: stack.texts_to(PHONE)[1:])
        assert "refunded" in thanks[0].body
