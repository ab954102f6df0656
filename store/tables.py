"""Tables of the read model. SQLModel `table=True` classes never cross into workflows (pydantic models do)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, LargeBinary, Text, UniqueConstraint, text, true
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which forgets zones) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class CaseRow(SQLModel, table=True):
    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("tenant", "integrator", "external_id", name="uq_case_external_id"),
        # Every listing is one tenant's (store/cases.py), so each filter's index leads with the tenant: an index
        # on the filter alone ties with ix_cases_tenant_opened for SQLite's planner, which then takes the tenant's
        # and reads all its cases to count 556 (migration 0013; make bench, d). Ending in (opened_at, id), each
        # also gives the page in its order, keyset included, without a sort.
        Index("ix_cases_tenant_status_opened", "tenant", "status", "opened_at", "id"),
        Index("ix_cases_tenant_kind_opened", "tenant", "kind", "opened_at", "id"),
        # status and kind together: without it SQLite may pick the kind index and count 60k rows (make bench, d)
        Index("ix_cases_tenant_status_kind_opened", "tenant", "status", "kind", "opened_at", "id"),
        Index("ix_cases_tenant_sla_due", "tenant", "sla_state", "sla_due_at", "id"),
        # The console's queue: a tenant's cases newest first, a page at a time by keyset, and "mine"/"unowned".
        Index("ix_cases_tenant_opened", "tenant", "opened_at", "id"),
        Index("ix_cases_tenant_owner_opened", "tenant", "owner", "opened_at", "id"),
        # Only cases whose workflow is not known to run: the reconciler's scan stays small with 100k cases.
        # A sale's cases: a major incident's child is linked to a case its sale already has (one look-up each).
        Index("ix_cases_tenant_transaction", "tenant", "transaction_ref"),
        Index("ix_cases_start_pending", "opened_at", sqlite_where=text("start_payload IS NOT NULL"),
              postgresql_where=text("start_payload IS NOT NULL")),
    )

    id: str = Field(primary_key=True, max_length=64)
    reference: str = Field(index=True, max_length=16)
    # Few tenants per deployment: no index of its own, the status/kind/time indexes serve and tenant filters.
    tenant: str = Field(max_length=64)
    integrator: str = Field(max_length=200)
    external_id: str = Field(max_length=200)
    kind: str = Field(max_length=40)
    source: str = Field(max_length=40)
    status: str = Field(max_length=40)
    step: str = Field(max_length=40)
    outcome: str | None = Field(default=None, max_length=40)
    progress_seq: int = Field(default=0, description="The `seq` of the newest progress applied (read model order).")
    owner: str | None = Field(default=None, index=True, max_length=200)  # a staff account id
    assigned_by: str | None = Field(default=None, max_length=200)  # who made the last reassignment
    priority: str = Field(default="normal", max_length=16)
    sla_state: str | None = Field(default=None, max_length=16)
    sla_due_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    customer_name: str = Field(max_length=200)
    customer_phone: str | None = Field(default=None, index=True, max_length=32)
    customer_email: str | None = Field(default=None, index=True, max_length=320)
    store: str | None = Field(default=None, max_length=200)
    amount_minor: int | None = Field(default=None, sa_type=BigInteger)
    currency: str | None = Field(default=None, max_length=3)
    transaction_ref: str | None = Field(default=None, max_length=200)
    linked_to: str | None = Field(default=None, max_length=64,
                                  description="The case that owns this case's money event; this one pays nothing.")
    opened_at: datetime = Field(sa_type=UtcDateTime, index=True)
    first_contact_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    refunded_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    satisfaction: int | None = None
    updated_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)
    # The workflow's input exactly as intake built it (incident, policy snapshot, opted-out channels), sealed by
    # the payload codec like everything sent to Temporal. Set until the workflow is known to run, so a case whose
    # start failed can be started later (intake/reconciler.py); then emptied, the workflow holding it from there.
    start_payload: bytes | None = Field(default=None, sa_type=LargeBinary)
    # Starts of the kept input that failed for this case alone (its input no longer opens, Temporal refused it):
    # how many, why the last one did, and when the reconciler tries again, so such cases wait their turn
    # instead of holding the head of its queue, and an operator finds them (/metrics, the case itself).
    start_attempts: int = Field(default=0)
    start_error: str | None = Field(default=None, max_length=300)
    start_retry_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # A reconciler is starting the kept input until then (intake/reconciler.py): the case is not withdrawn
    # meanwhile (its start may land at any moment), nor claimed by another reconciler.
    start_claimed_until: datetime | None = Field(default=None, sa_type=UtcDateTime)


class TimelineRow(SQLModel, table=True):
    """One line per thing that happened. `entry_key` makes a retried activity's line land once."""

    __tablename__ = "timeline"
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(index=True, max_length=64)
    entry_key: str = Field(unique=True, max_length=300)
    at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)
    step: str = Field(max_length=40)
    actor: str = Field(max_length=320)  # a customer's reply names its sender: an email address is up to 320
    note: str


