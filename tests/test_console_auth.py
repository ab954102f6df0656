"""Every console page and form, walked as the API's routes are walked with keys (test_auth, test_tenants): without
a session it sends the person to sign in; a form without the session's CSRF token does nothing; and a person of
another tenant finds no case of ours (the console reads through the API's own tenant checks)."""

from __future__ import annotations

import re

import httpx

from api.limits import RateLimiter
from console.session import SESSION_COOKIE
from schemas.auth import AccountIn, Role
from store.accounts import create_account
from store.db import session_for
from store.sessions import sign_in
from tests.harness import TENANT, Stack, eventually
from tests.scenarios.test_s3_s4_complaints import complaint
from tests.test_auth import CONSOLE, all_routes

OPEN = {f"{CONSOLE}/sign-in", CONSOLE}
PASSWORD = "a password for the walk"


def console_routes(stack: Stack) -> list[tuple[str, str]]:
    return [(method, re.sub(r"\{[^}]+\}", "case-unknown", route.path))
            for route in all_routes(stack.app.routes) if route.path.startswith(CONSOLE) and route.path not in OPEN
            for method in sorted(route.methods)]


def session_of(stack: Stack, tenant: str, account: str) -> str:
    with session_for(stack.settings.database_url) as session:
        create_account(session, tenant, AccountIn(id=account, display_name=account, email=f"{account}@example.com",
                                                  roles={Role.supervisor}, password=PASSWORD))
        return sign_in(session, f"{account}@example.com", PASSWORD)


def client(stack: Stack, token: str | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=stack.app), base_url="http://api",
                             cookies={SESSION_COOKIE: token} if token else None)


async def test_every_console_route_needs_a_session_and_every_form_its_token(live_stack: Stack):
    routes = console_routes(live_stack)
    assert len(routes) >= 12, routes
    token = session_of(live_stack, TENANT, "walk.supervisor")
    async with client(live_stack) as nobody, client(live_stack, token) as signed_in:
        for method, path in routes:
            answer = await nobody.request(method, path)
            assert answer.status_code == 303 and answer.headers["location"].startswith(f"{CONSOLE}/sign-in"), \
                (method, path, answer.status_code)
            if method == "POST":
                forged = await signed_in.post(path, data={"csrf": "guessed"})
                assert forged.status_code == 403 and "CSRF" in forged.text, (path, forged.status_code)


async def test_a_person_of_another_tenant_finds_no_case_of_ours(live_stack: Stack):
    stack = live_stack
    case_id = (await stack.api.post("/incidents", json=complaint("form-9401"))).json()["case_id"]
    await eventually(lambda: stack.case(case_id).step != "intake")
    ours, theirs = session_of(stack, TENANT, "our.supervisor"), session_of(stack, "other-tenant", "their.supervisor")
    async with client(stack, ours) as us, client(stack, theirs) as them:
        assert (await us.get(f"{CONSOLE}/cases/{case_id}")).status_code == 200
        assert (await them.get(f"{CONSOLE}/cases/{case_id}")).status_code == 404
        assert case_id not in (await them.get(f"{CONSOLE}/")).text
        assert "Jari" in (await us.get(f"{CONSOLE}/")).text and "Jari" not in (await them.get(f"{CONSOLE}/")).text
        page = (await them.get(f"{CONSOLE}/")).text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)[1]
        reveal = await them.post(f"{CONSOLE}/cases/{case_id}/reveal",
                                 data={"csrf": csrf, "fields": "phone", "purpose": "calling them about the refund"})
        assert reveal.status_code == 404 and "+358" not in reveal.text


async def test_password_guesses_from_one_address_are_stopped_as_made_up_keys_are(live_stack: Stack):
    """The API's per-address count of failed authentications (test_safe_defaults) counts the console's wrong
    passwords too: past the burst even the right password waits, with Retry-After, before any hash is checked."""
    stack = live_stack
    stack.app.state.failed_auth_limiter = RateLimiter(per_second=0.01, burst=2)
    session_of(stack, TENANT, "guessed.supervisor")
    async with client(stack) as browser:
        async def attempt(password: str) -> httpx.Response:
            form = (await browser.get(f"{CONSOLE}/sign-in")).text
            nonce = re.search(r'name="csrf" value="([^"]+)"', form)[1]
            return await browser.post(f"{CONSOLE}/sign-in", data={
                "email": "guessed.supervisor@example.com", "password": password, "csrf": nonce})

        assert [(await attempt(f"guess {n}")).status_code for n in range(3)] == [401, 401, 429]
        refused = await attempt(PASSWORD)
        assert refused.status_code == 429 and "Too many failed sign-ins" in refused.text
        assert int(refused.headers["retry-after"]) >= 1
        assert SESSION_COOKIE not in refused.cookies
