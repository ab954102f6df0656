"""Every text the console translates has its Finnish and its Swedish: the templates' own texts, the words for the
API's values they show (statuses, types, steps, sources, priorities, SLA states, channels, outcomes), and the
texts the console's code hands them (what an action says it did, the charts' titles, the SLA badges). An English
text without its translation would show in English in the middle of a Finnish or Swedish page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from console.case_page import DONE
from console.figures import CHARTED_DURATIONS
from console.i18n import LANGUAGES, texts_of
from console.templating import _LABELS, words
from schemas.channels import Channel
from schemas.incidents import IncidentKind, IncidentSource
from schemas.progress import CaseOutcome, CaseStatus, CaseStep
from schemas.sla import Priority
from sla.clock import SlaState

TEMPLATES = Path(__file__).parents[1] / "console" / "templates"
_TRANSLATED = re.compile(r"""_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\)""")


def texts_of_the_templates() -> set[str]:
    return {double or single for page in TEMPLATES.glob("*.html")
            for double, single in _TRANSLATED.findall(page.read_text())}


def texts_of_the_code() -> set[str]:
    values = {words(value) for kind in (CaseStatus, CaseStep, IncidentKind, IncidentSource, Priority, SlaState,
                                        Channel, CaseOutcome) for value in kind}
    charts = {"Share recovered", "SLA compliance", *(measure for _, measure in CHARTED_DURATIONS),
              *(f"{per} {by}" for per in ("Per", "per") for by in ("type", "channel", "source"))}
    return values | charts | set(DONE.values()) | set(_LABELS.values()) | {"left", "over", "case", "cases",
                                                                             "more than"}


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_text_the_console_shows_is_translated(language: str):
    texts = texts_of(language)
    assert len(texts_of_the_templates()) > 100, "the templates' texts were found"
    missing = sorted((texts_of_the_templates() | texts_of_the_code()) - set(texts))
    assert missing == [], f"{language}: no translation for {missing}"


def test_finnish_and_swedish_translate_the_same_texts():
    assert set(texts_of("fi")) == set(texts_of("sv"))
