"""API keys: `sre_<key id>_<secret>`. Only a SHA-256 of the secret is stored (the secret is 256 random bits,
so a slow password hash would add latency and no safety)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlmodel import Session, select

from schemas.auth import ApiKeyView, Principal, PrincipalKind, Scope
from store.tables import ApiKeyRow, utcnow

PREFIX = "sre"


def create_key(session: Session, principal: str, kind: PrincipalKind, scopes: set[Scope]) -> str:
    """Stores a new key and returns its full text: the only time the secret is ever shown."""
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    session.add(ApiKeyRow(key_id=key_id, secret_hash=_digest(secret), principal=principal, kind=kind,
                          scopes=sorted(scopes)))
    session.commit()
    return f"{PREFIX}_{key_id}_{secret}"


def authenticate(session: Session, presented: str) -> Principal | None:
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    row = session.get(ApiKeyRow, parts[1])
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.secret_hash, _digest(parts[2])):
        return None
    return Principal(id=row.principal, kind=row.kind, scopes=frozenset(row.scopes))


def revoke_key(session: Session, key_id: str) -> bool:
    row = session.get(ApiKeyRow, key_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    session.add(row)
    session.commit()
    return True


def list_keys(session: Session) -> list[ApiKeyView]:
    rows = session.exec(select(ApiKeyRow).order_by(ApiKeyRow.created_at)).all()
    return [ApiKeyView(key_id=row.key_id, principal=row.principal, kind=row.kind, scopes=row.scopes,
                       revoked=row.revoked_at is not None) for row in rows]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
