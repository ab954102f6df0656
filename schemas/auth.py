"""Who is calling, and what they may do.

Two kinds of callers hold API keys: systems (an integrator's till or web shop, a carrier's webhooks) and staff
accounts (a person's key for their tools; the console of a later issue signs the same accounts in with a
password). Every key belongs to one tenant (one integrator company): it sees and changes only that tenant's data.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.inputs import EmailAddress, SingleLine, distinct, documented_rule, present


class Scope(StrEnum):
    incidents_write = "incidents:write"  # integrators: report incidents and till records
    cases_read = "cases:read"  # staff and integrators (integrators: only the cases they opened)
    cases_act = "cases:act"  # agents: record replies, notes, reassign, reveal their own cases' contacts
    cases_approve = "cases:approve"  # supervisors
    messages_inbound = "messages:inbound"  # carriers' webhooks: inbound SMS/email and delivery reports
    webhooks_manage = "webhooks:manage"  # integrators: their webhook endpoints (admins: staff tools' too)
    # Opening encrypted workflow payloads (Temporal UI/CLI codec server): every tenant's, so the operator's alone
    # (an `operator` key, made with the command line), never a tenant's administrator's.
    payloads_decode = "payloads:decode"
    privacy = "privacy"  # the data protection officer: the access record, data-subject export and erasure
    admin = "admin"  # staff accounts and API keys of the tenant


class Role(StrEnum):
    agent = "agent"
    supervisor = "supervisor"
    admin = "admin"
    dpo = "dpo"


# What each staff role may do; an account's key holds at most the union of its roles' scopes.
ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.agent: frozenset({Scope.cases_read, Scope.cases_act}),
    Role.supervisor: frozenset({Scope.cases_read, Scope.cases_act, Scope.cases_approve}),
    Role.admin: frozenset({Scope.admin, Scope.webhooks_manage}),
    Role.dpo: frozenset({Scope.privacy}),
}


class PrincipalKind(StrEnum):
    integrator = "integrator"  # a tenant's system: a till, a web shop, a contact-centre tool
    carrier = "carrier"  # a carrier's webhooks (Twilio, the mail gateway), bound to the tenant whose number it is
    person = "person"  # a staff account's key: an agent, a supervisor, an administrator, the DPO
    operator = "operator"  # the deployment's operator (the codec server's users): made only with the command line


# The scopes a system key may carry; a person's key is bounded by the account's roles instead.
KIND_SCOPES: dict[PrincipalKind, frozenset[Scope]] = {
    PrincipalKind.integrator: frozenset({Scope.incidents_write, Scope.cases_read, Scope.webhooks_manage}),
    PrincipalKind.carrier: frozenset({Scope.messages_inbound}),
    PrincipalKind.operator: frozenset({Scope.payloads_decode}),
}
# Kinds a tenant's administrator may mint over the API; an operator's key sees every tenant's payloads.
TenantKind = Literal[PrincipalKind.integrator, PrincipalKind.carrier, PrincipalKind.person]
ACCOUNT_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,62}$"
# The words of the 422 for a person's key asking beyond the account's roles: data, which no schema can state (the
# fuzz test accepts a refused valid-looking key only when they are named).
ACCOUNT_ROLES_RULE = "a person's key holds at most what the account's roles allow"


def scopes_of(roles: set[Role] | frozenset[Role] | list[Role]) -> frozenset[Scope]:
    return frozenset().union(*(ROLE_SCOPES[Role(role)] for role in roles))


# The tenant of everything made before tenants existed (keys, cases, till records; the migration's default), and
# of workflow inputs recorded then.
DEFAULT_TENANT = "default"


class Principal(BaseModel):
    """`id` is the account id for a person's key, the system's name otherwise."""

    id: str
    kind: PrincipalKind
    tenant: str
    scopes: frozenset[Scope]

    def may(self, scope: Scope) -> bool:
        return scope in self.scopes

    @property
    def account(self) -> str | None:
        """The staff account behind the key; None for systems, which are never a case's owner or approver."""
        return self.id if self.kind is PrincipalKind.person else None

    @property
    def sees_only_own_cases(self) -> bool:
        return self.kind is PrincipalKind.integrator


class ApiKeyView(BaseModel):
    key_id: str
    principal: str
    kind: PrincipalKind
    tenant: str
    scopes: list[Scope]
    revoked: bool


class AccountIn(BaseModel):
    """A new staff account, as an administrator creates it (CLI or `POST /accounts`). An unknown field is refused
    rather than ignored: a misspelled `password` would otherwise make an account that cannot sign in."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=ACCOUNT_ID_PATTERN, description="Stable id, e.g. aino.virtanen.")
    display_name: SingleLine
    email: EmailAddress
    roles: distinct(Role, min_length=1)
    password: str | None = Field(default=None, min_length=12, max_length=200,
                                 description="For signing in to the console; keys work without one.")


class AccountView(BaseModel):
    id: str
    tenant: str
    display_name: str
    email: str
    roles: list[Role]
    disabled: bool


def _system_key_rule(kind: PrincipalKind) -> dict:
    """JSON Schema: a key of system `kind`, holding (if scopes are named) only scopes of that kind."""
    return {"properties": {"kind": {"const": kind}, "scopes": {"items": {"enum": sorted(KIND_SCOPES[kind])}}}}


class KeyIn(BaseModel):
    """A new API key. The kind is never assumed: a key made for a till must say it is an integrator's. An unknown
    field is refused rather than ignored: a misspelled `scopes` would otherwise grant everything the kind may do.
    A system's key holds only its kind's scopes and a person's key names an account id (the OpenAPI document
    says both); whether that account exists, and what its roles allow, is data (422 `unknown_account`, or
    `key_refused` naming `ACCOUNT_ROLES_RULE`)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=documented_rule(
        _system_key_rule(PrincipalKind.integrator), _system_key_rule(PrincipalKind.carrier),
        {"allOf": [{"properties": {"kind": {"const": PrincipalKind.person}}},
                   present("principal", pattern=ACCOUNT_ID_PATTERN)]}))

    kind: TenantKind = Field(description="An `operator` key is made with the command line only.")
    principal: str = Field(min_length=1, max_length=200,
                           description="The account id for `person`, the system's name otherwise.")
    scopes: distinct(Scope, min_length=1) | None = Field(
        default=None, description="Default: everything the account or kind may do.")

    @model_validator(mode="after")
    def _within_the_kind(self) -> KeyIn:
        if self.kind is PrincipalKind.person:
            if not re.fullmatch(ACCOUNT_ID_PATTERN, self.principal):
                raise ValueError(f"principal: a person's key names a staff account id ({ACCOUNT_ID_PATTERN})")
        elif self.scopes and not self.scopes <= KIND_SCOPES[self.kind]:
            raise ValueError(f"scopes: {self.kind} keys may hold only {', '.join(sorted(KIND_SCOPES[self.kind]))}")
        return self


class KeyCreated(BaseModel):
    key_id: str
    key: str = Field(description="Shown only this once.")
