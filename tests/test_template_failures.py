"""A developer's template mistake fails fast and says what it is: the send is not retried (retrying cannot fix a
template), Jinja's message goes on the case's timeline, and a test waiting for the message fails within seconds
with that message instead of timing out."""

from __future__ import annotations

import time

import pytest
from jinja2 import ChoiceLoader, DictLoader, Environment, TemplateNotFound

from messages import render
from schemas.auth import Scope
from schemas.channels import Channel, Language
from schemas.progress import CaseOutcome
from tests.harness import Stack, eventually
from tests.scenarios import test_stock_shortfall as stock_shortfall
from tests.scenarios.test_paid_once import IBAN
from tests.scenarios.test_s1_till_overcharge import PHONE, till_record

TYPO = "Hello {{ customer_nam }}, we charged you {{ amount }} too little."


def save_with_a_typo(monkeypatch: pytest.MonkeyPatch, template: str) -> None:
    """`template` in every language and channel, as a developer might have saved it, in front of the real ones."""
    real = render._environment(render.TEMPLATE_DIR)
    typos = {f"{template}{f'.{channel}' if channel else ''}.{language}.j2": TYPO
             for language in Language for channel in (None, *Channel)}
    broken = Environment(loader=ChoiceLoader([DictLoader(typos), real.loader]),
                         undefined=real.undefined, trim_blocks=True, lstrip_blocks=True)
    monkeypatch.setattr(render, "_environment", lambda _directory: broken)


@pytest.fixture
def typo_in_the_undercharge_notice(monkeypatch: pytest.MonkeyPatch) -> None:
    save_with_a_typo(monkeypatch, "undercharge/notice")


@pytest.mark.usefixtures("typo_in_the_undercharge_notice")
async def test_a_template_typo_fails_the_test_at_once_with_jinjas_message(stack: Stack):
    record = till_record("T-1", charged_minor=24900, lines=[{"product": "Espresso machine",
                                                             "unit_price_minor": 34900, "quantity": 1}])
    case_id = (await stack.api.post("/transactions", json=record)).json()["case"]["case_id"]

    started = time.monotonic()
    with pytest.raises(AssertionError, match="undercharge/notice .*UndefinedError: 'customer_nam' is undefined"):
        await eventually(lambda: stack.texts_to(PHONE))
    assert time.monotonic() - started < 10, "not retried until some timeout"

    # Not retried: the case goes on (no channel reached the customer) and says why on its timeline.
    assert await stack.env.client.get_workflow_handle(case_id).result() == CaseOutcome.written_off
    notes = [entry["note"] for entry in (await stack.api.get(f"/cases/{case_id}/timeline")).json()]
    assert any("sms to the customer given up, refused: template undercharge/notice (en, sms): UndefinedError: "
               "'customer_nam' is undefined" in note for note in notes), notes
    assert stack.texts_to(PHONE) == []


def test_a_syntax_error_names_the_template_and_line(monkeypatch: pytest.MonkeyPatch):
    broken = Environment(loader=DictLoader({"undercharge/notice.en.j2": "Hello\n{{ customer_name }"}))
    monkeypatch.setattr(render, "_environment", lambda _directory: broken)
    with pytest.raises(render.TemplateFailed, match=r"TemplateSyntaxError: .* \(line 2 of undercharge/notice.en.j2\)"):
        render.render("undercharge/notice", "en", "sms", None)


def test_a_template_not_found_stays_retryable():
    """During a rolling deploy an old worker lacks a new template; a retry on a new worker sends it, so a missing
    template is not a `TemplateFailed` (which the activity turns into a non-retryable error)."""
    with pytest.raises(TemplateNotFound) as missing:
        render.render("no_such_kind/notice", "en", "sms", None)
    assert not isinstance(missing.value, render.TemplateFailed)


async def notes_of(stack: Stack, case_id: str) -> list[str]:
    return [entry["note"] for entry in (await stack.api.get(f"/cases/{case_id}/timeline")).json()]


async def test_an_account_code_text_that_cannot_render_hands_the_case_to_its_owner(
        stack: Stack, monkeypatch: pytest.MonkeyPatch):
    """Not a failed workflow with the case waiting on the customer forever: the owner is told, and the money goes
    where policy sends it (never to the account nobody confirmed)."""
    save_with_a_typo(monkeypatch, "common/confirm_account")
    case_id = (await stack.api.post("/transactions", json=till_record())).json()["case"]["case_id"]
    await eventually(lambda: stack.texts_to(PHONE))
    await stack.api.post(f"/cases/{case_id}/replies", json={"channel": "sms", "text": IBAN, "sender": "+358409999999"})

    [refund] = await eventually(lambda: stack.refunds(case_id), templates_must_render=False)
    assert refund.destination != "bank_account"
    notes = await notes_of(stack, case_id)
    assert any("the text with the code to confirm an account could not be sent: template common/confirm_account"
               in note and "UndefinedError" in note for note in notes), notes
    assert any("refunded to" in note and "by policy" in note for note in notes), notes


async def test_a_personal_reply_that_cannot_render_goes_to_the_owner_and_keeps_no_promise(
        stack: Stack, monkeypatch: pytest.MonkeyPatch):
    save_with_a_typo(monkeypatch, "stock_shortfall/pick_up")
    incident = stock_shortfall.incident("SS-T")
    case_id = (await stack.api.post("/incidents", json=incident)).json()["case_id"]
    await eventually(lambda: stack.texts_to(stock_shortfall.PHONE))
    await stack.api.post(f"/cases/{case_id}/responses", json=stock_shortfall.found_it(),
                         headers=stack.key("aino.agent", Scope.cases_act))

    async def handed_over() -> list[str]:
        notes = await notes_of(stack, case_id)
        return notes if any("the personal reply reached no channel" in note for note in notes) else []

    await eventually(handed_over, templates_must_render=False)
    live = await stack.live(case_id)
    assert live.sla.clocks[0].met_at is None, "a reply that reached nobody keeps no first-reply promise"
    assert len(stack.texts_to(stock_shortfall.PHONE)) == 1, "only the first contact reached the customer"
