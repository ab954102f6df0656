"""Bad input to the console's pages and forms: a 4xx naming what is wrong, never a 500 (issue 14's review)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import event, update

from bench.incidents import TENANT as BENCH_TENANT
from bench.seed import seed_cases
from console.queue import LIVE_ROWS_UP_TO
from console.session import SESSION_COOKIE, SIGN_IN_COOKIE
from schemas.auth import AccountIn, Role
from store.accounts import create_account
from store.db import engine_for, session_for
from store.sessions import sign_in
from store.tables import CaseRow
from tests.harness import TENANT, Stack
from tests.test_auth import CONSOLE
from tests.test_console_auth import PASSWORD, client, session_of

OUT_OF_YEARS = [
    ("GET", f"{CONSOLE}/?opened_to=9999-12-31"),
    ("GET", f"{CONSOLE}/?opened_from=0001-01-01"),
    ("GET", f"{CONSOLE}/figures?end=9999-12-31"),
    ("GET", f"{CONSOLE}/figures.csv?end=9999-12-31"),
    ("GET", f"{CONSOLE}/figures?end=0001-01-05"),
    ("POST", f"{CONSOLE}/queue/fresh?since=0001-01-01T00:00:00%2B00:00~x"),
    ("POST", f"{CONSOLE}/queue/fresh?since=9999-12-31T23:59:59%2B00:00~x"),
    ("POST", f"{CONSOLE}/queue/fresh?since=2026-01-01T00:00:00~x"),
    ("POST", f"{CONSOLE}/queue/fresh?checked=0001-01-01T00:00:00%2B00:00"),
]


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page)[1]


async def test_a_day_outside_the_kept_years_is_refused_not_a_500(live_stack: Stack):
    token = session_of(live_stack, TENANT, "dates.supervisor")
    async with client(live_stack, token) as browser:
        csrf = csrf_of((await browser.get(f"{CONSOLE}/")).text)
        for method, url in OUT_OF_YEARS:
            answer = await browser.request(method, url, data={"csrf": csrf} if method == "POST" else None)
            assert answer.status_code == 422, (url, answer.status_code, answer.text[:200])
            assert re.search(r"opened_to|opened_from|end|since|checked", answer.text), (url, answer.text[:200])


async def test_an_inbox_form_out_of_range_is_refused_not_a_500(live_stack: Stack):
    """A reply's id beyond what the database holds, an overlong case, an overlong `attached`: 422 each."""
    token = session_of(live_stack, TENANT, "inbox.supervisor")
    async with client(live_stack, token) as browser:
        csrf = csrf_of((await browser.get(f"{CONSOLE}/inbox?attached=case-none")).text)
        for url, form in [(f"{CONSOLE}/inbox/{2**70}/attach", {"case": "ABCDEF12"}),
                          (f"{CONSOLE}/inbox/0/attach", {"case": "ABCDEF12"}),
                          (f"{CONSOLE}/inbox/1/attach", {"case": "x" * 300})]:
            answer = await browser.post(url, data={"csrf": csrf, **form})
            assert answer.status_code == 422, (url, answer.status_code, answer.text[:200])
        assert (await browser.get(f"{CONSOLE}/inbox?attached={'x' * 65}")).status_code == 422


@pytest.mark.parametrize("sent", ["ä" * 64, "\u2028"])
async def test_a_non_ascii_csrf_value_is_a_403_not_a_500(live_stack: Stack, sent: str):
    token = session_of(live_stack, TENANT, "csrf.supervisor")
    async with client(live_stack, token) as browser:
        assert (await browser.post(f"{CONSOLE}/sign-out", data={"csrf": sent})).status_code == 403
    async with client(live_stack) as nobody:
        await nobody.get(f"{CONSOLE}/sign-in")
        answer = await nobody.post(f"{CONSOLE}/sign-in", data={"email": "csrf.supervisor@example.com",
                                                               "password": "x", "csrf": sent})
        assert answer.status_code == 403 and "expired" in answer.text


