"""Staff accounts: who may own, approve and read a case. Passwords are argon2id hashes (pwdlib's recommended
settings), checked in constant work whether or not the account exists, so a sign-in does not reveal which
emails have accounts. The console (console/) signs people in through store/sessions.py, which uses
`verify_password`, and keeps the session's token in a cookie; an identity provider (OIDC) would map its
subject to an account the same way."""

from __future__ import annotations

from pwdlib import PasswordHash
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, or_, select

from schemas.auth import AccountIn, AccountView, Role
from schemas.messages import MessageFacts
from store.tables import StaffAccountRow, utcnow

_hasher = PasswordHash.recommended()
# Verified against when no account matches, so both paths cost one argon2 verification.
_NOBODY = _hasher.hash("no account has this password")


class AccountExists(Exception):
    """An account with this id or email exists already."""


def create_account(session: Session, tenant: str, account: AccountIn) -> AccountView:
    row = StaffAccountRow(id=account.id, tenant=tenant, display_name=account.display_name,
                          email=account.email.lower(), roles=sorted(account.roles),
                          password_hash=_hasher.hash(account.password) if account.password else None)
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise AccountExists(f"an account with id {account.id} or email {account.email} exists already") from None
    return view_of(row)


def active_account(session: Session, tenant: str, id_or_email: str) -> StaffAccountRow | None:
    """The tenant's enabled account with this id or email, in any case; None for anyone else (or another tenant's).
    Ids made today are lower case; ones migration 0007 made from the principals of older keys may not be."""
    wanted = id_or_email.strip().lower()
    return session.exec(select(StaffAccountRow).where(
        StaffAccountRow.tenant == tenant, StaffAccountRow.disabled_at.is_(None),  # type: ignore[union-attr]
        or_(func.lower(StaffAccountRow.id) == wanted, func.lower(StaffAccountRow.email) == wanted))).first()


def signed_by_owner(session: Session, tenant: str, facts: MessageFacts) -> MessageFacts:
    """The owner's display name as their account has it now: the workflow carries only the account id, and a
    renamed owner signs with the new name. A disabled account (or none) signs as customer service."""
    account = active_account(session, tenant, facts.owner) if facts.owner else None
    return facts.model_copy(update={"owner_name": account.display_name if account else None})


def verify_password(session: Session, email: str, password: str) -> StaffAccountRow | None:
    """The account signing in, or None. Rehashes with current parameters when they have changed."""
    row = session.exec(select(StaffAccountRow).where(StaffAccountRow.email == email.strip().lower(),
                                                     StaffAccountRow.disabled_at.is_(None))).first()  # type: ignore[union-attr]
    valid, new_hash = _hasher.verify_and_update(password, row.password_hash if row and row.password_hash else _NOBODY)
    if row is None or row.password_hash is None or not valid:
        return None
    if new_hash is not None:
        row.password_hash = new_hash
        session.add(row)
        session.commit()
    return row


def list_accounts(session: Session, tenant: str) -> list[AccountView]:
    rows = session.exec(select(StaffAccountRow).where(StaffAccountRow.tenant == tenant)
                        .order_by(StaffAccountRow.id)).all()
    return [view_of(row) for row in rows]


def disable_account(session: Session, tenant: str, account_id: str) -> bool:
    """Disabled, never deleted: the account's name stays on the timelines and access records it wrote."""
    row = session.get(StaffAccountRow, account_id)
    if row is None or row.tenant != tenant or row.disabled_at is not None:
        return False
    row.disabled_at = utcnow()
    session.add(row)
    session.commit()
    return True


def roles_of(row: StaffAccountRow) -> set[Role]:
    return {Role(role) for role in row.roles}


def view_of(row: StaffAccountRow) -> AccountView:
    return AccountView(id=row.id, tenant=row.tenant, display_name=row.display_name, email=row.email,
                       roles=sorted(roles_of(row)), disabled=row.disabled_at is not None)


def set_password(session: Session, account_id: str, password: str) -> None:
    """A new console password for an existing account (its sessions stay; an administrator ends them)."""
    row = session.get(StaffAccountRow, account_id)
    if row is None:
        raise LookupError(f"no account {account_id}")
    row.password_hash = _hasher.hash(password)
    session.add(row)
    session.commit()
