"""S7, one failure and many customers: the till sold coffee at 5.95 EUR instead of 4.95 from Saturday morning to
Monday. The engine finds every sale of it in the till records it holds, a supervisor approves once, and every
customer gets a case of their own that texts them and pays back exactly that sale's overcharge, once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from intake.major_incidents import workflow_id
from schemas.auth import PrincipalKind, Scope
from schemas.major_incidents import MajorActivity
from schemas.policy import MajorIncidentPolicy
from settings import Settings
from store.db import session_for
from store.tables import AffectedCustomerRow, CaseRow, MajorIncidentRow, MessageRow, RefundRow, TransactionRow
from tests.harness import Stack, eventually

STORE = "Prisma Kaleva"
COFFEE, TILL_PRICE, RIGHT_PRICE = "Coffee 500 g", 595, 495
SATURDAY = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
MONDAY = SATURDAY + timedelta(days=2)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A till posts a weekend's records at once: above a key's request rate, which is not what is tested here."""
    settings.api_rate_per_second = 0
    return settings


def phone(number: int) -> str:
    return f"+35840{1000000 + number}"


def sale(number: int, at: datetime, coffee: int, store: str = STORE) -> dict:
    """A sale with bread, and `coffee` packets at the till's (wrong) price; charged exactly what the lines say, so
    the till itself sees nothing wrong."""
    lines = [{"product": "Bread", "unit_price_minor": 289, "quantity": 1}]
    if coffee:
        lines.append({"product": COFFEE, "unit_price_minor": TILL_PRICE, "quantity": coffee})
    return {"store": store, "transaction_id": f"T-{number:04d}", "currency": "EUR", "lines": lines,
            "charged_minor": sum(line["unit_price_minor"] * line["quantity"] for line in lines),
            "sold_at": at.isoformat(), "customer": {"name": f"Asiakas{number} Virtanen", "phone": phone(number),
                                                    "language": "en"}}


def three_hundred_sales() -> tuple[list[dict], dict[str, int]]:
    """120 in the window with coffee (1 or 2 packets); the rest: no coffee, before or after the window, or in
    another store. Returns the sales and the overcharge of each affected one."""
    sales, owed = [], {}
    for number in range(300):
        if number < 120:
            coffee = 1 + number % 2
            sales.append(sale(number, SATURDAY + timedelta(minutes=20 * number), coffee))
            owed[f"T-{number:04d}"] = coffee * (TILL_PRICE - RIGHT_PRICE)
        elif number < 180:
            sales.append(sale(number, SATURDAY + timedelta(hours=1, minutes=number), coffee=0))
        elif number < 220:
            sales.append(sale(number, SATURDAY - timedelta(hours=number - 170), coffee=1))
        elif number < 260:
            sales.append(sale(number, MONDAY + timedelta(minutes=number), coffee=1))
        else:
            sales.append(sale(number, SATURDAY + timedelta(hours=2), coffee=1, store="Prisma Linnanmaa"))
    return sales, owed


def declaration(stack: Stack) -> dict:
    """The same declaration is the same incident; tests share one Temporal server, so each names its own queue."""
    return {"title": "Coffee priced 5.95 at the till",
            "description": f"The till's price list had coffee at 5.95 ({stack.settings.temporal_task_queue}).",
            "recovery": "overcharge", "stores": [STORE], "window_start": SATURDAY.isoformat(),
            "window_end": MONDAY.isoformat(),
            "wrong_price": {"product": COFFEE, "correct_unit_price_minor": RIGHT_PRICE}}


