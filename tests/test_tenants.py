"""Two tenants side by side (OWASP API1, broken object level authorisation; API5, function level).

Every route the app has (read from its route table, so a new route is walked without anyone remembering to)
is called by every key of one tenant (integrator, carrier, agent, supervisor, DPO, administrator) aimed at the
other tenant's case, customer, account and key. No answer may carry the other tenant's data, and afterwards
the other tenant's rows are exactly as they were. Then each role calls each route of its own tenant: it is
refused for lack of scope exactly where the role table says so.

On the dev server: nothing here needs time skipped, and webhook endpoints (registered for an event no case here
reaches) must not leave deliveries retrying on the time-skipping server's shared clock.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import APIRoute
from sqlmodel import select

from schemas.auth import ROLE_SCOPES, AccountIn, PrincipalKind, Role, Scope
from schemas.webhooks import EndpointIn
from store.accounts import create_account
from store.api_keys import create_key
from store.db import session_for
from store.directory import add_customer
from store.tables import (
    AccessRecordRow,
    AffectedCustomerRow,
    ApiKeyRow,
    CaseRow,
    ContactOptOutRow,
    CustomerDirectoryRow,
    MajorIncidentRow,
    MessageRow,
    StaffAccountRow,
    TimelineRow,
    TransactionRow,
    WebhookEndpointRow,
)
from store.webhook_endpoints import create_endpoint
from tests.harness import Stack, eventually, sign_email
from tests.scenarios.test_s1_till_overcharge import till_record
from tests.test_auth import CONSOLE, OPEN_PATHS, all_routes

pytestmark = pytest.mark.both_databases  # tenancy is the stores' work, on either database

ROLES = ("integrator", "carrier", "agent", "supervisor", "dpo", "admin")
# Who may call what: the contract this test holds the app to. A route missing here fails the test.
ALLOWED: dict[tuple[str, str], set[str]] = {
    ("POST", "/incidents"): {"integrator"},
    ("POST", "/transactions"): {"integrator"},
    ("GET", "/cases"): {"integrator", "agent", "supervisor"},
    ("GET", "/cases/{case_id}"): {"integrator", "agent", "supervisor"},
    ("GET", "/cases/{case_id}/timeline"): {"integrator", "agent", "supervisor"},
    ("GET", "/cases/{case_id}/messages/preview"): {"agent", "supervisor"},
    ("POST", "/cases/{case_id}/replies"): {"agent", "supervisor"},
    ("POST", "/cases/{case_id}/assign"): {"agent", "supervisor"},
    ("POST", "/cases/{case_id}/responses"): {"agent", "supervisor"},
    ("POST", "/cases/{case_id}/manual-refund"): {"agent", "supervisor"},
    ("POST", "/cases/{case_id}/approvals"): {"supervisor"},
    ("POST", "/cases/{case_id}/priority"): {"supervisor"},
    ("POST", "/cases/{case_id}/reveal"): {"agent", "supervisor"},
    ("POST", "/cases/{case_id}/findings"): {"agent", "supervisor"},
    ("POST", "/cases/{case_id}/close"): {"agent", "supervisor"},
    ("POST", "/cases/{case_id}/cancel"): {"integrator", "supervisor"},
    ("POST", "/cases/{case_id}/notes"): {"agent", "supervisor"},
    ("GET", "/customers/access-records"): {"dpo"},
    ("POST", "/customers/export"): {"dpo"},
    ("POST", "/customers/erase"): {"dpo"},
    ("GET", "/customers/erasures/{erasure_id}"): {"dpo"},
    ("POST", "/webhooks/twilio/sms"): {"carrier"},
    ("POST", "/webhooks/twilio/voice"): {"carrier"},
    ("POST", "/webhooks/twilio/status"): {"carrier"},
    ("POST", "/webhooks/email"): {"carrier"},
    ("GET", "/replies/unmatched"): {"agent", "supervisor"},
    ("POST", "/replies/unmatched/{message_id}/attach"): {"agent", "supervisor"},
    ("POST", "/codec/decode"): set(),  # every tenant's payloads: the operator's key alone, no tenant's role
    ("POST", "/codec/encode"): set(),
    ("GET", "/metrics"): {"integrator", "agent", "supervisor"},
    ("GET", "/metrics/summary"): {"integrator", "agent", "supervisor"},
    ("POST", "/accounts"): {"admin"},
    ("GET", "/accounts"): {"admin"},
    ("POST", "/accounts/{account_id}/disable"): {"admin"},
    ("POST", "/keys"): {"admin"},
    ("GET", "/keys"): {"admin"},
    ("POST", "/keys/{key_id}/revoke"): {"admin"},
    ("POST", "/webhook-endpoints"): {"integrator", "admin"},
    ("GET", "/webhook-endpoints"): {"integrator", "admin"},
    ("GET", "/webhook-endpoints/{endpoint_id}"): {"integrator", "admin"},
    ("PATCH", "/webhook-endpoints/{endpoint_id}"): {"integrator", "admin"},
    ("POST", "/webhook-endpoints/{endpoint_id}/rotate-secret"): {"integrator", "admin"},
    ("GET", "/webhook-endpoints/{endpoint_id}/deliveries"): {"integrator", "admin"},
    ("POST", "/webhook-endpoints/{endpoint_id}/deliveries/{event_id}/redeliver"): {"integrator", "admin"},
    ("POST", "/directory/import"): {"admin"},
    ("GET", "/directory/customers"): {"admin"},
    ("GET", "/directory/customers/{customer_key}"): {"admin"},
    ("PUT", "/directory/customers/{customer_key}"): {"admin"},
    ("DELETE", "/directory/customers/{customer_key}"): {"admin"},
    ("POST", "/major-incidents"): {"integrator", "supervisor"},
    ("GET", "/major-incidents/{major_id}"): {"integrator", "agent", "supervisor"},
    ("POST", "/major-incidents/{major_id}/approvals"): {"supervisor"},
    ("POST", "/major-incidents/{major_id}/pause"): {"supervisor"},
    ("POST", "/major-incidents/{major_id}/resume"): {"supervisor"},
    ("POST", "/major-incidents/{major_id}/messages"): {"supervisor"},
    ("POST", "/major-incidents/{major_id}/close"): {"supervisor"},
    ("POST", "/major-incidents/{major_id}/cancel"): {"supervisor"},
}


@dataclass
class Tenant:
    """One tenant's keys and data, every value distinct from the other tenant's."""

    name: str
    phone: str
    keys: dict[str, dict[str, str]] = field(default_factory=dict)
    case_id: str = ""
    spare_key_id: str = ""
    endpoint_id: str = ""
    unmatched_id: int = 0
    major_id: str = ""

    @property
    def customer(self) -> str:
        return f"Customer {self.name.title()}"

    @property
    def customer_key(self) -> str:
        return f"C-{self.name}"

    @property
    def email(self) -> str:
        return f"customer@{self.name}.example"

    @property
    def agent(self) -> str:
        return f"agent.{self.name}"

    def secrets(self) -> set[str]:
        """What the other tenant must never see."""
        return {self.case_id, self.case_id.removeprefix("case-")[:8].upper(), self.customer, self.phone, self.email,
                f"UNMATCHED-{self.name}", f"T-{self.name}", f"{self.agent}@{self.name}.example", self.spare_key_id,
                self.endpoint_id, f"https://hooks.{self.name}.example/cases", self.major_id}


def unique(stack: Stack, name: str) -> str:
    """Tenant names of this test alone: case ids derive from them, and the Temporal server is the session's."""
    return f"{name}-{stack.settings.temporal_task_queue[-6:]}"


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _setup(stack: Stack, tenant: Tenant) -> None:
    with session_for(stack.settings.database_url) as session:
        for role in Role:
            account = f"agent.{tenant.name}" if role is Role.agent else f"{role}.{tenant.name}"
            create_account(session, tenant.name, AccountIn(id=account, display_name=account, roles={role},
                                                           email=f"{account}@{tenant.name}.example"))
            tenant.keys[role] = _bearer(create_key(session, tenant.name, account, PrincipalKind.person)[1])
        tenant.keys["integrator"] = _bearer(create_key(session, tenant.name, f"till-{tenant.name}",
                                                       PrincipalKind.integrator)[1])
        tenant.keys["carrier"] = _bearer(create_key(session, tenant.name, f"twilio-{tenant.name}",
                                                    PrincipalKind.carrier)[1])
        tenant.spare_key_id = create_key(session, tenant.name, f"shop-{tenant.name}", PrincipalKind.integrator)[0]
        tenant.endpoint_id = create_endpoint(session, EndpointIn(
            url=f"https://hooks.{tenant.name}.example/cases", event_types=["case.closed"],  # never sent here
            owner_email=f"ops@{tenant.name}.example"), tenant.name, f"till-{tenant.name}", f"till-{tenant.name}").id
        add_customer(session, tenant.name, tenant.customer, city="Oulu", phone=tenant.phone, email=tenant.email,
                     customer_key=tenant.customer_key)


