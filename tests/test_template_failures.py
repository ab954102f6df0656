"""A developer's template mistake fails fast and says what it is: the send is not retried (retrying cannot fix a
template), Jinja's message goes on the case's timeline, and a test waiting for the message fails within seconds
with that message instead of timing out."""

from __future__ import annotations

import time

import pytest
from jinja2 import ChoiceLoader, DictLoader, Environment, TemplateNotFound

from messages import render
from schemas.progress import CaseOutcome
from tests.harness import Stack, eventually
from tests.scenarios.test_s1_till_overcharge import PHONE, till_record

TYPO = "Hello {{ customer_nam }}, we charged you {{ amount }} too little."


@pytest.fixture
def typo_in_the_undercharge_notice(monkeypatch: pytest.MonkeyPatch) -> None:
    """The notice, as a developer might have saved it, in front of the real templates."""
    real = render._environment(render.TEMPLATE_DIR)
    broken = Environment(loader=ChoiceLoader([DictLoader({"undercharge/notice.en.j2": TYPO}), real.loader]),
                         undefined=real.undefined, trim_blocks=True, lstrip_blocks=True)
    monkeypatch.setattr(render, "_environment", lambda _directory: broken)


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
