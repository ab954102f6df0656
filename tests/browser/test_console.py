"""The console as supervisors use it, in Chromium: sign in and out, the queue (filters in the URL, a new case
appearing live), a case's story, a reveal on the record, a personal reply refused then sent, and four eyes on
the approval, ending with the refund on the page. Every action goes through the API's own rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from playwright.async_api import Browser, Locator, Page, expect
from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from schemas.auth import PrincipalKind, Scope
from settings import Settings
from store.db import session_for
from store.tables import AccessRecordRow, MessageRow, StaffSessionRow
from tests.browser.conftest import (
    OWNER,
    PASSWORD,
    SCREENSHOTS,
    SECOND,
    Console,
    add_staff,
    serious_violations,
    sign_in,
)
from tests.harness import Stack, eventually, serving, sign_email
from tests.scenarios.test_s1_till_overcharge import PHONE as TILL_PHONE
from tests.scenarios.test_s1_till_overcharge import till_record
from tests.scenarios.test_s3_s4_complaints import PHONE, complaint, personal_reply
from tests.test_exactly_once import RefusingPayments
from worker import Providers, sandbox_providers

NOT_PERSONAL = "Thank you for your feedback. We will look into it."


async def test_signing_in_and_out(console: Console):
    page = await console.browser.new_page(base_url=console.base_url)
    await sign_in(page, f"{OWNER}@example.com", "not the password")
    await expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")

    await sign_in(page, f"{OWNER}@example.com", PASSWORD)
    await expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    [cookie] = [c for c in await page.context.cookies() if c["name"] == "console_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/console"

    forged = await page.request.post("/console/sign-out", form={"csrf": "not the token"})
    assert forged.status == 403 and "CSRF" in await forged.text(), "a form without our token does nothing"
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.goto("/console/")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


async def test_an_idle_session_ends(console: Console):
    """Even on an open queue, whose live poll is not a person's use: the next poll finds the session gone and the
    page goes to the sign-in form by itself."""
    page = await console.person(OWNER)
    with session_for(console.stack.settings.database_url) as session:
        for row in session.exec(select(StaffSessionRow)).all():
            row.last_seen_at -= timedelta(minutes=31)
            session.add(row)
        session.commit()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    # Signing in again leads back to the queue, not to the poll's POST-only address (a 405 page).
    await page.get_by_label("Email").fill(f"{OWNER}@example.com")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Queue")).to_be_visible()


async def test_queue_case_reveal_reply_and_four_eyes(console: Console):
    stack = console.stack
    sari = await console.person(OWNER)
    await sari.goto("/console/?owner=mine")

    watcher = await sari.context.new_page()  # a second tab on the open queue, never reloaded
    await watcher.goto("/console/")
    await expect(watcher.locator("#count")).to_contain_text("0 cases")

    # A new case appears in the open queue, at the top, without a reload.
    case_id = (await stack.api.post("/incidents", json=complaint("tweet-9101", owner=OWNER))).json()["case_id"]
    await expect(watcher.locator(f"#row-{case_id}")).to_contain_text("Jari Virtanen")
    reference = stack.case(case_id).reference
    row = sari.locator(f"tr[data-case='{case_id}']")
    await expect(row).to_contain_text(reference)
    await expect(row).to_contain_text("Jari Virtanen")
    await expect(row).to_contain_text(re.compile(r"14[.,]00"))
    await expect(row.locator(".sla")).to_contain_text(re.compile("On track|At risk|Breached|Paused"))

    # Filters live in the URL: a bookmarked view shows the same rows.
    await sari.get_by_label("Type").select_option("complaint")  # option values are the API's
    await sari.get_by_role("button", name="Apply").click()
    await expect(sari).to_have_url(re.compile(r"kind=complaint.*owner=mine|owner=mine.*kind=complaint"))
    await expect(row).to_be_visible()
    await sari.goto("/console/?owner=unowned")
    await expect(sari.locator("#count")).to_contain_text("0 cases")
    today = datetime.now(UTC).date().isoformat()
    await sari.goto(f"/console/?source=social_media&priority=high&opened_from={today}&opened_to={today}")
    await expect(row).to_be_visible()
    await sari.goto("/console/?source=till")
    await expect(sari.locator("#count")).to_contain_text("0 cases")
    await sari.goto("/console/?order=urgent_first")  # cases with an open deadline, the nearest first
    await expect(row).to_contain_text("On track")
    await sari.goto("/console/?owner=mine&kind=complaint")
    await expect(sari.get_by_role("row", name=re.compile(reference))).to_be_visible()
    assert await serious_violations(sari) == [], "axe on the queue"
    await sari.screenshot(path=str(SCREENSHOTS / "queue.png"), full_page=True)
    await sari.set_viewport_size({"width": 390, "height": 844})  # a phone: filters stack, the table scrolls
    await expect(sari.get_by_role("button", name="Apply")).to_be_in_viewport()
    assert await serious_violations(sari) == [], "axe on the queue on a phone"
    await sari.screenshot(path=str(SCREENSHOTS / "queue-phone.png"))
    await sari.set_viewport_size({"width": 1360, "height": 900})

    # The case: its story, and the phone number masked until revealed for a purpose, on the record.
    await sari.get_by_role("link", name=reference).click()
    await expect(sari.get_by_role("heading", name=f"Case {reference}")).to_be_visible()
    await expect(sari.locator("#timeline")).to_contain_text("complaint incident reported by social_media")
    await expect(sari.locator("#contact-phone")).to_have_text("+358 *** 21")
    await sari.get_by_label("Purpose").fill("calling the customer back about the refund")
    await sari.get_by_role("button", name="Reveal").click()
    await expect(sari.locator("#contact-phone")).to_have_text(PHONE)
    await expect(sari.locator("#reveal-recorded")).to_contain_text("This read is recorded")
    [record] = stack.rows(AccessRecordRow, case_id=case_id)
    assert (record.actor, record.purpose, record.flagged) == (OWNER, "calling the customer back about the refund",
                                                             False)

    # A reply that is not personal is refused with the check's reasons beside it; a personal one is sent.
    reply = sari.get_by_label("Reply", exact=True)
    await reply.fill(NOT_PERSONAL)
    await sari.get_by_label("Signed by").fill("Sari")
    await sari.get_by_role("button", name="Send reply").click()
    await expect(sari.locator("#reply-errors")).to_contain_text("it does not name the customer (Jari)")
    await expect(sari.locator("#reply-errors")).to_contain_text("it states no fact of this case")
    await expect(reply).to_have_value(NOT_PERSONAL)  # the draft is kept for the agent to fix
    await reply.fill(personal_reply("Sari")["text"])
    await sari.get_by_role("button", name="Send reply").click()
    await expect(sari.get_by_role("status")).to_have_text("Your reply is on its way to the customer.")

    # Four eyes: the owner gets no approve button, with the reason; a forced post is refused by the API's rule.
    await eventually(lambda: stack.case(case_id).status == "waiting_on_approval", within=60)
    await expect(watcher.locator(f"#row-{case_id}")).to_contain_text("waiting on approval")  # changed in place
    await sari.reload()
    await expect(sari.locator("#no-approval")).to_contain_text("owns the case and cannot decide on it (four eyes)")
    await expect(sari.get_by_role("button", name="Approve")).to_have_count(0)
    assert await serious_violations(sari) == [], "axe on the case page"
    await sari.screenshot(path=str(SCREENSHOTS / "case.png"), full_page=True)
    forced = await sari.request.post(f"/console/cases/{case_id}/decision", form={
        "csrf": await csrf_of(sari), "decision": "approve", "reason": "my own case, forced"})
    assert forced.status == 409 and "owns the case" in await forced.text()
    assert stack.refunds(case_id) == []

    # A second supervisor approves; the refund appears on the case with its ledger reference.
    sami = await console.person(SECOND)
    await sami.goto(f"/console/cases/{case_id}")
    await sami.get_by_label("Reason", exact=True).fill("clear billing error")
    await sami.get_by_role("button", name="Approve").click()
    await expect(sami.get_by_role("status")).to_have_text("Your decision is recorded.")
    [refund] = await eventually(lambda: stack.refunds(case_id), within=60)
    await sami.reload()
    await expect(sami.locator("#refunds")).to_contain_text(refund.provider_ref)
    await expect(sami.locator("#timeline")).to_contain_text(f"approved by {SECOND}: clear billing error")


async def test_the_most_urgent_view_is_live_and_rows_that_leave_a_view_are_marked(console: Console):
    """New cases come on top of the most-urgent view, marked new (not sorted in under the cursor); a case handed to
    someone else leaves "mine" and one withdrawn leaves the open view: each stays where it stands, marked."""
    stack = console.stack
    first = (await stack.api.post("/incidents", json=complaint("tweet-9601", owner=OWNER))).json()["case_id"]
    await eventually(lambda: stack.case(first).sla_due_at, within=60)
    sari = await console.person(OWNER)
    await sari.goto("/console/?order=urgent_first&owner=mine")
    rows = sari.locator("#rows tr[data-case]")
    await expect(rows).to_have_count(1)
    everything = await sari.context.new_page()  # the open view, newest first
    await everything.goto("/console/")
    await expect(everything.locator(f"#row-{first}")).to_be_visible()

    second = (await stack.api.post("/incidents", json=complaint("tweet-9602", owner=OWNER))).json()["case_id"]
    await expect(sari.locator(f"#row-{second} .tag-new")).to_have_text("new")
    await expect(rows.first).to_have_attribute("data-case", second)  # on top, not sorted in among the rows read
    await expect(sari.locator(f"#row-{second}")).not_to_have_class("outside")  # once it has its deadline

    handed = await stack.api.post(f"/cases/{first}/assign", json={"owner": "duty.manager",
                                                                  "reason": "duty manager knows the customer"})
    assert handed.status_code == 202, handed.text
    await expect(sari.locator(f"#row-{first} .tag-outside")).to_have_text("outside this view")
    await expect(sari.locator(f"#row-{first}")).to_contain_text("duty.manager")  # updated, not dropped
    assert [await row.get_attribute("data-case") for row in await rows.all()] == [second, first], "nothing moved"
    await expect(sari.locator(f"#row-{second} .tag-new")).to_be_visible()  # still marked after its own changes
    await expect(everything.locator(f"#row-{first} .tag-outside")).to_have_count(0)  # still open: still in view
    assert await serious_violations(sari) == [], "axe on the live most-urgent view"

    withdrawn = await stack.api.post(f"/cases/{first}/cancel", json={"reason": "reported by mistake"})
    assert withdrawn.status_code == 202, withdrawn.text
    await expect(everything.locator(f"#row-{first} .tag-outside")).to_have_text("outside this view")
    await expect(everything.locator(f"#row-{first}")).to_contain_text("closed")
    await expect(everything.locator(f"#row-{second} .tag-outside")).to_have_count(0)


async def csrf_of(page: Page) -> str:
    return await page.locator("input[name=csrf]").first.input_value()


async def test_steering_a_case_from_its_page(console: Console):
    """A note, a hand-over with a reason, a priority because it went public, the customer's answer from the phone,
    and closing by hand: each lands on the case through its API route, and the page shows it."""
    stack = console.stack
    case_id = (await stack.api.post("/incidents", json=complaint("form-9201", source="feedback_form"))).json()[
        "case_id"]
    sari = await console.person(OWNER)
    await sari.goto(f"/console/cases/{case_id}")

    await sari.get_by_label("Note (staff only, never sent)").fill("Customer called twice already")
    await sari.get_by_role("button", name="Add note").click()
    await expect(sari.get_by_role("status")).to_have_text("Your note is on the timeline.")
    await expect(sari.locator("#timeline")).to_contain_text("Customer called twice already")

    await sari.get_by_label("New owner").select_option("duty.manager")
    await sari.get_by_label("Reason for the hand-over").fill("Duty manager knows the customer")
    await sari.get_by_role("button", name="Reassign").click()
    await expect(sari.get_by_role("status")).to_have_text("The case has a new owner.")
    await eventually(lambda: stack.case(case_id).owner == "duty.manager", within=60)

    await sari.get_by_label("This went public").check()
    await sari.get_by_label("Reason for the change").fill("the customer posted it on social media")
    await sari.get_by_role("button", name="Change priority").click()
    await expect(sari.get_by_role("status")).to_contain_text("The priority is changed")
    await eventually(lambda: stack.case(case_id).priority == "high", within=60)

    await sari.get_by_label("What the customer said").fill("Thanks, that sorts it out")
    await sari.get_by_role("button", name="Record answer").click()
    await expect(sari.get_by_role("status")).to_have_text("The customer's answer is recorded on the case.")

    await sari.get_by_label("Outcome").select_option("resolved_by_hand")
    await sari.get_by_label("Reason for closing or withdrawing").fill("refunded at the service desk")
    await sari.get_by_role("button", name="Close case").click()
    await expect(sari.get_by_role("status")).to_have_text("The case closes at its next safe point.")
    await eventually(lambda: stack.case(case_id).status == "closed", within=60)
    await sari.reload()
    await expect(sari.locator("#case-status")).to_contain_text("closed (resolved by hand)")
    await expect(sari.locator("#timeline")).to_contain_text("Duty manager knows the customer")
    assert await serious_violations(sari) == [], "axe on a closed case"


async def test_recovery_figures_for_a_period(console: Console):
    """The table, and charts per type, per first-contact channel and per source, durations as median and p90."""
    stack = console.stack
    case_id = (await stack.api.post("/incidents", json=complaint("form-9301", source="feedback_form"))).json()[
        "case_id"]
    await eventually(lambda: stack.case(case_id).first_contact_at, within=60)  # the acknowledgement went out
    sari = await console.person(OWNER)
    await sari.get_by_role("link", name="Figures").click()
    await expect(sari.get_by_role("heading", name="Recovery figures")).to_be_visible()
    overall = sari.get_by_role("row", name=re.compile("All cases"))
    await expect(overall.get_by_role("cell").nth(1)).to_have_text("1")
    await expect(sari.get_by_role("row", name=re.compile("Type complaint"))).to_be_visible()
    await expect(sari.get_by_role("img", name=re.compile("Share recovered, per type: complaint"))).to_be_visible()
    for per, group in (("per type", "complaint"), ("per channel", "sms"), ("per source", "feedback form")):
        await expect(sari.get_by_role("img", name=f"SLA compliance, {per}: {group} —")).to_be_visible()
        await expect(sari.get_by_role("img", name=f"Time to refund, {per} (median / p90): {group} — / —")) \
            .to_be_visible()  # no refund yet: no bar, and a dash rather than a zero
        contact = sari.get_by_role("img", name=re.compile(
            rf"^Time to first contact, {per} \(median \/ p90\): {group} [\d.]+ (s|min) \/ [\d.]+ (s|min)$"))
        await expect(contact.locator("rect")).to_have_count(3)  # the track, the p90, the median over it
        assert await contact.locator("rect").nth(1).get_attribute("width") == "170.0", "the longest p90 fills it"
    await expect(sari.get_by_role("heading", name="Per channel")).to_be_visible()
    assert await serious_violations(sari) == [], "axe on the figures page"
    await sari.screenshot(path=str(SCREENSHOTS / "figures.png"), full_page=True)

    download = await sari.request.get(await sari.get_by_role("link", name="Download CSV").get_attribute("href"))
    rows = (await download.text()).splitlines()
    assert download.headers["content-type"].startswith("text/csv")
    assert rows[0].startswith("section,group,opened,closed") and "Type,complaint,1," in (await download.text())


async def test_unmatched_replies_inbox_and_attaching_one_to_its_case(console: Console):
    """A signed email that matches no case is listed masked; attached with a reference that names no case it is
    refused beside its form (the reference kept), then attached by the case's reference: it leaves the inbox and
    the case's timeline says who attached it."""
    stack = console.stack
    case_id = (await stack.api.post("/incidents", json=complaint("form-9401", source="feedback_form"))).json()[
        "case_id"]
    reference = stack.case(case_id).reference
    sari, message = await inbox_with_an_emailed_reply(console, "Where is my money? Pay FI2112345600000785", "m-7")
    await expect(message).to_contain_text("s***@example.fi")
    # How old it is, and that its sender is no open case's customer: an agent sees both before attaching it.
    await expect(message).to_contain_text(re.compile(r"\(\d+ min old\)"))
    await expect(message).to_contain_text("the customer of no open case")
    await expect(message).not_to_contain_text("FI2112345600000785")
    assert await serious_violations(sari) == [], "axe on the inbox"

    # Each Attach button is named after its message (sender and time): a list of buttons read out says which is which.
    name = await message.get_by_role("button", name="Attach").evaluate(
        "button => button.getAttribute('aria-labelledby').split(' ').map("
        "id => document.getElementById(id).textContent.trim()).join(' ')")
    assert name.startswith("Attach s***@example.fi ") and len(name) > len("Attach s***@example.fi "), name
    await message.get_by_label("Case reference").fill("0BADC0DE")
    await message.get_by_role("button", name="Attach").click()
    await expect(message.get_by_role("alert")).to_contain_text("no case 0BADC0DE")
    await expect(message.get_by_label("Case reference")).to_have_value("0BADC0DE")
    assert await serious_violations(sari) == [], "axe on the inbox with a refusal"
    await message.get_by_label("Case reference").fill(reference.lower())
    await message.get_by_role("button", name="Attach").click()
    await expect(sari.get_by_role("status")).to_have_text(f"The reply is on case {reference}.")
    await expect(sari.get_by_text("No unmatched replies.")).to_be_visible()

    await sari.get_by_role("link", name=reference).click()
    await expect(sari.locator("#timeline")).to_contain_text(f"attached to this case by {OWNER}")
    assert stack.rows(MessageRow, case_id=case_id, direction="in")[0].body.startswith("Where is my money?")