async def _populate(stack: Stack, tenant: Tenant) -> None:
    """A case waiting for the customer's answer, a till record, an unmatched reply and a STOP from someone."""
    record = till_record(f"T-{tenant.name}", customer={"name": tenant.customer, "phone": tenant.phone,
                                                       "email": tenant.email, "language": "en"})
    opened = await stack.api.post("/transactions", json=record, headers=tenant.keys["integrator"])
    tenant.case_id = opened.json()["case"]["case_id"]
    await eventually(lambda: stack.case(tenant.case_id).step == "contact" and stack.outbound(tenant.case_id),
                     within=60)
    declared = await stack.api.post("/major-incidents", headers=tenant.keys["integrator"], json=_major_incident(
        tenant.name, [{"store": "Prisma Kaleva", "transaction_ref": f"T-{tenant.name}", "customer": record["customer"],
                       "amount": {"amount_minor": 100, "currency": "EUR"}}]))
    tenant.major_id = declared.json()["id"]  # waits for a supervisor's approval: nobody is contacted
    carrier = tenant.keys["carrier"]
    await stack.api.post("/webhooks/twilio/sms", headers=carrier, data={
        "From": "+358409990000", "Body": f"UNMATCHED-{tenant.name}", "MessageSid": f"SM-{tenant.name}-1"})
    await stack.api.post("/webhooks/twilio/sms", headers=carrier, data={
        "From": "+358409990001", "Body": "STOP", "MessageSid": f"SM-{tenant.name}-2"})
    [tenant.unmatched_id] = [row.id for row in stack.rows(MessageRow, tenant=tenant.name,
                                                          body=f"UNMATCHED-{tenant.name}")]