async def sign_in_through(browser, location: str) -> str:
    """Follow a sign-in address as a browser does: the form, then the post; where it leads afterwards."""
    form = (await browser.get(location)).text
    answer = await browser.post(f"{CONSOLE}/sign-in", data={
        "email": "back.supervisor@example.com", "password": PASSWORD, "csrf": csrf_of(form),
        "next": re.search(r'name="next" value="([^"]*)"', form)[1].replace("&amp;", "&")})
    assert answer.status_code == 303, answer.text[:200]
    return answer.headers["location"]


async def test_signing_in_again_returns_to_the_page_the_person_was_on(live_stack: Stack):
    """Not to the POST-only address a poll or form was sent to (a 405 after signing in), with the filters kept."""
    session_of(live_stack, TENANT, "back.supervisor")
    filtered = f"{CONSOLE}/?owner=mine&priority=high"
    async with client(live_stack) as browser:
        bookmarked = await browser.get(filtered)
        assert bookmarked.status_code == 303
        assert await sign_in_through(browser, bookmarked.headers["location"]) == filtered

    async with client(live_stack) as browser:
        poll = await browser.post(f"{CONSOLE}/queue/fresh?since=", data={"csrf": "x"}, headers={
            "HX-Request": "true", "HX-Current-URL": f"http://elsewhere.example{filtered}"})
        assert poll.status_code == 401
        assert await sign_in_through(browser, poll.headers["hx-redirect"]) == filtered

    async with client(live_stack) as browser:
        reply = await browser.post(f"{CONSOLE}/cases/case-123/reply", data={"csrf": "x", "text": "a draft"})
        assert reply.status_code == 303
        assert await sign_in_through(browser, reply.headers["location"]) == f"{CONSOLE}/cases/case-123"


async def test_signing_in_again_ends_the_earlier_session_and_stale_tabs_reload(live_stack: Stack):
    """An earlier session is not left valid beside the new one; a tab still holding its CSRF token reloads (htmx)
    or is told so on a page (a plain form), never silently 403 on every poll nor raw JSON."""
    earlier = session_of(live_stack, TENANT, "back.supervisor")
    async with client(live_stack, earlier) as browser:
        stale_csrf = csrf_of((await browser.get(f"{CONSOLE}/")).text)
        form = (await browser.get(f"{CONSOLE}/sign-in")).text
        again = await browser.post(f"{CONSOLE}/sign-in", data={
            "email": "back.supervisor@example.com", "password": PASSWORD, "csrf": csrf_of(form)})
        assert again.status_code == 303
        now = again.cookies[SESSION_COOKIE]
    async with client(live_stack, earlier) as old_tab:
        assert (await old_tab.get(f"{CONSOLE}/")).status_code == 303, "the earlier session has ended"
    async with client(live_stack, now) as tab:
        poll = await tab.post(f"{CONSOLE}/queue/fresh?since=", data={"csrf": stale_csrf},
                              headers={"HX-Request": "true", "HX-Current-URL": f"http://api{CONSOLE}/"})
        assert poll.status_code == 403 and poll.headers["hx-refresh"] == "true"
        note = await tab.post(f"{CONSOLE}/cases/case-123/note", data={"csrf": stale_csrf, "text": "a note"})
        assert note.status_code == 403 and note.headers["content-type"].startswith("text/html")
        assert "CSRF" in note.text and f'href="{CONSOLE}/cases/case-123"' in note.text