async def inbox_with_an_emailed_reply(console: Console, text: str, message_id: str) -> tuple[Page, Locator]:
    """A signed email from someone@example.fi that matches no case, and the owner's inbox showing it (its row)."""
    stack = console.stack
    content, signed = sign_email(stack.settings, {"sender": "someone@example.fi", "subject": "about my case",
                                                  "text": text, "message_id": message_id})
    carrier = stack.key("gateway", Scope.messages_inbound, kind=PrincipalKind.carrier)
    assert (await stack.api.post("/webhooks/email", content=content, headers={**carrier, **signed})).status_code == 202
    sari = await console.person(OWNER)
    await sari.get_by_role("link", name="Unmatched replies").click()
    message = sari.locator("#unmatched tbody tr").first
    await expect(message).to_contain_text(text.split(" Pay")[0])
    return sari, message


async def test_confirming_a_refund_paid_by_hand(dev_server: WorkflowEnvironment, settings: Settings, browser: Browser):
    providers = Providers(payments=RefusingPayments(settings.database_url), senders=sandbox_providers(settings).senders)
    async with Stack.running(dev_server, settings, providers) as stack:
        add_staff(stack)
        async with serving(stack.app) as base_url:
            console = Console(base_url=base_url, stack=stack, browser=browser)
            case_id = (await stack.api.post("/transactions", json=till_record())).json()["case"]["case_id"]
            await eventually(lambda: stack.texts_to(TILL_PHONE), within=60)
            await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": "1"})
            await eventually(lambda: stack.case(case_id).status == "needs_attention", within=60)

            sari = await console.person(OWNER)
            await sari.goto(f"/console/cases/{case_id}")
            await expect(sari.locator("#timeline")).to_contain_text("card account closed")
            await expect(sari.get_by_label("We paid it by hand")).to_be_checked()  # the API's default, paid_by by_hand
            await expect(sari.get_by_label("The provider paid it after all")).not_to_be_checked()
            await sari.get_by_label("Payment reference").fill("NDEA-2026-11-30-0042")
            await sari.get_by_role("button", name="Confirm the refund was paid by hand").click()
            await expect(sari.get_by_role("status")).to_have_text("The hand payment is confirmed; the case goes on.")
            thanks = await eventually(lambda: stack.texts_to(TILL_PHONE)[1:], within=60)
            assert "refunded" in thanks[0].body
            await sari.reload()
            await expect(sari.locator("#timeline")).to_contain_text(f"paid by hand by {OWNER}")
            await expect(sari.get_by_role("button", name="Confirm the refund was paid by hand")).to_have_count(0)


