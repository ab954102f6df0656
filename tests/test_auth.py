"""Every route but health and docs needs a key with the route's scope; integrators see only their own cases."""

from __future__ import annotations

import asyncio
import re

import pytest
from fastapi.routing import APIRoute

from schemas.auth import AccountIn, PrincipalKind, Role, Scope
from security.keys_cli import main as keys_cli
from store.accounts import create_account, verify_password
from store.api_keys import authenticate, create_key
from store.db import session_for
from store.tables import StaffAccountRow
from tests.harness import TENANT, Stack
from tests.scenarios.test_s1_till_overcharge import till_record

pytestmark = pytest.mark.both_databases  # the read model's behaviour on SQLite and PostgreSQL alike

OPEN_PATHS = {"/healthz", "/readyz", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}
# The console's pages take a signed-in person's session cookie, not a key: walked in tests/test_console_auth.py.
CONSOLE = "/console"


def all_routes(routes) -> list[APIRoute]:
    """Every APIRoute, including those of included routers (FastAPI nests them), hidden from OpenAPI or not."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found.extend(all_routes(route.original_router.routes))
    return found


def guarded_routes(stack: Stack) -> list[tuple[str, str]]:
    routes = [(method, re.sub(r"\{[^}]+\}", "case-unknown", route.path))
              for route in all_routes(stack.app.routes) if route.path not in OPEN_PATHS
              and not route.path.startswith(CONSOLE)
              for method in sorted(route.methods) if method != "OPTIONS"]  # CORS preflights carry no credentials
    documented = {path for path in stack.app.openapi()["paths"] if path not in OPEN_PATHS}
    assert documented <= {route.path for route in all_routes(stack.app.routes)}, "the walk misses routes"
    return routes


async def test_every_route_needs_a_key_and_its_scope(stack: Stack):
    no_scopes = stack.key("nobody-in-particular")
    for method, path in guarded_routes(stack):
        anonymous = await stack.api.request(method, path, json={}, headers={"Authorization": ""})
        assert anonymous.status_code == 401, (method, path, anonymous.text)
        assert anonymous.headers["www-authenticate"] == "Bearer"
        unscoped = await stack.api.request(method, path, json={}, headers=no_scopes)
        assert unscoped.status_code == 403, (method, path, unscoped.text)
        assert "lacks the scope" in unscoped.json()["detail"]


async def test_health_and_docs_are_open(stack: Stack):
    for path in ("/healthz", "/docs", "/openapi.json"):
        response = await stack.api.get(path, headers={"Authorization": ""})
        assert response.status_code == 200, path


async def test_a_wrong_or_revoked_key_is_refused(stack: Stack, monkeypatch, capsys):
    wrong = await stack.api.get("/cases", headers={"Authorization": "Bearer sre_0000_not-a-key"})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "unknown or revoked API key"

    monkeypatch.setenv("DATABASE_URL", stack.settings.database_url)
    __import__("settings").get_settings.cache_clear()
    with pytest.raises(SystemExit):  # the kind is never assumed
        keys_cli(["create", "--tenant", TENANT, "--principal", "till-7", "--scope", "cases:read"])
    assert "--kind" in capsys.readouterr().err
    assert keys_cli(["account-create", "--tenant", TENANT, "--id", "ann.agent", "--name", "Ann Agent",
                     "--email", "ann@example.com", "--role", "agent"]) == 0
    assert keys_cli(["create", "--tenant", TENANT, "--kind", "person", "--principal", "ann.agent",
                     "--scope", "cases:approve"]) == 2, "beyond the account's roles"
    capsys.readouterr()
    assert keys_cli(["create", "--tenant", TENANT, "--kind", "person", "--principal", "ann.agent"]) == 0
    key = capsys.readouterr().out.strip()
    headers = {"Authorization": f"Bearer {key}"}
    assert (await stack.api.get("/cases", headers=headers)).status_code == 200

    assert keys_cli(["list", "--tenant", TENANT]) == 0
    listed = capsys.readouterr().out
    assert "ann.agent" in listed and "cases:act,cases:read" in listed and key not in listed
    assert keys_cli(["revoke", key.split("_")[1]]) == 0
    await asyncio.sleep(stack.settings.api_key_cache_seconds + 0.1)  # a verified key is trusted this long
    assert (await stack.api.get("/cases", headers=headers)).status_code == 401
    __import__("settings").get_settings.cache_clear()


async def test_an_administrator_manages_the_tenants_accounts_and_keys(stack: Stack):
    admin = stack.key("ada.admin", Scope.admin)
    made = await stack.api.post("/accounts", headers=admin, json={
        "id": "olli.owner", "display_name": "Olli", "email": "olli@example.com", "roles": ["agent"],
        "password": "correct horse battery staple"})
    assert made.status_code == 201 and made.json()["roles"] == ["agent"]
    assert "password" not in made.text
    assert (await stack.api.post("/keys", headers=admin, json={"principal": "till-9"})).status_code == 422, \
        "a key without a kind is refused"
    operator = await stack.api.post("/keys", headers=admin, json={"kind": "operator", "principal": "temporal-ui"})
    assert operator.status_code == 422 and operator.json()["detail"][0]["loc"] == ["body", "kind"], \
        "a key that decodes every tenant's payloads is the operator's to make, not a tenant's administrator's"
    person = await stack.api.post("/keys", headers=admin, json={"kind": "person", "principal": "olli.owner"})
    olli = {"Authorization": f"Bearer {person.json()['key']}"}
    assert (await stack.api.get("/cases", headers=olli)).status_code == 200
    assert (await stack.api.get("/accounts", headers=olli)).status_code == 403
    with session_for(stack.settings.database_url) as session:
        assert verify_password(session, "olli@example.com", "correct horse battery staple").id == "olli.owner"
        assert verify_password(session, "olli@example.com", "wrong") is None
        assert session.get(StaffAccountRow, "olli.owner").password_hash.startswith("$argon2id$")
    assert (await stack.api.post("/accounts/olli.owner/disable", headers=admin)).status_code == 204
    await asyncio.sleep(stack.settings.api_key_cache_seconds + 0.1)
    assert (await stack.api.get("/cases", headers=olli)).status_code == 401, "a disabled account's keys stop"


async def test_account_and_key_requests_are_refused_naming_the_field(stack: Stack):
    """What the OpenAPI document says of these bodies is what the API enforces: nothing silently dropped."""
    admin = stack.key("ada.admin", Scope.admin)
    account = {"id": "eino.agent", "display_name": "Eino", "email": "eino@example.test", "roles": ["agent"]}
    refusals = {
        "/accounts": [({**account, "roles": ["agent", "agent"]}, "roles"),
                      ({**account, "pasword": "x" * 12}, "pasword")],
        "/keys": [({"kind": "integrator", "principal": "till-1", "scope": ["cases:read"]}, "scope"),
                  ({"kind": "integrator", "principal": "till-1", "scopes": ["cases:read", "cases:read"]}, "scopes"),
                  ({"kind": "integrator", "principal": "till-1", "scopes": ["admin"]}, "scopes"),
                  ({"kind": "person", "principal": "nobody.here"}, "unknown_account")],
    }
    for path, bodies in refusals.items():
        for body, field in bodies:
            refused = await stack.api.post(path, headers=admin, json=body)
            assert refused.status_code == 422 and field in str(refused.json()["detail"]), (path, body, refused.text)
    assert (await stack.api.post("/accounts", headers=admin, json=account)).status_code == 201, \
        "a reserved test domain is an email address, as the schema says"
    huge = await stack.api.get(f"/customers/erasures/{2**64}", headers=stack.key("dee.dpo", Scope.privacy))
    assert huge.status_code == 422 and huge.json()["detail"][0]["loc"] == ["path", "erasure_id"]


async def test_an_integrator_sees_only_the_cases_it_opened(stack: Stack):
    scopes = (Scope.incidents_write, Scope.cases_read)
    till = stack.key(f"till-a-{id(stack)}", *scopes, kind=PrincipalKind.integrator)
    other_till = stack.key(f"till-b-{id(stack)}", *scopes, kind=PrincipalKind.integrator)
    mine = (await stack.api.post("/transactions", json=till_record("T-A"), headers=till)).json()["case"]["case_id"]
    theirs = (await stack.api.post("/transactions", json=till_record("T-B"), headers=other_till)).json()

    listed = (await stack.api.get("/cases", headers=till)).json()
    assert [case["id"] for case in listed["items"]] == [mine]
    assert (await stack.api.get(f"/cases/{theirs['case']['case_id']}", headers=till)).status_code == 404
    assert (await stack.api.get(f"/cases/{mine}", headers=till)).status_code == 200
    assert (await stack.api.get("/cases")).json()["total"] == 2, "an administrator sees both"


@pytest.mark.parametrize("scope", [Scope.cases_read, Scope.cases_act])
async def test_an_agent_cannot_open_incidents(stack: Stack, scope: Scope):
    response = await stack.api.post("/transactions", json=till_record(), headers=stack.key("ann.agent", scope))
    assert response.status_code == 403


def test_a_persons_key_holds_only_what_the_accounts_roles_allow_now(database_url: str):
    """Review minor 12: a supervisor demoted to agent keeps their key, but no longer approves with it."""
    with session_for(database_url) as session:
        create_account(session, TENANT, AccountIn(id="sari.supervisor", display_name="Sari", email="sari@example.com",
                                                  roles={Role.supervisor}))
        key = create_key(session, TENANT, "sari.supervisor", PrincipalKind.person)[1]
        assert authenticate(session, key).may(Scope.cases_approve)
        account = session.get(StaffAccountRow, "sari.supervisor")
        account.roles = [Role.agent]
        session.add(account)
        session.commit()
        demoted = authenticate(session, key)
    assert demoted.may(Scope.cases_act) and not demoted.may(Scope.cases_approve)
