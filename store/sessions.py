"""Sign-in sessions for people (the supervisor console): email and password in, an opaque token out, which
resolves to the same `Principal` an API key does, with the scopes of the account's roles at that moment.

The token is 256 random bits; only its SHA-256 is stored, as for API keys. A session ends when signed out, after
`idle` without use, after `lifetime` in all, or at once when the account is disabled or loses its roles.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlmodel import Session

from schemas.auth import Principal, PrincipalKind, scopes_of
from store.accounts import roles_of, verify_password
from store.tables import StaffAccountRow, StaffSessionRow, utcnow

IDLE = timedelta(minutes=30)
LIFETIME = timedelta(hours=12)
# A session's use is written down at most this often: the console's live queue asks every second, and the idle
# timeout needs no finer clock than this.
TOUCH_EVERY = timedelta(seconds=30)


def sign_in(session: Session, email: str, password: str) -> str | None:
    """A new session's token, or None for a wrong email or password (the same answer for both)."""
    account = verify_password(session, email, password)
    if account is None:
        return None
    token = secrets.token_urlsafe(32)
    session.add(StaffSessionRow(token_hash=_digest(token), account_id=account.id))
    session.commit()
    return token


def principal_of(session: Session, token: str, idle: timedelta = IDLE,
                 lifetime: timedelta = LIFETIME, touch: bool = True) -> Principal | None:
    """The session's person now, or None. `touch=False` for what a page does by itself (the console's live poll):
    it is not a person's use, and must not keep an unattended session alive past its idle timeout."""
    row = session.get(StaffSessionRow, _digest(token))
    now = utcnow()
    if row is None or row.ended_at is not None or now - row.last_seen_at > idle or now - row.created_at > lifetime:
        return None
    account = session.get(StaffAccountRow, row.account_id)
    if account is None or account.disabled_at is not None:
        return None
    if touch and now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
        session.add(row)
        session.commit()
    return Principal(id=account.id, kind=PrincipalKind.person, tenant=account.tenant,
                     scopes=scopes_of(roles_of(account)))


def sign_out(session: Session, token: str) -> None:
    row = session.get(StaffSessionRow, _digest(token))
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        session.add(row)
        session.commit()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
