"""The development API key `make run` prints: created once, reused while it stays valid."""

from __future__ import annotations

import os
from pathlib import Path

from schemas.auth import PrincipalKind, Scope
from store.api_keys import authenticate, create_key
from store.db import session_for


def ensure_dev_api_key(database_url: str, path: Path) -> str:
    """Reuses the key in `path` if the database still knows it; otherwise makes a new all-scopes key there."""
    with session_for(database_url) as session:
        if path.exists() and authenticate(session, path.read_text().strip()) is not None:
            return path.read_text().strip()
        key = create_key(session, "developer", PrincipalKind.person, set(Scope))
    path.write_text(key)
    os.chmod(path, 0o600)
    return key