class MessageRow(SQLModel, table=True):
    """Every message to or from a customer, whichever provider carried it."""

    __tablename__ = "messages"
    id: int | None = Field(default=None, primary_key=True)
    case_id: str | None = Field(default=None, index=True, max_length=64)
    idempotency_key: str | None = Field(default=None, unique=True, max_length=300)
    tenant: str | None = Field(default=None, index=True, max_length=64)  # inbound: the carrier key's tenant
    direction: str = Field(max_length=8)  # "out" | "in"
    channel: str = Field(max_length=16)
    to_address: str | None = Field(default=None, max_length=320)
    from_address: str | None = Field(default=None, max_length=320)
    body: str
    status: str | None = Field(default=None, max_length=16)
    provider: str | None = Field(default=None, max_length=40)
    provider_ref: str | None = Field(default=None, max_length=200)
    sender_auth: str | None = Field(default=None, max_length=64)  # inbound email: the gateway's SPF/DKIM verdict
    created_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)


class RefundRow(SQLModel, table=True):
    """The refund ledger: one row per money event (this overcharge on this sale), whichever case or route pays it.

    The unique `money_event` is reserved *before* the provider is called, so a second case, a retry after the
    provider's own idempotency window, or a hand payment can never add a second payment. `idempotency_key` is
    the provider's key, derived from the money event. `status` is `reserved` while the provider is asked,
    `refused` after a permanent refusal (the owner may then pay by hand), else the money moved."""

    __tablename__ = "refunds"
    __table_args__ = (UniqueConstraint("money_event", name="uq_refunds_money_event"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(index=True, max_length=64)
    money_event: str = Field(max_length=300)
    idempotency_key: str = Field(unique=True, max_length=300)
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    destination: str = Field(max_length=40)
    status: str = Field(max_length=40)
    route: str = Field(default="provider", max_length=16)
    provider: str | None = Field(default=None, max_length=40)
    provider_ref: str | None = Field(default=None, max_length=200)
    recorded_by: str | None = Field(default=None, max_length=200, description="Who confirmed a hand payment.")
    reference: str | None = Field(default=None, max_length=200, description="The hand payment's own reference.")
    created_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)
    settled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class MoneyEventRow(SQLModel, table=True):
    """Which case owns a money event. Decided at intake by the primary key: the first report opens the case that
    pays; every later report of the same event (another door, another integrator of the tenant, a re-post) is
    linked to it and neither pays nor contacts the customer."""

    __tablename__ = "money_events"
    key: str = Field(primary_key=True, max_length=300)
    case_id: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)


class DestinationCodeRow(SQLModel, table=True):
    """The live one-time code of a case whose bank account came over an unauthenticated channel: its hash only."""

    __tablename__ = "destination_codes"
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(unique=True, max_length=64)
    code_hash: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)


class TransactionRow(SQLModel, table=True):
    __tablename__ = "transactions"
    __table_args__ = (UniqueConstraint("tenant", "store", "transaction_id", name="uq_tenant_store_transaction"),
                      # A major incident's sales: a store's records over a weekend, not the whole table.
                      Index("ix_transactions_tenant_store_sold", "tenant", "store", "sold_at"))
    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64)
    store: str = Field(max_length=200)
    transaction_id: str = Field(max_length=200)
    currency: str = Field(max_length=3)
    correct_total_minor: int = Field(sa_type=BigInteger)
    charged_minor: int = Field(sa_type=BigInteger)
    lines: list = Field(sa_column=Column(JSON, nullable=False))
    received_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)
    # Whom the till knew (name, phone, email), so a major incident can reach the customers of its sales; erased
    # with the customer's other data.
    customer: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    sold_at: datetime | None = Field(default=None, sa_type=UtcDateTime,
                                     description="When the till made the sale (as it says); a major incident's window "
                                                 "is read on it, or on `received_at` when the till did not say.")


class SandboxLedgerEntry(SQLModel, table=True):
    """The sandbox payment provider's own books: what a real PSP would hold. One row per idempotency key."""

    __tablename__ = "sandbox_ledger"
    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True, max_length=300)
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    destination: str = Field(max_length=40)
    created_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)


class SandboxOutboxEntry(SQLModel, table=True):
    """The sandbox messaging provider's record of what it 'delivered'."""

    __tablename__ = "sandbox_outbox"
    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True, max_length=300)
    channel: str = Field(max_length=16)
    to_address: str = Field(max_length=320)
    body: str
    created_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)