def _major_incident(name: str, affected: list[dict[str, Any]]) -> dict[str, Any]:
    return {"title": f"Till prices of {name}", "description": "Wrong prices over the weekend.",
            "stores": ["Prisma Kaleva"], "window_start": "2026-11-21T08:00:00+00:00",
            "window_end": "2026-11-23T08:00:00+00:00", "affected": affected}


def _snapshot(stack: Stack, tenant: Tenant) -> list[Any]:
    """Every row of the tenant's, as data (the case's own clock fields aside: its workflow may tick)."""
    with session_for(stack.settings.database_url) as session:
        case = session.get(CaseRow, tenant.case_id).model_dump(exclude={"updated_at", "sla_state", "sla_due_at"})
        tables = [(TimelineRow, TimelineRow.case_id == tenant.case_id),
                  (MessageRow, (MessageRow.case_id == tenant.case_id) | (MessageRow.tenant == tenant.name)),
                  *((table, table.tenant == tenant.name) for table in (
                      ContactOptOutRow, CustomerDirectoryRow, TransactionRow, StaffAccountRow, ApiKeyRow,
                      AccessRecordRow, WebhookEndpointRow, MajorIncidentRow)),
                  (AffectedCustomerRow, AffectedCustomerRow.major_id == tenant.major_id)]
        rows = [[row.model_dump() for row in session.exec(select(table).where(where)).all()]
                for table, where in tables]
    return [case, *rows]