@dataclass(frozen=True)
class Speaking:
    """What a language's sign-in and queue say, as the tests look for them."""

    locale: str
    sign_in: str
    email: str
    password: str
    queue: str
    complaint: str
    badges: str


FINNISH = Speaking("fi-FI", "Kirjaudu sisään", "Sähköposti", "Salasana", "Jono", "valitus",
                   "Aikataulussa|Vaarassa|Myöhässä|Tauolla")
SWEDISH = Speaking("sv-FI", "Logga in", "E-post", "Lösenord", "Kö", "klagomål", "Enligt plan|I fara|Överskriden|Pausad")


async def queue_speaking(console: Console, language: Speaking, external_id: str) -> tuple[Page, Locator]:
    """A browser asking for `language` signs in and reads a new complaint's row in the queue in it (money as the
    language writes it, `<html lang>`), axe clean."""
    case_id = (await console.stack.api.post("/incidents", json=complaint(external_id, owner=OWNER))).json()[
        "case_id"]
    context = await console.browser.new_context(base_url=console.base_url, locale=language.locale)
    page = await context.new_page()
    await page.goto("/console/")
    await expect(page.get_by_role("heading", name=language.sign_in)).to_be_visible()
    await page.get_by_label(language.email).fill(f"{OWNER}@example.com")
    await page.get_by_label(language.password).fill(PASSWORD)
    await page.get_by_role("button", name=language.sign_in).click()
    await expect(page.get_by_role("heading", name=language.queue)).to_be_visible()
    row = page.locator(f"#row-{case_id}")
    await expect(row).to_contain_text(language.complaint)
    await expect(row).to_contain_text("14,00\u00a0€")
    await expect(row.locator(".sla")).to_contain_text(re.compile(language.badges))
    assert await page.get_attribute("html", "lang") == language.locale[:2]
    assert await serious_violations(page) == [], f"axe on the queue in {language.locale}"
    return page, row