async def test_the_session_cookie_is_secure_when_the_public_address_is_https(live_stack: Stack):
    """Behind a load balancer ending TLS the request arrives as http: the public address decides."""
    session_of(live_stack, TENANT, "back.supervisor")
    live_stack.app.state.settings = live_stack.settings.model_copy(update={"public_base_url": "https://console.example"})
    async with client(live_stack) as browser:
        form = await browser.get(f"{CONSOLE}/sign-in")
        assert "secure" in form.headers["set-cookie"].lower()
        nonce = csrf_of(form.text)  # httpx keeps a Secure cookie from a http answer but sends it over https only
        signed_in = await browser.post(f"{CONSOLE}/sign-in", headers={"Cookie": f"{SIGN_IN_COOKIE}={nonce}"}, data={
            "email": "back.supervisor@example.com", "password": PASSWORD, "csrf": nonce})
        cookie = next(value for value in signed_in.headers.get_list("set-cookie") if value.startswith(SESSION_COOKIE))
        assert "secure" in cookie.lower() and "httponly" in cookie.lower()


async def test_console_answers_are_not_cached_nor_framed(live_stack: Stack):
    token = session_of(live_stack, TENANT, "back.supervisor")
    async with client(live_stack, token) as browser, client(live_stack) as nobody:
        answers = [await browser.get(f"{CONSOLE}/"), await browser.get(f"{CONSOLE}/figures"),
                   await browser.get(f"{CONSOLE}/cases/case-unknown"), await nobody.get(f"{CONSOLE}/sign-in")]
        for answer in answers:
            assert answer.headers["cache-control"] == "no-store", answer.url
            assert answer.headers["x-frame-options"] == "DENY", answer.url
            assert "frame-ancestors 'none'" in answer.headers["content-security-policy"], answer.url
        assert "x-frame-options" not in (await nobody.get("/healthz")).headers, "the API's own routes unchanged"


async def test_the_live_poll_runs_no_count(live_stack: Stack):
    """_fresh.html shows no count, so a poll (every second per open queue) does not pay for one."""
    token = session_of(live_stack, TENANT, "back.supervisor")
    statements: list[str] = []

    def seen(_connection, _cursor, statement, *_rest) -> None:
        statements.append(statement.lower())

    engine = engine_for(live_stack.settings.database_url)
    async with client(live_stack, token) as browser:
        csrf = csrf_of((await browser.get(f"{CONSOLE}/")).text)
        event.listen(engine, "before_cursor_execute", seen)
        try:
            poll = await browser.post(f"{CONSOLE}/queue/fresh?since=", data={"csrf": csrf})
        finally:
            event.remove(engine, "before_cursor_execute", seen)
    assert poll.status_code == 200
    assert any("from cases" in statement for statement in statements), statements
    assert not any("count(" in statement for statement in statements), statements


@pytest.mark.parametrize("role", [Role.admin, Role.dpo])
async def test_a_role_the_console_is_not_for_gets_a_page_saying_so(live_stack: Stack, role: Role):
    """Not the API's raw JSON 403: a page in the console's frame with the reason, and a way to sign out."""
    with session_for(live_stack.settings.database_url) as session:
        create_account(session, TENANT, AccountIn(id=f"the.{role}", display_name=f"The {role}",
                                                  email=f"the.{role}@example.com", roles={role}, password=PASSWORD))
        token = sign_in(session, f"the.{role}@example.com", PASSWORD)
    async with client(live_stack, token) as browser:
        for page in (f"{CONSOLE}/", f"{CONSOLE}/figures", f"{CONSOLE}/inbox"):
            answer = await browser.get(page)
            assert answer.status_code == 403 and answer.headers["content-type"].startswith("text/html"), page
            assert 'action="/console/sign-out"' in answer.text and "<h1>" in answer.text, page


async def test_a_burst_of_more_than_a_page_between_two_polls_shows_every_case(live_stack: Stack):
    """The poll pages through what arrived: the older ones of a burst are not skipped when the marker moves on."""
    token = session_of(live_stack, BENCH_TENANT, "burst.supervisor")
    url, now = live_stack.settings.database_url, datetime.now(UTC)
    since = f"{(now - timedelta(minutes=1)).isoformat()}~"
    burst = seed_cases(url, 70, now)
    with engine_for(url).begin() as connection:
        for number, case_id in enumerate(burst):
            connection.execute(update(CaseRow).where(CaseRow.id == case_id).values(
                opened_at=now + timedelta(milliseconds=number), status="open", closed_at=None))
    async with client(live_stack, token) as browser:
        csrf = csrf_of((await browser.get(f"{CONSOLE}/")).text)
        poll = await browser.post(f"{CONSOLE}/queue/fresh", params={"since": since}, data={"csrf": csrf})
    assert poll.status_code == 200
    assert set(re.findall(r'data-case="([^"]+)"', poll.text)) == set(burst)