async def test_120_customers_of_a_wrong_till_price_are_texted_and_refunded_once(live_stack: Stack):
    stack = live_stack
    till = stack.key("till", Scope.incidents_write, Scope.cases_read, kind=PrincipalKind.integrator)
    desk = stack.key("contact-centre", Scope.incidents_write, Scope.cases_read, kind=PrincipalKind.integrator)
    supervisor = stack.key("sami.supervisor", Scope.cases_read, Scope.cases_act, Scope.cases_approve)
    sales, owed = three_hundred_sales()

    # Saturday: customer 7 noticed and called; the contact centre reported it before the till's records came in.
    early = await stack.api.post("/incidents", headers=desk, json={
        "external_id": "call-7", "kind": "overcharge", "source": "contact_centre",
        "customer": sales[7]["customer"], "amount": {"amount_minor": owed["T-0007"], "currency": "EUR"},
        "store": STORE, "transaction_ref": "T-0007"})
    assert early.status_code == 201, early.text
    early_case = early.json()["case_id"]
    await eventually(lambda: stack.texts_to(phone(7)), within=60)
    await stack.api.post(f"/cases/{early_case}/replies", json={"channel": "sms", "text": "1", "sender": phone(7)})
    await eventually(lambda: stack.refunds(early_case), within=60)

    for one in sales:  # Monday: the till's records of the weekend
        verdict = await stack.api.post("/transactions", json=one, headers=till)
        assert verdict.status_code == 200 and verdict.json()["finding"] == "correct", verdict.text

    declared = await stack.api.post("/major-incidents", json=declaration(stack), headers=till)
    assert declared.status_code == 201, declared.text
    major = declared.json()
    assert major["status"] == "awaiting_approval" and major["progress"]["affected"] == 120
    assert not stack.texts_to(phone(0)), "nobody is contacted before the approval"
    again = await stack.api.post("/major-incidents", json=declaration(stack), headers=till)
    assert (again.status_code, again.json()["id"]) == (200, major["id"]), "declared twice: one incident"

    approved = await stack.api.post(f"/major-incidents/{major['id']}/approvals", headers=supervisor,
                                    json={"cap": {"amount_minor": 500, "currency": "EUR"}})
    assert approved.status_code == 202, approved.text

    children = await eventually(lambda: _all_decided(stack, major["id"]), within=120)
    linked = [child for child in children if child.state == "linked"]
    assert [child.transaction_ref for child in linked] == ["T-0007"], "the sale already in a case is linked"
    assert linked[0].case_id == early_case, "linked to the case the sale already had (review M6)"
    assert len(children) == 120 and len({child.case_id for child in children}) == 120

    opened = [child for child in children if child.state == "opened"]
    for child in opened:
        await eventually(lambda child=child: stack.texts_to(child.customer["phone"]), within=120)
    assert all(len(stack.texts_to(phone(number))) >= 1 for number in range(120)), "120 customers texted"
    assert {text.case_id for text in stack.rows(MessageRow, to_address=phone(7))} == {early_case}, \
        "the linked customer hears only from the case they already had"

    for child in opened:
        reply = await stack.api.post(f"/cases/{child.case_id}/replies",
                                     json={"channel": "sms", "text": "1", "sender": child.customer["phone"]})
        assert reply.status_code == 202, reply.text
    for child in opened:
        await eventually(lambda child=child: stack.refunds(child.case_id), within=120)

    paid = [row for row in stack.rows(RefundRow) if row.status == "paid"]
    by_sale = {stack.case(row.case_id).transaction_ref: row.amount_minor for row in paid}
    assert len(paid) == 120 and by_sale == owed, "one refund per sale, each exactly its overcharge"
    assert len(stack.ledger()) == 120, "the provider paid 120 times, never twice for a sale"

    view = (await stack.api.get(f"/major-incidents/{major['id']}", headers=supervisor)).json()
    assert view["status"] == "all_opened" and view["approved_by"] == "sami.supervisor"
    progress = view["progress"]
    assert (progress["affected"], progress["opened"], progress["linked"]) == (120, 119, 1)
    assert progress["contacted"] == progress["reached"] == progress["refunded"] == 119

    metrics = (await stack.api.get("/metrics", headers=supervisor)).text
    assert f'recovery_major_incident_refunded_share{{major_incident="{major["id"]}"}} 1.0' in metrics
    [figures] = (await stack.api.get("/metrics/summary", headers=supervisor)).json()["major_incidents"]
    assert (figures["affected"], figures["reached_share"], figures["refunded_share"]) == (120, 1.0, 1.0)
    assert figures["seconds_to_last_reached"] > 0