async def test_the_queue_in_finnish(console: Console):
    """A browser asking for Finnish gets the frame, sign-in, the queue and the case page in Finnish, money as Finns
    write it. (The check's reasons are the API's words, in English.)"""
    page, row = await queue_speaking(console, FINNISH, "tweet-9501")
    await page.screenshot(path=str(SCREENSHOTS / "queue-fi.png"))

    await row.get_by_role("link").click()
    await expect(page.get_by_role("heading", name=re.compile("^Tapaus "))).to_be_visible()
    await expect(page.get_by_role("heading", name="Henkilökohtainen vastaus")).to_be_visible()
    await page.get_by_label("Vastaus", exact=True).fill("Kiitos palautteesta.")
    await page.get_by_role("button", name="Lähetä vastaus").click()
    await expect(page.locator("#reply-errors")).to_contain_text("Ei tehty:")
    assert await serious_violations(page) == [], "axe on the Finnish case page"
    await page.get_by_role("link", name="Luvut").click()
    await expect(page.get_by_role("heading", name="Palautuksen luvut")).to_be_visible()
    await expect(page.get_by_role("row", name=re.compile("Kaikki tapaukset"))).to_be_visible()
    assert await serious_violations(page) == [], "axe on the Finnish figures"


async def test_the_console_in_swedish(console: Console):
    """A browser asking for Swedish gets the sign-in, the queue, a case page and the figures in Swedish."""
    page, row = await queue_speaking(console, SWEDISH, "tweet-9701")
    await row.get_by_role("link").click()
    await expect(page.get_by_role("heading", name=re.compile("^Ärende "))).to_be_visible()
    await expect(page.get_by_role("heading", name="Personligt svar")).to_be_visible()
    assert await serious_violations(page) == [], "axe on the Swedish case page"
    await page.get_by_role("link", name="Siffror").click()
    await expect(page.get_by_role("heading", name="Återställningssiffror")).to_be_visible()
    await expect(page.get_by_role("img", name=re.compile("^Tid till första kontakt, per kanal"))).to_be_visible()
    assert await serious_violations(page) == [], "axe on the Swedish figures"


