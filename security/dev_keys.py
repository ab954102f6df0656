"""The development API key and console login `make run` prints: created once, reused while they stay valid."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from schemas.auth import AccountIn, Role, Scope
from store.accounts import create_account, set_password, verify_password
from store.api_keys import authenticate, create_unbounded_key
from store.db import session_for
from store.tables import StaffAccountRow

DEV_TENANT = "dev"
DEVELOPER = AccountIn(id="developer", display_name="Developer", email="developer@example.com", roles=set(Role))
# The policy's default triage owner, so that cases opened in development have an owner as in the README.
TRIAGE = AccountIn(id="duty.manager", display_name="Duty manager", email="duty.manager@example.com",
                   roles={Role.supervisor})


def ensure_dev_api_key(database_url: str, path: Path) -> str:
    """Reuses the key in `path` if the database still knows it; otherwise makes a new all-scopes key there,
    for a `developer` account of the `dev` tenant holding every role (and the triage owner's account)."""
    with session_for(database_url) as session:
        if path.exists() and authenticate(session, path.read_text().strip()) is not None:
            return path.read_text().strip()
        for account in (DEVELOPER, TRIAGE):
            if session.get(StaffAccountRow, account.id) is None:
                create_account(session, DEV_TENANT, account)
        key = create_unbounded_key(session, DEV_TENANT, DEVELOPER.id, set(Scope))[1]
    path.write_text(key)
    os.chmod(path, 0o600)
    return key


def ensure_dev_login(database_url: str, path: Path) -> str:
    """The `developer` account's console password, kept in `path` (made once, random, owner-only): reused while
    it still signs in, set again on a new database. Call after `ensure_dev_api_key`, which makes the account."""
    password = path.read_text().strip() if path.exists() else secrets.token_urlsafe(12)
    with session_for(database_url) as session:
        if verify_password(session, DEVELOPER.email, password) is None:
            set_password(session, DEVELOPER.id, password)
    path.write_text(password)
    os.chmod(path, 0o600)
    return password