async def test_the_declarer_cannot_approve_and_other_tenants_do_not_see_it(live_stack: Stack):
    stack = live_stack
    declarer = stack.key("sami.supervisor", Scope.cases_read, Scope.cases_act, Scope.cases_approve)
    for one in three_hundred_sales()[0][:5]:
        await stack.api.post("/transactions", json=one)
    declared = await stack.api.post("/major-incidents", json=declaration(stack), headers=declarer)
    assert declared.status_code == 201, declared.text
    major_id = declared.json()["id"]
    cap = {"cap": {"amount_minor": 500, "currency": "EUR"}}
    refused = await stack.api.post(f"/major-incidents/{major_id}/approvals", headers=declarer, json=cap)
    assert refused.status_code == 409 and "four eyes" in refused.text
    shop = stack.key("web-shop", Scope.incidents_write, Scope.cases_read, kind=PrincipalKind.integrator)
    assert (await stack.api.get(f"/major-incidents/{major_id}", headers=shop)).status_code == 404, \
        "an integrator sees the incidents it declared, as it sees only the cases it opened"
    stranger = stack.key("other.supervisor", Scope.cases_read, Scope.cases_approve, tenant="another-chain")
    assert (await stack.api.get(f"/major-incidents/{major_id}", headers=stranger)).status_code == 404
    agent = stack.key("aino.agent", Scope.cases_read, Scope.cases_act)
    assert (await stack.api.post(f"/major-incidents/{major_id}/approvals", headers=agent, json=cap)).status_code \
        == 403
    assert not stack.rows(CaseRow), "no child before an approval"


async def test_an_uploaded_list_reports_the_rows_it_refuses(live_stack: Stack):
    stack = live_stack
    till = stack.key("till", Scope.incidents_write, Scope.cases_read, kind=PrincipalKind.integrator)
    good = {"store": STORE, "transaction_ref": "W-1", "amount": {"amount_minor": 250, "currency": "EUR"},
            "customer": {"name": "Liisa Laine", "phone": phone(900)}}
    body = {**declaration(stack), "wrong_price": None, "affected": [
        good, {**good, "transaction_ref": "W-2", "amount": {"amount_minor": 250, "currency": "EURO"}},
        {**good, "transaction_ref": "W-3", "store": "Elsewhere"}, {**good, "customer": {"name": "Liisa Laine"}},
        {**good, "transaction_ref": "W-4", "amount": {"amount_minor": 0, "currency": "EUR"}}]}
    declared = await stack.api.post("/major-incidents", json=body, headers=till)
    assert declared.status_code == 201, declared.text
    view = declared.json()
    assert view["progress"]["affected"] == 1, "W-1 once (listed twice), W-2, W-3 and W-4 refused"
    assert [(row["row"], row["field"]) for row in view["rejected"]][:2] == [(2, "amount.currency"), (3, "store")]
    assert [row["row"] for row in view["rejected"]][2:] == [5], \
        "a zero amount is refused at declaration: no child could be opened for it after approval (review B1)"
    assert stack.rows(MajorIncidentRow)[0].rejected


def children_of(stack: Stack, major_id: str) -> list[AffectedCustomerRow]:
    with session_for(stack.settings.database_url) as session:
        return list(session.exec(select(AffectedCustomerRow).where(AffectedCustomerRow.major_id == major_id)
                                 .order_by(AffectedCustomerRow.seq)).all())


def _all_decided(stack: Stack, major_id: str) -> list[AffectedCustomerRow] | None:
    rows = children_of(stack, major_id)
    return rows if rows and all(row.state in ("opened", "linked") for row in rows) else None