async def test_previewing_the_next_message_from_the_case_page(console: Console):
    """The preview panel shows what the customer would receive next (their language, signed by the owner) with the
    quality check's verdict, and the page passes axe."""
    stack = console.stack
    record = till_record("T-PREVIEW-1")
    record["customer"]["language"] = "sv"
    case_id = (await stack.api.post("/transactions", json=record)).json()["case"]["case_id"]
    await eventually(lambda: stack.texts_to(TILL_PHONE))
    sari = await console.person(OWNER)
    await sari.goto(f"/console/cases/{case_id}")
    await sari.get_by_label("Message", exact=True).select_option("overcharge/thank_you")
    await sari.get_by_label("Channel", exact=True).select_option("email")
    await sari.get_by_role("button", name="Preview").click()
    await expect(sari.locator("#preview-body")).to_contain_text("Tack, Maija Meikäläinen. Vi har återbetalat 9,95 €")
    await expect(sari.locator("#preview-subject")).to_have_text("Vi betalar tillbaka 9,95 €")
    await expect(sari.locator("#preview-verdict")).to_have_text("The quality check passes.")
    assert await serious_violations(sari) == [], "axe on the preview"
    await sari.get_by_role("link", name="← Case").click()
    assert await serious_violations(sari) == [], "axe on the case page with its preview panel"


