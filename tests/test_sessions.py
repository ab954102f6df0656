"""What the console signs people in with: an account's password gives a session that acts with the
account's roles, and stops with sign-out, idleness or the account being disabled."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from schemas.auth import AccountIn, PrincipalKind, Role, Scope
from settings import Settings
from store.accounts import create_account, disable_account
from store.db import session_for
from store.sessions import principal_of, sign_in, sign_out
from store.tables import StaffSessionRow

PASSWORD = "correct horse battery staple"


def test_a_password_gives_a_session_with_the_accounts_roles(settings: Settings):
    with session_for(settings.database_url) as session:
        create_account(session, "acme", AccountIn(id="sari.s", display_name="Sari", email="Sari@Acme.fi",
                                                  roles={Role.supervisor}, password=PASSWORD))
        assert sign_in(session, "sari@acme.fi", "wrong password") is None
        assert sign_in(session, "nobody@acme.fi", PASSWORD) is None
        token = sign_in(session, "sari@acme.fi", PASSWORD)
        principal = principal_of(session, token)
        assert (principal.id, principal.kind, principal.tenant) == ("sari.s", PrincipalKind.person, "acme")
        assert principal.may(Scope.cases_approve) and not principal.may(Scope.admin)
        assert principal_of(session, token, idle=timedelta(0)) is None, "an idle session has ended"

        sign_out(session, token)
        assert principal_of(session, token) is None
        again = sign_in(session, "sari@acme.fi", PASSWORD)
        assert disable_account(session, "acme", "sari.s")
        assert principal_of(session, again) is None, "a disabled account's sessions end with it"


def test_a_page_asking_by_itself_does_not_keep_a_session_alive(settings: Settings):
    """The console's live queue asks every second; only a person's own requests count as use."""
    with session_for(settings.database_url) as session:
        create_account(session, "acme", AccountIn(id="sari.s", display_name="Sari", email="sari@acme.fi",
                                                  roles={Role.supervisor}, password=PASSWORD))
        token = sign_in(session, "sari@acme.fi", PASSWORD)
        row = session.exec(select(StaffSessionRow)).one()
        row.last_seen_at -= timedelta(minutes=20)
        session.add(row)
        session.commit()
        seen = row.last_seen_at
        assert principal_of(session, token, touch=False) is not None
        session.refresh(row)
        assert row.last_seen_at == seen, "a poll is not a use"
        assert principal_of(session, token) is not None
        session.refresh(row)
        assert row.last_seen_at > seen, "a person's request is"