def _call(route: APIRoute, method: str, victim: Tenant, settings) -> dict[str, Any]:
    """A request aimed at `victim`'s objects, valid enough to get past validation where it can."""
    path = route.path.format(case_id=victim.case_id, account_id=victim.agent, key_id=victim.spare_key_id,
                             erasure_id=1,  # the first erasure is the attacker's own (below, of nobody)
                             endpoint_id=victim.endpoint_id, event_id="evt_unknown",
                             customer_key=victim.customer_key, message_id=victim.unmatched_id,
                             major_id=victim.major_id)
    subject = {"name": victim.customer, "phone": victim.phone, "case_ids": [victim.case_id],
               "reason": "customer asked by phone"}
    bodies: dict[str, Any] = {
        "/incidents": {"external_id": "x-1", "kind": "complaint", "source": "feedback_form", "topic": "late",
                       "customer": {"name": "Someone", "language": "en"}, "owner": victim.agent},
        "/transactions": till_record(f"T-{victim.name}"),
        "/cases/{case_id}/replies": {"channel": "sms", "text": "STOP", "sender": victim.phone},
        "/cases/{case_id}/assign": {"owner": victim.agent, "reason": "taking it over"},
        "/cases/{case_id}/responses": {"text": f"Dear {victim.customer}", "agent_name": "Mallory"},
        "/cases/{case_id}/approvals": {"decision": "approve", "reason": "looks right"},
        "/cases/{case_id}/priority": {"priority": "high", "reason": "public now"},
        "/cases/{case_id}/reveal": {"fields": ["phone", "email"], "purpose": "to call the customer back today"},
        "/cases/{case_id}/close": {"outcome": "duplicate", "reason": "closing another's case"},
        "/cases/{case_id}/cancel": {"reason": "cancelling another's case"},
        "/cases/{case_id}/notes": {"text": "a note on another's case"},
        "/replies/unmatched/{message_id}/attach": {"case": victim.case_id},
        "/cases/{case_id}/findings": {"misuse_confirmed": False, "findings": "nothing found here at all",
                                      "actions": "none taken"},
        "/customers/export": subject, "/customers/erase": subject,
        "/accounts": {"id": "mallory", "display_name": "M", "email": "mallory@example.com", "roles": ["admin"]},
        "/keys": {"kind": "person", "principal": victim.agent},
        "/codec/decode": {"payloads": []}, "/codec/encode": {"payloads": []},
        "/webhook-endpoints": {"url": "https://hooks.example.com/x", "event_types": ["case.closed"],
                               "owner_email": "ops@example.com"},
        "/webhook-endpoints/{endpoint_id}": {"enabled": False},
        "/major-incidents": _major_incident("Mallory", []),
        "/major-incidents/{major_id}/approvals": {"cap": {"amount_minor": 100000, "currency": "EUR"}},
        "/major-incidents/{major_id}/messages": {"text": f"Dear {victim.customer}", "agent_name": "Mallory"},
        "/major-incidents/{major_id}/close": {"reason": "closing another's incident"},
        "/major-incidents/{major_id}/cancel": {"reason": "cancelling another's incident"},
        "/directory/import": [{"customer_key": victim.customer_key, "name": "Mallory", "phone": "+358401110666"}],
        "/directory/customers/{customer_key}": {"name": "Mallory", "phone": "+358401110666"},
    }
    forms = {"/webhooks/twilio/sms": {"From": victim.phone, "Body": "STOP", "MessageSid": "SM-x"},
             "/webhooks/twilio/voice": {"Digits": "1", "To": victim.phone, "CallSid": "CA-x"},
             "/webhooks/twilio/status": {"MessageStatus": "failed"}}
    params = {"ref": f"{victim.case_id}:contact:1"} if route.path.startswith("/webhooks/twilio/") else {}
    if route.path.endswith("/messages/preview"):  # valid enough to reach the case: the victim's own template
        params = {"template": "common/satisfaction"}
    if route.path == "/webhooks/email":
        content, headers = sign_email(settings, {"sender": victim.email, "subject": "STOP", "text": "STOP"})
        return {"method": method, "url": path, "content": content, "headers": headers}
    if method == "GET":
        return {"method": method, "url": path, "params": params}
    if route.path in forms:
        return {"method": method, "url": path, "params": params, "data": forms[route.path]}
    return {"method": method, "url": path, "params": params, "json": bodies.get(route.path, {})}


def _walked(stack: Stack) -> list[tuple[APIRoute, str]]:
    routes = [(route, method) for route in all_routes(stack.app.routes) if route.path not in OPEN_PATHS
              and not route.path.startswith(CONSOLE) for method in sorted(route.methods) if method != "OPTIONS"]
    assert {(method, route.path) for route, method in routes} == set(ALLOWED), "the role table misses routes"
    return routes