def poller_of(page: str) -> tuple[str, dict]:
    """What the page's poller posts, and where, as htmx sends it (its hx-vals)."""
    url = unescape(re.search(r'hx-post="([^"]+)"', page)[1])
    return url, json.loads(unescape(re.search(r"hx-vals='([^']+)'", page)[1]))


async def test_a_live_page_past_a_thousand_rows_keeps_polling_then_says_to_reload(live_stack: Stack):
    """The poll names every row the page shows in one field of the poller's own (Starlette refuses a form of more
    than 1,000 fields, which a page of 1,100 rows posting a field per row hit): 1,100 arrivals are followed; a page
    past LIVE_ROWS_UP_TO rows gets a notice to reload instead of a poller (review of console-rest, 3)."""
    token = session_of(live_stack, BENCH_TENANT, "many.supervisor")
    url, now = live_stack.settings.database_url, datetime.now(UTC)

    seeded = seed_cases(url, 1200, now)  # closed: not in the open queue until they "arrive"

    def arrive(cases: list[str], at: datetime) -> list[str]:
        with engine_for(url).begin() as connection:
            for number, case_id in enumerate(cases):
                connection.execute(update(CaseRow).where(CaseRow.id == case_id).values(
                    opened_at=at + timedelta(milliseconds=number), status="open", closed_at=None))
        return cases

    async with client(live_stack, token) as browser:
        page = (await browser.get(f"{CONSOLE}/")).text
        arrived: list[str] = []
        for burst in (seeded[:900], seeded[900:], []):  # 1,200 rows on the page: the last poll names each of them
            arrived += arrive(burst, now + timedelta(minutes=len(arrived) + 1))
            where, form = poller_of(page)
            answer = await browser.post(where, data=form, headers={"HX-Request": "true"})
            assert answer.status_code == 200, answer.text[:300]
            page = answer.text
        assert set(poller_of(page)[1]["shown"].split(",")) == set(arrived)
        where, form = poller_of(page)
        too_many = ",".join(f"case-{number}" for number in range(LIVE_ROWS_UP_TO + 1))
        answer = await browser.post(where, data={**form, "shown": too_many}, headers={"HX-Request": "true"})
    assert answer.status_code == 200 and 'id="live-stopped"' in answer.text and "hx-post" not in answer.text
    assert "Reload it" in answer.text


async def test_a_new_case_without_its_deadline_yet_is_new_in_the_most_urgent_view_not_outside(live_stack: Stack):
    """Its deadline is written a moment after it opens: meanwhile it is marked new, not also "outside this view"
    (review of console-rest, 7). Once it changes and still has none, the poll marks it outside like any row."""
    token = session_of(live_stack, BENCH_TENANT, "urgent.supervisor")
    url, now = live_stack.settings.database_url, datetime.now(UTC)
    [case_id] = seed_cases(url, 1, now)
    async with client(live_stack, token) as browser:
        page = (await browser.get(f"{CONSOLE}/?order=urgent_first")).text
        with engine_for(url).begin() as connection:
            connection.execute(update(CaseRow).where(CaseRow.id == case_id).values(
                opened_at=now + timedelta(seconds=1), status="open", closed_at=None, sla_due_at=None))
        where, form = poller_of(page)
        answer = await browser.post(where, data=form, headers={"HX-Request": "true"})
    row = re.search(rf'<tr id="row-{case_id}".*?</tr>', answer.text, re.DOTALL)[0]
    assert "tag-new" in row and "outside this view" not in row, row
