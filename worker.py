"""The worker process: runs the recovery workflows and their activities on one task queue, and beside them the
intake reconciler, which starts the workflow of any recorded case that has none (`intake/reconciler.py`).

Production runs many of these (`python worker.py`); they share nothing but Temporal and the database.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from temporalio.client import Client
from temporalio.worker import PatchActivationInput, Worker

from activities.case_store import CaseStoreActivities
from activities.compensation import CompensationActivities
from activities.directory import DirectoryActivities
from activities.major_incidents import MajorIncidentActivities
from activities.messaging import MessagingActivities
from activities.payments import PaymentActivities
from activities.privacy import PrivacyActivities
from activities.verification import VerificationActivities
from activities.webhooks import WebhookActivities
from intake.reconciler import keep_reconciling
from metrics.temporal_sdk import runtime_with_prometheus
from providers.messaging import MessageSender
from providers.messaging.mail import email_sender
from providers.messaging.sandbox import SandboxSender
from providers.messaging.twilio import TwilioSmsSender, TwilioVoiceCaller, twilio_client
from providers.payments import PaymentProvider
from providers.payments.sandbox import SandboxPayments
from providers.payments.stripe import StripePayments, stripe_client
from schemas.channels import Channel
from settings import MissingPayloadKeys, Settings, get_settings
from store.db import engine_for
from temporal_client import connect
from webhooks.relay import relay_forever
from workflows.major_incident import MajorIncidentFanOut
from workflows.registry import ALL_WORKFLOWS
from workflows.sandbox import workflow_runner
from workflows.webhook_delivery import WebhookDelivery

# The recovery workflows, the one that delivers integrators' webhooks, and a major incident's parent.
WORKFLOWS = [*ALL_WORKFLOWS, WebhookDelivery, MajorIncidentFanOut]


@dataclass
class Providers:
    payments: PaymentProvider
    senders: dict[Channel, MessageSender]


def sandbox_providers(settings: Settings) -> Providers:
    url = settings.database_url
    return Providers(payments=SandboxPayments(url),
                     senders={channel: SandboxSender(url, channel)
                              for channel in (Channel.sms, Channel.voice, Channel.email)})


def configured_providers(settings: Settings) -> Providers:
    """The sandbox, with each real carrier and payment provider swapped in where its settings are given."""
    providers = sandbox_providers(settings)
    providers.senders[Channel.email] = email_sender(settings)
    if settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from_number:
        client = twilio_client(settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value(),
                               api_base_url=settings.twilio_api_base_url)
        status_url = f"{settings.public_base_url}/webhooks/twilio/status"
        providers.senders[Channel.sms] = TwilioSmsSender(client, settings.twilio_from_number, status_url)
        providers.senders[Channel.voice] = TwilioVoiceCaller(
            client, settings.twilio_from_number, status_url, f"{settings.public_base_url}/webhooks/twilio/voice",
            language=settings.twilio_voice_language)
    if settings.stripe_api_key:
        # Stripe refunds cards only: bank transfers and desk payouts go to the case owner to pay by hand.
        client = stripe_client(settings.stripe_api_key.get_secret_value(), api_base=settings.stripe_api_base)
        providers.payments = StripePayments(client)
    return providers


def build_worker(client: Client, settings: Settings, providers: Providers | None = None,
                 workflows: Sequence[type] = WORKFLOWS,
                 patch_activation_callback: Callable[[PatchActivationInput], bool] | None = None) -> Worker:
    """`workflows`: a test may run variants of ours (a broken watch, to prove it cannot fail silently);
    `patch_activation_callback`: a test may run a case as one opened before a patch would (the SDK's hook)."""
    return Worker(
        client,
        task_queue=settings.temporal_task_queue,
        workflows=workflows,
        workflow_runner=workflow_runner(),
        activities=activities(client, settings, providers or configured_providers(settings)),
        activity_executor=ThreadPoolExecutor(max_workers=settings.worker_activity_threads),
        max_concurrent_activities=settings.worker_activity_threads,
        max_cached_workflows=settings.worker_max_cached_workflows,
        patch_activation_callback=patch_activation_callback,
    )


def activities(client: Client, settings: Settings, providers: Providers) -> list[Callable[..., Any]]:
    """Every activity, by name: the adapters bound to their outside systems (one class per system)."""
    url, staff_email = settings.database_url, providers.senders[Channel.email]
    messaging = MessagingActivities(url, providers.senders, settings.code_key())
    payments = PaymentActivities(url, providers.payments)
    case_store = CaseStoreActivities(url, staff_email=staff_email)
    webhooks = WebhookActivities(settings, owner_email=staff_email)
    major = MajorIncidentActivities(client, settings)  # opens child cases through intake: needs the client
    return [VerificationActivities(url).verify_incident, DirectoryActivities(settings).look_up_customer,
            messaging.send_message, messaging.send_destination_code, messaging.check_destination_code,
            payments.refund, payments.refund_outcome_unknown, CompensationActivities(url).grant_compensation,
            PrivacyActivities(url).gather_access_records, case_store.record_case_event, case_store.close_case,
            webhooks.attempt_webhook, webhooks.disable_webhook_endpoint,
            major.open_batch, major.record_status, major.stop_children, major.message_children]


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    settings = get_settings()
    try:
        settings.require_payload_keys()
    except MissingPayloadKeys as missing:
        logging.critical("%s", missing)
        sys.exit(2)
    engine_for(settings.database_url)  # the schema at the newest migration, or a clear refusal, before polling
    runtime = runtime_with_prometheus(settings.worker_metrics_address) if settings.worker_metrics_address else None
    client = await connect(settings, runtime)
    await run_worker(client, settings)


async def run_worker(client: Client, settings: Settings) -> None:
    """The Temporal worker and the reconciler, owned together: if either fails for good, the process ends
    (and its supervisor restarts it) rather than running half its job."""
    worker = build_worker(client, settings)
    logging.info("worker polling task queue %r at %s", settings.temporal_task_queue, settings.temporal_address)
    async with asyncio.TaskGroup() as group:
        reconciler = group.create_task(keep_reconciling(client, settings))
        relay = group.create_task(relay_forever(client, settings))  # integrators' webhooks
        await worker.run()
        reconciler.cancel()
        relay.cancel()


if __name__ == "__main__":
    asyncio.run(main())
