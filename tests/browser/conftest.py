"""The console in a real browser: Debian's Chromium (installed by `make chromium`; Playwright's own browser
download cannot work here) driven by Playwright, against the API served by uvicorn over real HTTP, with our
worker on the Temporal dev server. Waits are Playwright's own (auto-waiting, `expect`) with generous limits,
never sleeps: the machine is shared and may be slow."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from schemas.auth import AccountIn, Role
from store.accounts import create_account
from store.db import session_for
from tests.harness import TENANT, Stack, serving

PASSWORD = "correct horse battery staple"
OWNER = "sari.supervisor"  # owns the case in the stories; a supervisor, so four eyes is what stops her
SECOND = "sami.supervisor"
AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
SCREENSHOTS = Path(__file__).parents[2] / "docs" / "console"
WAIT_MS = 45_000  # a loaded 2-core machine; Playwright returns as soon as the condition holds
# Chromium as root in a container, with no network beyond this machine: no sandbox, no background calls home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]

expect.set_options(timeout=WAIT_MS)


def chromium_path() -> str:
    found = shutil.which("chromium") or (Path("/usr/bin/chromium").exists() and "/usr/bin/chromium")
    if not found:
        pytest.fail("Debian's chromium is not installed: run `make chromium` (make test does it)")
    return found


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                                    args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@dataclass
class Console:
    """The served console of one test: its address, the stack behind it, and a browser to open people in."""

    base_url: str
    stack: Stack
    browser: Browser

    async def person(self, account: str) -> Page:
        """A browser context of its own (its own cookies), signed in as `account`."""
        context: BrowserContext = await self.browser.new_context(base_url=self.base_url,
                                                                 viewport={"width": 1360, "height": 900})
        context.set_default_timeout(WAIT_MS)
        page = await context.new_page()
        await sign_in(page, f"{account}@example.com", PASSWORD)
        await expect(page.get_by_role("heading", name="Queue")).to_be_visible()
        return page


async def sign_in(page: Page, email: str, password: str) -> None:
    await page.goto("/console/")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def serious_violations(page: Page) -> list[dict]:
    """axe-core's serious and critical findings on the page as it stands."""
    await page.add_script_tag(path=str(AXE))
    found = await page.evaluate("async () => (await axe.run(document)).violations"
                                ".map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length}))")
    return [violation for violation in found if violation["impact"] in ("serious", "critical")]


def add_staff(stack: Stack) -> None:
    with session_for(stack.settings.database_url) as session:
        for account in (OWNER, SECOND):
            create_account(session, TENANT, AccountIn(id=account, display_name=account.split(".")[0].title(),
                                                      email=f"{account}@example.com", roles={Role.supervisor},
                                                      password=PASSWORD))


@pytest.fixture
async def console(live_stack: Stack, browser: Browser) -> AsyncIterator[Console]:
    add_staff(live_stack)
    async with serving(live_stack.app) as base_url:
        yield Console(base_url=base_url, stack=live_stack, browser=browser)
        for context in browser.contexts:
            await context.close()