class ApiKeyRow(SQLModel, table=True):
    """An API key, stored as a SHA-256 hash of the secret; `key_id` is the public part used to find it."""

    __tablename__ = "api_keys"
    key_id: str = Field(primary_key=True, max_length=32)
    secret_hash: str = Field(max_length=64)
    principal: str = Field(index=True, max_length=200)  # the account id for a person's key
    kind: str = Field(max_length=20)
    tenant: str = Field(max_length=64)
    scopes: list = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class CustomerDirectoryRow(SQLModel, table=True):
    """The company's customer register, for finding a customer known only by name (S2). Filled by an admin's
    import or single-record routes; `customer_key` is the company's own id of the customer (upserts match on it)."""

    __tablename__ = "customer_directory"
    __table_args__ = (UniqueConstraint("tenant", "customer_key", name="uq_directory_customer_key"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(index=True, max_length=64)
    customer_key: str = Field(max_length=100)
    name_key: str = Field(index=True, max_length=200)  # casefolded, whitespace-collapsed name
    name: str = Field(max_length=200)
    city: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=320)
    updated_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)


class AccessRecordRow(SQLModel, table=True):
    """Who read which personal data of which customer, when, for which case and why (S5)."""

    __tablename__ = "access_records"
    id: int | None = Field(default=None, primary_key=True)
    entry_key: str | None = Field(default=None, unique=True, max_length=300)
    tenant: str = Field(index=True, max_length=64)
    at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow, index=True)
    actor: str = Field(max_length=200)
    role: str = Field(default="", max_length=40)  # the actor's role then: what the customer is told (S5)
    case_id: str | None = Field(default=None, index=True, max_length=64)
    subject: str = Field(index=True, max_length=200)  # the customer, by name key
    fields: list = Field(sa_column=Column(JSON, nullable=False))
    purpose: str = Field(sa_type=Text)  # the API bounds what is stated; an export prefixes its own words
    flagged: bool = False


class ContactOptOutRow(SQLModel, table=True):
    """A customer's STOP: honoured on this channel and address from then on, in every case of the tenant whose
    message it answered (another company's messages are another relationship)."""

    __tablename__ = "contact_opt_outs"
    __table_args__ = (UniqueConstraint("tenant", "address", "channel", name="uq_opt_out"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64)
    address: str = Field(max_length=320)
    channel: str = Field(max_length=16)
    at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)


class CompensationRow(SQLModel, table=True):
    """Goodwill granted on a case: a voucher code or a credit. One per idempotency key."""

    __tablename__ = "compensations"
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(index=True, max_length=64)
    idempotency_key: str = Field(unique=True, max_length=300)
    kind: str = Field(max_length=16)
    product: str = Field(max_length=200)
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    code: str = Field(max_length=40)
    created_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)


class ErasureRow(SQLModel, table=True):
    """A data-subject erasure: who asked, why, which cases. Holds no personal data itself (S5)."""

    __tablename__ = "erasures"
    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64)
    at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)
    requested_by: str = Field(max_length=200)
    reason: str = Field(max_length=500)
    case_ids: list = Field(sa_column=Column(JSON, nullable=False))
    counts: dict = Field(sa_column=Column(JSON, nullable=False))
    purged_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # the file's old bytes gone too


class StaffAccountRow(SQLModel, table=True):
    """A person who works cases: owner, approver, reader of personal data. Keys and console sessions (a later
    issue) sign in as an account; `password_hash` is argon2id (pwdlib), absent for key-only accounts."""

    __tablename__ = "staff_accounts"
    id: str = Field(primary_key=True, max_length=64)
    tenant: str = Field(index=True, max_length=64)
    display_name: str = Field(max_length=200)
    email: str = Field(unique=True, max_length=320)
    roles: list = Field(sa_column=Column(JSON, nullable=False))
    password_hash: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)
    disabled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class StaffSessionRow(SQLModel, table=True):
    """A signed-in person (the console's cookie holds the token; only its SHA-256 is stored). Ends when signed
    out, when idle or too old, or when the account is disabled."""

    __tablename__ = "staff_sessions"
    token_hash: str = Field(primary_key=True, max_length=64)
    account_id: str = Field(index=True, max_length=64)
    created_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)
    last_seen_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)
    ended_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class WebhookEndpointRow(SQLModel, table=True):
    """Where an integrator or a staff tool of one tenant wants to hear about that tenant's cases: an integrator's
    endpoint (`integrator` set) about the cases that integrator opened, a staff tool's about all of the tenant's.

    The secret is kept as given to the integrator because signing needs it (a hash would not do)."""

    __tablename__ = "webhook_endpoints"
    id: str = Field(primary_key=True, max_length=40)
    tenant: str | None = Field(default=None, index=True, max_length=200)
    integrator: str | None = Field(default=None, max_length=200)  # the integrator key that registered it, if one
    url: str = Field(max_length=2000)
    event_types: list = Field(sa_column=Column(JSON, nullable=False))
    description: str = Field(default="", max_length=500)
    owner_email: str | None = Field(default=None, max_length=320)
    secret: str = Field(max_length=100)
    previous_secret: str | None = Field(default=None, max_length=100)
    previous_secret_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    disabled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    disabled_reason: str | None = Field(default=None, max_length=500)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)

    def hears(self, event: WebhookEventRow) -> bool:
        """Whether this endpoint asked for this type of event, and may hear about the event's case."""
        return self.covers(event) and event.type in self.event_types

    def covers(self, event: WebhookEventRow) -> bool:
        """The event is about a case of this endpoint's tenant and, for an integrator's endpoint, one that
        integrator opened (as `GET /cases/{id}` would show it to that integrator)."""
        return self.tenant == event.tenant and self.integrator in (None, event.integrator)


