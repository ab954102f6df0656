"""Who is calling, and what they may do."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel


class Scope(StrEnum):
    incidents_write = "incidents:write"  # integrators: report incidents and till records
    cases_read = "cases:read"  # agents (integrators: only the cases they opened)
    cases_act = "cases:act"  # agents: record replies, notes, reassign
    cases_approve = "cases:approve"  # supervisors
    messages_inbound = "messages:inbound"  # carriers' webhooks: inbound SMS/email and delivery reports
    webhooks_manage = "webhooks:manage"  # integrators: their webhook endpoints (admins: staff tools' too)
    payloads_decode = "payloads:decode"  # opening encrypted workflow payloads (Temporal UI/CLI codec server)
    admin = "admin"  # keys, data-subject requests; implies every other scope


class PrincipalKind(StrEnum):
    integrator = "integrator"  # a system: a till, a web shop, a contact-centre tool
    person = "person"  # an agent, a supervisor, an administrator


# Until staff and integrator accounts carry their organisation, every key belongs to the one tenant.
DEFAULT_TENANT = "default"


class Principal(BaseModel):
    id: str
    kind: PrincipalKind
    scopes: frozenset[Scope]
    tenant: str = DEFAULT_TENANT

    def may(self, scope: Scope) -> bool:
        return scope in self.scopes or Scope.admin in self.scopes

    @property
    def sees_only_own_cases(self) -> bool:
        return self.kind is PrincipalKind.integrator and Scope.admin not in self.scopes


class ApiKeyView(BaseModel):
    key_id: str
    principal: str
    kind: PrincipalKind
    scopes: list[Scope]
    revoked: bool
