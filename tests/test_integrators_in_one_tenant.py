"""Two integrators of one tenant (a till and a web shop): each sees only the cases it opened, and so only the
webhook endpoints it registered and the events of its own cases; a staff tool's endpoint, registered by the
tenant's admin, hears every case of the tenant.

On the dev server: nothing here needs time skipped. The endpoints are disabled before any case opens, so the
relay records what each would have heard (attempt 0, "endpoint disabled") and sends nothing anywhere.
"""

from __future__ import annotations

from schemas.auth import PrincipalKind, Scope
from tests.harness import Stack, eventually
from tests.test_intake import incident

INTEGRATOR_SCOPES = (Scope.incidents_write, Scope.cases_read, Scope.webhooks_manage)


def integrator(stack: Stack, name: str) -> dict[str, str]:
    return stack.key(name, *INTEGRATOR_SCOPES, kind=PrincipalKind.integrator)


async def disabled_endpoint(stack: Stack, headers: dict[str, str] | None, name: str) -> str:
    registered = await stack.api.post("/webhook-endpoints", headers=headers, json={
        "url": f"https://hooks.example.com/{name}", "event_types": ["case.opened"], "owner_email": "ops@example.com"})
    assert registered.status_code == 201, registered.text
    endpoint_id = registered.json()["id"]
    disabled = await stack.api.patch(f"/webhook-endpoints/{endpoint_id}", headers=headers, json={"enabled": False})
    assert disabled.status_code == 200, disabled.text
    return endpoint_id


async def test_an_integrator_manages_only_its_endpoints_and_they_hear_only_its_cases(live_stack: Stack):
    till, shop = integrator(live_stack, "till"), integrator(live_stack, "webshop")
    tills = await disabled_endpoint(live_stack, till, "till")
    shops = await disabled_endpoint(live_stack, shop, "shop")
    staff_tool = await disabled_endpoint(live_stack, None, "console")  # the admin's key (the stack's default)

    opened = await live_stack.api.post("/incidents", json=incident("web-order-1"), headers=shop)
    shop_case = opened.json()["case_id"]

    async def heard(endpoint_id: str) -> set[str]:
        deliveries = await live_stack.api.get(f"/webhook-endpoints/{endpoint_id}/deliveries")
        return {delivery["case_id"] for delivery in deliveries.json()}

    assert await eventually(lambda: heard(shops)) == {shop_case}
    assert await eventually(lambda: heard(staff_tool)) == {shop_case}
    assert await heard(tills) == set(), "the till's endpoint hears nothing of the web shop's case"
    [event] = (await live_stack.api.get(f"/webhook-endpoints/{shops}/deliveries")).json()

    listed = await live_stack.api.get("/webhook-endpoints", headers=till)
    assert [endpoint["id"] for endpoint in listed.json()] == [tills]
    for other in (shops, staff_tool):
        for method, path, body in (("GET", "", None), ("PATCH", "", {"url": "https://evil.example.com/x"}),
                                   ("POST", "/rotate-secret", None), ("GET", "/deliveries", None)):
            answer = await live_stack.api.request(method, f"/webhook-endpoints/{other}{path}", json=body,
                                                  headers=till)
            assert answer.status_code == 404, (method, path, answer.text)
    redelivered = await live_stack.api.post(f"/webhook-endpoints/{tills}/deliveries/{event['event_id']}/redeliver",
                                            headers=till)
    assert redelivered.status_code == 404, "no event of the web shop's case reaches the till's endpoint"
    assert (await live_stack.api.get(f"/cases/{shop_case}", headers=till)).status_code == 404
    everything = await live_stack.api.get("/webhook-endpoints")
    assert {endpoint["id"] for endpoint in everything.json()} == {tills, shops, staff_tool}
