"""API keys: `sre_<key id>_<secret>`. Only a SHA-256 of the secret is stored (the secret is 256 random bits,
so a slow password hash would add latency and no safety).

Every key belongs to a tenant; a person's key belongs to a staff account as well, is bounded by the account's
roles, and stops working when the account is disabled."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlmodel import Session, select

from schemas.auth import ACCOUNT_ROLES_RULE, KIND_SCOPES, ApiKeyView, Principal, PrincipalKind, Role, Scope, scopes_of
from store.accounts import roles_of
from store.tables import ApiKeyRow, StaffAccountRow, utcnow

PREFIX = "sre"
_NO_ROLES_SCOPES = frozenset(Scope) - scopes_of(set(Role))


class KeyRefused(ValueError):
    """The key asked for is not one this principal may hold (unknown account, scopes beyond its roles)."""


class UnknownAccount(KeyRefused):
    """A person's key for an account the tenant does not have (or has disabled)."""


def allowed_scopes(session: Session, tenant: str, kind: PrincipalKind, principal: str) -> frozenset[Scope]:
    if kind is not PrincipalKind.person:
        return KIND_SCOPES[kind]
    account = session.get(StaffAccountRow, principal)
    if account is None or account.tenant != tenant or account.disabled_at is not None:
        raise UnknownAccount(f"no active staff account {principal} in tenant {tenant}")
    return scopes_of(roles_of(account))


def create_key(session: Session, tenant: str, principal: str, kind: PrincipalKind,
               scopes: set[Scope] | None = None) -> tuple[str, str]:
    """Stores a new key and returns (key id, full text): the only time the secret is ever shown. Scopes
    default to all the principal may hold, and may not exceed them."""
    allowed = allowed_scopes(session, tenant, kind, principal)
    granted = allowed if scopes is None else frozenset(scopes)
    if not granted or granted - allowed:
        bound = ACCOUNT_ROLES_RULE if kind is PrincipalKind.person else f"a {kind} key holds only its kind's scopes"
        raise KeyRefused(f"{bound}: {principal} may hold only {', '.join(sorted(allowed))}")
    return _store(session, ApiKeyRow(key_id=secrets.token_hex(8), secret_hash="", principal=principal, kind=kind,
                                     tenant=tenant, scopes=sorted(granted)))


def create_unbounded_key(session: Session, tenant: str, principal: str, scopes: set[Scope]) -> tuple[str, str]:
    """A person's key holding exactly `scopes`, whatever roles: for `make run`'s developer and tests only."""
    return _store(session, ApiKeyRow(key_id=secrets.token_hex(8), secret_hash="", principal=principal,
                                     kind=PrincipalKind.person, tenant=tenant, scopes=sorted(scopes)))


def authenticate(session: Session, presented: str) -> Principal | None:
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    row = session.get(ApiKeyRow, parts[1])
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.secret_hash, _digest(parts[2])):
        return None
    scopes = frozenset(row.scopes)
    if row.kind == PrincipalKind.person:
        account = session.get(StaffAccountRow, row.principal)
        if account is None or account.disabled_at is not None:
            return None
        # Bounded by the roles the account holds now, not when the key was made: a role taken away takes its
        # scopes off the account's keys at once. (Scopes no role grants are only in `make run`'s and tests' keys.)
        scopes &= scopes_of(roles_of(account)) | _NO_ROLES_SCOPES
    return Principal(id=row.principal, kind=row.kind, tenant=row.tenant, scopes=scopes)


def revoke_key(session: Session, key_id: str, tenant: str | None = None) -> bool:
    """`tenant` None: any tenant's key (the command line, run by the operator)."""
    row = session.get(ApiKeyRow, key_id)
    if row is None or row.revoked_at is not None or (tenant is not None and row.tenant != tenant):
        return False
    row.revoked_at = utcnow()
    session.add(row)
    session.commit()
    return True


def list_keys(session: Session, tenant: str | None = None) -> list[ApiKeyView]:
    query = select(ApiKeyRow).order_by(ApiKeyRow.created_at)
    if tenant is not None:
        query = query.where(ApiKeyRow.tenant == tenant)
    return [ApiKeyView(key_id=row.key_id, principal=row.principal, kind=row.kind, tenant=row.tenant,
                       scopes=row.scopes, revoked=row.revoked_at is not None) for row in session.exec(query).all()]


def _store(session: Session, row: ApiKeyRow) -> tuple[str, str]:
    secret = secrets.token_urlsafe(32)
    row.secret_hash = _digest(secret)
    session.add(row)
    session.commit()
    return row.key_id, f"{PREFIX}_{row.key_id}_{secret}"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