async def test_pause_stops_new_children_resume_goes_on_and_cancel_pays_nobody(live_stack: Stack):
    stack = live_stack
    stack.settings.major_incidents = MajorIncidentPolicy(texts_per_second=5, batch=1)
    supervisor = stack.key("sami.supervisor", Scope.cases_read, Scope.cases_act, Scope.cases_approve)
    till = stack.key("till", Scope.incidents_write, Scope.cases_read, kind=PrincipalKind.integrator)
    for one in three_hundred_sales()[0][:40]:
        await stack.api.post("/transactions", json=one, headers=till)
    major_id = (await stack.api.post("/major-incidents", json=declaration(stack), headers=till)).json()["id"]
    await stack.api.post(f"/major-incidents/{major_id}/approvals", headers=supervisor,
                         json={"cap": {"amount_minor": 500, "currency": "EUR"}})
    await eventually(lambda: len(_opened(stack, major_id)) >= 3, within=120)

    assert (await stack.api.post(f"/major-incidents/{major_id}/pause", headers=supervisor)).status_code == 202
    await eventually(lambda: stack.rows(MajorIncidentRow, id=major_id)[0].status == "paused", within=120)
    at_pause = _opened(stack, major_id)
    await asyncio.sleep(1.5)
    assert _opened(stack, major_id) == at_pause, "no child is opened while paused"
    # Within a second: the step in flight (one customer here, 0.2 s at 5 texts/s) ends, and the parent, once it has
    # the pause, schedules no further step. Read from its history, not the wall clock, which a loaded machine skews.
    assert await steps_scheduled_after_the_pause(stack, major_id) == 0, "no step scheduled once paused"

    await stack.api.post(f"/major-incidents/{major_id}/resume", headers=supervisor)
    resumed = await eventually(lambda: (now := _opened(stack, major_id)) and len(now) >= len(at_pause) + 3 and now,
                               within=120)
    assert [child.seq for child in resumed] == list(range(len(resumed))), "from where it left off, none skipped"

    message = {"text": "Dear {name}, your refund of {amount} is on its way (ref {reference}). Sami",
               "agent_name": "Sami"}
    unsent = await stack.api.post(f"/major-incidents/{major_id}/messages", headers=supervisor, json=message)
    assert unsent.status_code == 409 and "only complaint recoveries" in unsent.text, "never silently unsent"

    cancel = await stack.api.post(f"/major-incidents/{major_id}/cancel", headers=supervisor,
                                  json={"reason": "declared in error"})
    assert cancel.status_code == 202, cancel.text
    ended = await eventually(lambda: (row := stack.rows(MajorIncidentRow, id=major_id)[0]).status == "cancelled"
                             and row, within=120)
    opened = _opened(stack, major_id)
    for child in opened:  # every reached customer answers after the cancel
        await stack.api.post(f"/cases/{child.case_id}/replies",
                             json={"channel": "sms", "text": "1", "sender": child.customer["phone"]})
    for child in opened:  # a loaded machine: each cancel is a signal and a few activities
        await until_closed(stack, child.case_id)
    assert {stack.case(child.case_id).outcome for child in opened} == {"cancelled"}
    assert not stack.ledger() and not stack.rows(RefundRow), "no child paid after the cancel"
    view = (await stack.api.get(f"/major-incidents/{major_id}", headers=supervisor)).json()
    assert view["progress"]["withdrawn"] == 40 - len(opened) > 0 and view["progress"]["refunded"] == 0
    assert ended.ended_at is not None
    more = await stack.api.post(f"/major-incidents/{major_id}/resume", headers=supervisor)
    assert more.status_code == 409, "an ended incident cannot be steered"


async def until_closed(stack: Stack, case_id: str) -> None:
    """Waits for a child the parent or a person closed; one that stays open fails with its workflow's history."""
    try:
        await eventually(lambda: stack.case(case_id).closed_at, within=120)
    except AssertionError as not_closed:
        raise AssertionError(f"{case_id} did not close; its history:\n{await stack.history(case_id)}") \
            from not_closed


def _opened(stack: Stack, major_id: str) -> list[AffectedCustomerRow]:
    return [child for child in children_of(stack, major_id) if child.state == "opened"]


