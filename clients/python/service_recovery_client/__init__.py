"""A typed client for integrators of the service-recovery engine: report incidents and till records, read
cases back, and verify the engine's webhooks (Standard Webhooks)."""

from service_recovery_client.client import RecoveryApiError, RecoveryClient
from service_recovery_client.models import (
    Case,
    Customer,
    Incident,
    Money,
    OpenedCase,
    SaleLine,
    TillRecord,
    TimelineEntry,
    TransactionVerdict,
    WebhookEndpoint,
    WebhookEvent,
)
from service_recovery_client.webhooks import WebhookVerificationError, verify_webhook

__all__ = ["Case", "Customer", "Incident", "Money", "OpenedCase", "RecoveryApiError", "RecoveryClient", "SaleLine",
           "TillRecord", "TimelineEntry", "TransactionVerdict", "WebhookEndpoint", "WebhookEvent",
           "WebhookVerificationError", "verify_webhook"]