async def test_a_failing_live_poll_says_so_and_recovers(console: Console):
    """The queue's live poll failing (here its requests never arrive) shows a notice, not a queue silently standing
    still; once polls get through again the notice goes and a new case appears (review of console-rest, 3)."""
    page = await console.person(OWNER)
    notice = page.locator("#live-failed")
    await expect(notice).to_be_hidden()
    await page.route("**/console/queue/fresh*", lambda route: route.abort())
    await expect(notice).to_be_visible()
    await expect(notice).to_have_text(re.compile("Live updates are failing"))
    assert await serious_violations(page) == [], "axe with the notice shown"
    await page.unroute("**/console/queue/fresh*")
    await expect(notice).to_be_hidden()
    case_id = (await console.stack.api.post("/incidents", json=complaint("form-9501"))).json()["case_id"]
    await expect(page.locator(f"#row-{case_id}")).to_be_visible()
    # Said politely to a screen reader too: what a sighted person sees appear (review of console-rest, 8).
    await expect(page.get_by_role("status")).to_have_text(re.compile(r"^1 new cases at the top\.\s*$"))


async def test_a_refused_attach_of_a_reply_no_longer_listed_is_shown_on_the_page(console: Console):
    """Someone else attached the reply meanwhile: the 409 has no row to stand beside any more, so the page says it
    at the top, rather than showing an inbox without a word (review of console-rest, 4)."""
    stack = console.stack
    first = (await stack.api.post("/incidents", json=complaint("form-9601"))).json()["case_id"]
    second = (await stack.api.post("/incidents", json=complaint("form-9602"))).json()["case_id"]
    sari, message = await inbox_with_an_emailed_reply(console, "About my complaint", "m-96")
    [stored] = stack.rows(MessageRow, direction="in")
    agent = stack.key("aino.agent", Scope.cases_read, Scope.cases_act)
    taken = await stack.api.post(f"/replies/unmatched/{stored.id}/attach", headers=agent, json={"case": first})
    assert taken.status_code == 202, taken.text

    await message.get_by_label("Case reference").fill(stack.case(second).reference)
    await message.get_by_role("button", name="Attach").click()
    alert = sari.get_by_role("alert")
    await expect(alert).to_contain_text("no longer in the inbox")
    await expect(alert).to_contain_text(f"is on case {first} already")
    assert await serious_violations(sari) == [], "axe with the page-level refusal"