class WebhookEventRow(SQLModel, table=True):
    """The outbox: one row per case event, written in the same transaction as the change it reports, so no
    event is lost to a crash. The relay hands rows without `dispatched_at` to the delivery workflows."""

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("case_id", "sequence", name="uq_webhook_event_sequence"),
                      Index("ix_webhook_events_pending", "dispatched_at", "created_at"))
    id: str = Field(primary_key=True, max_length=40)  # the `webhook-id` header
    event_key: str = Field(unique=True, max_length=300)  # what happened once (a retried step writes it once)
    case_id: str = Field(max_length=64)
    tenant: str = Field(max_length=200)
    integrator: str | None = Field(default=None, max_length=200)  # who opened the case
    type: str = Field(max_length=40)
    sequence: int
    payload: dict = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)
    dispatched_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class WebhookAttemptRow(SQLModel, table=True):
    """One attempt to deliver one event to one endpoint: what the endpoint's owner sees under deliveries."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_endpoint", "endpoint_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    attempt_key: str = Field(unique=True, max_length=300)  # endpoint:job:attempt, written once
    endpoint_id: str = Field(max_length=40)
    event_id: str = Field(index=True, max_length=40)
    attempt: int
    redelivery: bool = False
    outcome: str = Field(max_length=20)
    response_code: int | None = None
    error: str | None = Field(default=None, max_length=500)
    at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)


class MajorIncidentRow(SQLModel, table=True):
    """A failure that hit many customers (S7): the parent of one child case per affected customer. Its workflow
    (`major-<id>`) steers the fan-out; this row is what it was declared as and its approval."""

    __tablename__ = "major_incidents"
    id: str = Field(primary_key=True, max_length=64)
    tenant: str = Field(index=True, max_length=64)
    title: str = Field(max_length=200)
    description: str = Field(sa_type=Text)
    recovery: str = Field(max_length=40)
    declaration: dict = Field(sa_column=Column(JSON, nullable=False))  # stores, window, wrong price: as posted
    declared_by: str = Field(max_length=200)
    declared_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)
    status: str = Field(max_length=40)
    approved_by: str | None = Field(default=None, max_length=200)
    cap_minor: int | None = Field(default=None, sa_type=BigInteger)
    currency: str | None = Field(default=None, max_length=3)
    rejected: list = Field(sa_column=Column(JSON, nullable=False))  # rows of an uploaded list refused
    ended_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # A close or cancel asked for: a fan-out step or a message to all in flight stops at its next slot (the parent
    # takes the stop signal only once the activity returns, which for a paced message can be long).
    stop_requested_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class AffectedCustomerRow(SQLModel, table=True):
    """One affected customer of a major incident, numbered (`seq`) so the fan-out is a cursor; `case_id` is the
    child case (or the case the sale already had, when linked)."""

    __tablename__ = "major_incident_customers"
    major_id: str = Field(primary_key=True, max_length=64)
    seq: int = Field(primary_key=True)
    store: str = Field(max_length=200)
    transaction_ref: str = Field(max_length=200)
    customer: dict = Field(sa_column=Column(JSON, nullable=False))
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    state: str = Field(max_length=16)
    case_id: str | None = Field(default=None, index=True, max_length=64)
    # Checked against the sale the engine holds (its customer and amount), or found in it: the child's verification
    # takes the approved amount. False: the sale is not held, or records no customer; the child is verified like
    # any reported case.
    against_record: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