def _without_echo(text: str, request: dict[str, Any]) -> str:
    """The answer minus what the caller sent itself (an error may quote the id it was given)."""
    sent = [*request["url"].split("/"), *map(str, request.get("params", {}).values())]
    body = request.get("json") or request.get("data") or json.loads(request.get("content") or b"{}")
    sent += re.findall(r'"([^"]+)"', json.dumps(body, ensure_ascii=False))
    for value in sorted(sent, key=len, reverse=True):
        text = text.replace(value, "")
    return text


async def _attack(stack: Stack, attacker: Tenant, victim: Tenant) -> None:
    before = _snapshot(stack, victim)
    for route, method in _walked(stack):
        for role in ROLES:
            request = _call(route, method, victim, stack.settings)
            headers = {**attacker.keys[role], **request.pop("headers", {})}
            response = await stack.api.request(**request, headers=headers)
            assert response.status_code < 500, (role, method, route.path, response.text)
            leaked = [secret for secret in victim.secrets() if secret in _without_echo(response.text, request)]
            assert not leaked, (role, method, route.path, leaked, response.text)
    assert _snapshot(stack, victim) == before, "the other tenant's data changed"


async def test_no_route_returns_or_changes_another_tenants_data(live_stack: Stack):
    stack = live_stack
    acme, rival = Tenant(unique(stack, "acme"), "+358401110001"), Tenant(unique(stack, "rival"), "+358401110002")
    for tenant in (acme, rival):
        _setup(stack, tenant)
        await _populate(stack, tenant)
    await _attack(stack, acme, rival)
    await _attack(stack, rival, acme)


async def test_each_role_gets_exactly_its_actions(live_stack: Stack):
    stack = live_stack
    tenant = Tenant(unique(stack, "acme"), "+358401110003")
    _setup(stack, tenant)
    for route, method in _walked(stack):
        path = re.sub(r"\{[^}]+\}", "unknown", route.path)  # nothing of anyone's: only the door is tried
        for role in ROLES:
            response = await stack.api.request(method, path, json={}, headers=tenant.keys[role])
            refused = response.status_code == 403 and ("lacks the scope" in response.text
                                                         or "only a person's key" in response.text)
            assert refused == (role not in ALLOWED[(method, route.path)]), (role, method, route.path, response.text)


def test_the_role_table_matches_the_scopes_roles_hold():
    """The table above and ROLE_SCOPES say the same for staff: a supervisor does what an agent does, and more."""
    assert ROLE_SCOPES[Role.agent] < ROLE_SCOPES[Role.supervisor]
    assert Scope.privacy in ROLE_SCOPES[Role.dpo] and Scope.admin not in ROLE_SCOPES[Role.dpo]
    assert not ROLE_SCOPES[Role.admin] & {Scope.cases_read, Scope.privacy}, "an administrator reads no cases"


async def test_a_stop_ends_contact_only_within_the_tenant_whose_message_it_answers(live_stack: Stack):
    stack = live_stack
    shared_phone = "+358401110009"  # one person, a customer of both companies
    shop, bank = Tenant(unique(stack, "shop"), shared_phone), Tenant(unique(stack, "bank"), shared_phone)
    for tenant in (shop, bank):
        _setup(stack, tenant)
        await _populate(stack, tenant)
    stop = await stack.api.post("/webhooks/twilio/sms", headers=shop.keys["carrier"],
                                data={"From": shared_phone, "Body": "STOP", "MessageSid": "SM-stop-shop"})
    assert stop.status_code == 200

    def opted_out(tenant: Tenant) -> list[str]:
        with session_for(stack.settings.database_url) as session:
            return sorted(session.exec(select(ContactOptOutRow.channel).where(
                ContactOptOutRow.tenant == tenant.name, ContactOptOutRow.address == shared_phone)).all())

    assert opted_out(shop) == ["sms", "voice"] and opted_out(bank) == []

    async def live_opt_outs(tenant: Tenant) -> list[str]:
        return (await stack.api.get(f"/cases/{tenant.case_id}", headers=tenant.keys["agent"])).json()["live"][
            "opted_out"]

    for _ in range(100):  # the shop's workflow takes the STOP as a signal; its state follows
        if "sms" in await live_opt_outs(shop):
            break
        await asyncio.sleep(0.05)
    assert "sms" in await live_opt_outs(shop) and await live_opt_outs(bank) == []