async def test_a_message_reaches_every_open_child_and_closing_stops_those_not_reached(live_stack: Stack):
    """A complaint-style recovery: each child acknowledges its customer and waits for a person's reply, which the
    parent's one message, personalised per case, gives them all."""
    stack = live_stack
    supervisor = stack.key("sami.supervisor", Scope.cases_read, Scope.cases_act, Scope.cases_approve)
    till = stack.key("till", Scope.incidents_write, Scope.cases_read, kind=PrincipalKind.integrator)
    sales = three_hundred_sales()[0][:6]
    for one in sales[4:]:  # the till knew only these two customers' names
        one["customer"] = {"name": one["customer"]["name"]}
    for one in sales:
        await stack.api.post("/transactions", json=one, headers=till)
    major_id = (await stack.api.post("/major-incidents", json={**declaration(stack), "recovery": "complaint"},
                                     headers=till)).json()["id"]
    # Up to 2.00 EUR back and goodwill of three times that: the cap covers both (review M6).
    approved = await stack.api.post(f"/major-incidents/{major_id}/approvals", headers=supervisor,
                                    json={"cap": {"amount_minor": 800, "currency": "EUR"}})
    assert approved.status_code == 202, approved.text
    await eventually(lambda: all(stack.texts_to(phone(number)) for number in range(4)))
    await eventually(lambda: len(_opened(stack, major_id)) == 6)

    message = {"text": "Dear {name}, we found the cause at the till; your refund of {amount} is on its way "
                       "(ref {reference}). Sami", "agent_name": "Sami"}
    sent = await stack.api.post(f"/major-incidents/{major_id}/messages", headers=supervisor, json=message)
    assert sent.status_code == 202, sent.text
    for number in range(4):
        [told] = await eventually(lambda number=number: [text for text in stack.texts_to(phone(number))
                                                         if "we found the cause" in text.body])
        assert f"Asiakas{number}" in told.body and "{" not in told.body, "personalised, no blank left"

    closed = await stack.api.post(f"/major-incidents/{major_id}/close", headers=supervisor,
                                  json={"reason": "the till is fixed"})
    assert closed.status_code == 202, closed.text
    await eventually(lambda: stack.rows(MajorIncidentRow, id=major_id)[0].status == "closed")
    unreached = [child for child in _opened(stack, major_id) if not child.customer.get("phone")]
    for child in unreached:
        await until_closed(stack, child.case_id)
    reached = [child for child in _opened(stack, major_id) if child.customer.get("phone")]
    assert all(stack.case(child.case_id).closed_at is None for child in reached), "reached customers' cases go on"
    result = await stack.env.client.get_workflow_handle(major_id).result()
    assert (result["stopped"], result["withdrawn"], result["left_running"]) == (2, 0, 4)


async def test_erasing_a_customer_clears_what_the_till_and_the_incident_knew_of_them(live_stack: Stack):
    stack = live_stack
    supervisor = stack.key("sami.supervisor", Scope.cases_read, Scope.cases_act, Scope.cases_approve)
    await stack.api.post("/transactions", json=sale(0, SATURDAY + timedelta(hours=1), coffee=1))
    major_id = (await stack.api.post("/major-incidents", json=declaration(stack))).json()["id"]
    await stack.api.post(f"/major-incidents/{major_id}/approvals", headers=supervisor,
                         json={"cap": {"amount_minor": 500, "currency": "EUR"}})
    await eventually(lambda: stack.texts_to(phone(0)), within=120)
    [child] = _opened(stack, major_id)
    closing = await stack.api.post(f"/cases/{child.case_id}/close", json={"outcome": "resolved_by_hand",
                                                                           "reason": "paid at the desk"})
    assert closing.status_code < 300, closing.text
    await until_closed(stack, child.case_id)

    erased = await stack.api.post("/customers/erase", json={"name": "Asiakas0 Virtanen", "phone": phone(0),
                                                            "reason": "the customer's request"})
    assert erased.status_code == 200, erased.text
    [till_record] = stack.rows(TransactionRow)
    assert till_record.customer is None
    assert children_of(stack, major_id)[0].customer == {"name": "[erased]"}


async def steps_scheduled_after_the_pause(stack: Stack, major_id: str) -> int:
    """Fan-out steps (open_batch activities) the parent scheduled after the first steering signal (the pause)."""
    paused, steps, before = False, 0, 0
    async for event in stack.env.client.get_workflow_handle(workflow_id(major_id)).fetch_history_events():
        signalled = event.workflow_execution_signaled_event_attributes
        paused = paused or (event.HasField("workflow_execution_signaled_event_attributes")
                            and signalled.signal_name == "steer")
        scheduled = event.activity_task_scheduled_event_attributes
        step = event.HasField("activity_task_scheduled_event_attributes") and \
            scheduled.activity_type.name == MajorActivity.open_batch
        steps, before = steps + (step and paused), before + (step and not paused)
    assert paused and before >= 3, "the parent got the pause, after the steps that opened the first customers"
    return steps
