"""All configuration in one place, read from the environment (or `.env`). Defaults run everything locally."""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.directory import CrmDirectory
from schemas.policy import MajorIncidentPolicy, RecoveryPolicy

PROJECT_DIR = Path(__file__).resolve().parent
VAR_DIR = PROJECT_DIR / "var"


def usable_cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_nested_delimiter="__", extra="ignore")

    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "service-recovery"
    temporal_tls: bool = False
    temporal_api_key: str | None = Field(default=None, description="Temporal Cloud API key; implies TLS.")

    database_url: str = f"sqlite:///{VAR_DIR / 'recovery.db'}"
    database_pool_size: int = Field(default=10, description="PostgreSQL connections each process keeps open.")
    database_max_overflow: int = Field(
        default=30, description="More connections a process may open at peaks. A worker's activity threads each "
        "hold at most one, so pool + overflow >= WORKER_ACTIVITY_THREADS keeps activities from queueing for one.")
    payload_keys: SecretStr | None = Field(
        default=None, description="Workflow payload encryption keys 'k2:BASE64,k1:BASE64', the first current "
        "(`python -m security.codec new-key`). Required: the worker and API refuse to start without them unless "
        "ALLOW_UNENCRYPTED_PAYLOADS is set; `make run` makes a dev key.")
    code_secret: SecretStr | None = Field(
        default=None, description="Key of the HMAC that keeps one-time codes (bound to case and bank account) in the "
        "database. Unset: derived from the current PAYLOAD_KEYS key (rotating it voids codes in flight); without "
        "either (development only), a fixed development key.")
    allow_unencrypted_payloads: bool = Field(
        default=False, description="Development only: let payloads (names, phones, emails) reach Temporal in clear.")
    temporal_ui_origins: list[str] = ["http://localhost:8233", "http://127.0.0.1:8233"]

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_processes: int = Field(default_factory=usable_cores, ge=1, description=(
        "API processes `python -m api` runs (uvicorn workers): one per core this process may use."))
    intake_start_timeout: float = Field(default=5.0, description="How long intake waits for Temporal to take a "
                                        "case's workflow before answering 503 (the case is kept either way).")
    intake_retry_after_seconds: int = Field(default=10, description="The 503's Retry-After when Temporal is down.")
    reconcile_interval: float = Field(default=5.0, description="How often each worker looks for recorded cases "
                                      "whose workflow was never started.")
    reconcile_grace: float = Field(default=10.0, description="A case younger than this is left to its own intake, "
                                   "whose start may still be in flight (over intake_start_timeout).")
    api_key_cache_seconds: float = Field(default=5.0, description="How long a verified key is trusted without a "
                                         "database look-up; a revoked key works at most this much longer.")
    api_rate_per_second: float = Field(default=50.0, description="Requests per second per API key, on average, "
                                       "in each API process (0: no limit); over it: 429 with Retry-After.")
    api_rate_burst: int = Field(default=200, ge=1, description="Requests a key may send at once above the rate.")
    api_failed_auth_per_second: float = Field(
        default=1.0, description="Failed authentications per second per client address, on average, in each API "
        "process (0: no limit); over it, keys not yet verified from that address get 429 with Retry-After.")
    api_failed_auth_burst: int = Field(default=30, ge=1, description="Failed authentications an address may have "
                                       "at once above the rate.")
    worker_activity_threads: int = 32
    worker_max_cached_workflows: int = Field(
        default=400, description="Workflows kept in memory; others replay their (short) history when they wake.")
    worker_metrics_address: str | None = Field(
        default=None, description="host:port where the worker serves the Temporal SDK's Prometheus metrics.")

    policy: RecoveryPolicy = Field(default_factory=RecoveryPolicy)
    # Not in each case's policy snapshot: it paces the parent of many cases (MAJOR_INCIDENTS__TEXTS_PER_SECOND=50).
    major_incidents: MajorIncidentPolicy = Field(default_factory=MajorIncidentPolicy)

    # Carriers. Unset: the sandbox carriers (messages land in the `sandbox_outbox` table).
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_from_address: str = "Customer care <care@example.com>"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = Field(
        default=None, description="Required with TWILIO_ACCOUNT_SID; also checks Twilio's webhook signatures.")
    twilio_from_number: str | None = None
    twilio_api_base_url: str = "https://api.twilio.com"
    public_base_url: str = Field(default="http://127.0.0.1:8000",
                                 description="Where carriers reach our webhooks (status reports, call answers); "
                                 "Twilio's signatures are checked against it.")
    mail_gateway_secret: SecretStr | None = Field(
        default=None, description="Shared secret of the inbound mail gateway's body signature (X-Signature-256). "
        "Unset: the email webhook refuses every post.")
    twilio_voice_language: str = "fi-FI"
    stripe_api_key: SecretStr | None = Field(default=None, description="Unset: refunds go to the sandbox ledger.")
    stripe_api_base: str = "https://api.stripe.com"

    # Outbound webhooks to integrators (Standard Webhooks). See docs/design.md.
    webhook_allowed_hosts: list[str] = Field(
        default=["*"], description="Hosts endpoints may point at: exact names or '*.example.com'; '*' is any "
        "public host. Loopback, private and link-local addresses are refused whatever this says.")
    webhook_allow_private_networks: bool = Field(
        default=False, description="Development and tests only: lets endpoints on localhost or a private network.")
    webhook_timeout_seconds: float = 15.0
    webhook_retry_schedule: list[timedelta] = Field(
        default=[timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                 timedelta(hours=5), timedelta(hours=10), timedelta(hours=14), timedelta(hours=20),
                 timedelta(hours=24)],
        description="Waits between attempts after the first (about three days); tests compress it.")
    webhook_relay_poll_seconds: float = Field(default=0.25, description="How often the worker looks for new events.")

    # The customer directory (S2's look-up by name). See README, "The customer directory".
    directory_crm: dict[str, CrmDirectory] = Field(
        default={}, description="Per tenant, the CRM its look-ups ask instead of the built-in table, as JSON: "
        '{"acme": {"url": "https://crm.acme.fi/api/customers", "auth_value": "Bearer ...", "fields": {...}}}.')
    directory_import_max_rows: int = Field(default=10_000, ge=1, description="Records in one import (413 over).")
    directory_import_max_bytes: int = Field(default=2 * 1024 * 1024, ge=1024,
                                            description="Bytes of one import's body (413 over).")


    @model_validator(mode="after")
    def _twilio_signs_its_webhooks(self) -> Settings:
        if self.twilio_account_sid and self.twilio_auth_token is None:
            raise ValueError("TWILIO_AUTH_TOKEN is required with TWILIO_ACCOUNT_SID: without it nobody could tell "
                             "Twilio's webhooks from anyone's")
        return self

    def code_key(self) -> bytes:
        """The server secret one-time codes are hashed with (see `code_secret`): six digits are a million guesses,
        so a leaked table must not be enough to find them."""
        if self.code_secret is not None:
            return self.code_secret.get_secret_value().encode()
        if self.payload_keys is not None:
            current = self.payload_keys.get_secret_value().split(",")[0]
            return hashlib.sha256(b"one-time codes\x00" + current.encode()).digest()
        return b"development only: codes hashed with a known key"

    def require_payload_keys(self) -> None:
        """Called by the worker and the API as they start (see `MissingPayloadKeys`)."""
        if self.payload_keys is None and not self.allow_unencrypted_payloads:
            raise MissingPayloadKeys()


class MissingPayloadKeys(RuntimeError):
    def __init__(self) -> None:
        super().__init__("PAYLOAD_KEYS is not set: customers' names, phone numbers and emails would reach Temporal "
                         "in clear. Create a key with `python -m security.codec new-key` and set PAYLOAD_KEYS, or "
                         "set ALLOW_UNENCRYPTED_PAYLOADS=true on a development machine.")


@lru_cache
def get_settings() -> Settings:
    return Settings()
