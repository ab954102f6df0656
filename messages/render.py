"""Renders `<template>.<language>.j2`; a template sets `subject` for email and its body is the text.

Templates never blame the customer: they name what *we* got wrong, the amount, and what happens next.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import get_currency_symbol
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
)

from messages.sms import in_gsm7, is_gsm7, sms_segments
from schemas.channels import Channel, Language
from schemas.messages import MessageFacts
from schemas.money import Money

TEMPLATE_DIR = Path(__file__).parent / "templates"
FALLBACK_LANGUAGE = Language.en
TEMPLATE_ERROR = "TemplateError"  # the non-retryable activity failure of a template that cannot render
# Money is written the way the customer's language writes it: "9,95 €" in Finnish.
MONEY_LOCALE = {Language.fi: "fi_FI", Language.sv: "sv_FI", Language.en: "en_IE"}
# In a text: the owner's name in full up to this length, the store's and the customer's topic's first words (a
# topic may be a whole description). The quality test renders the longest of each.
SMS_STORE_LENGTH, SMS_TOPIC_LENGTH = 30, 50
# SMS: what the channel allows, in concatenated segments (`messages/sms.py` counts GSM-7 and UCS-2 as carriers
# bill them); the quality check holds every text to it.
SMS_SEGMENTS_ALLOWED = 2
_DUE_FORMAT = {Language.fi: "EEEE d.M.yyyy 'klo' HH.mm", Language.sv: "EEEE d.M.yyyy 'kl.' HH.mm",
               Language.en: "EEEE d MMMM yyyy 'at' HH:mm"}


class TemplateFailed(ValueError):
    """A template that cannot render (a fact misspelt, a syntax error): a developer's mistake, the same on every
    retry. A template that is not found is not one: during a rolling deploy an old worker lacks a new template, and
    a retry that lands on a new worker sends it, so `TemplateNotFound` stays a plain (retryable) error. The text
    names the template, language, channel and Jinja's own message."""


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body: str
    shown: MessageFacts | None = None  # the facts as the message wrote them (a text's may be shortened)


@lru_cache(maxsize=8)
def _environment(directory: Path) -> Environment:
    return Environment(loader=FileSystemLoader(directory), undefined=StrictUndefined, keep_trailing_newline=False,
                       autoescape=False, trim_blocks=True, lstrip_blocks=True)


def render(template: str, language: Language, channel: Channel, facts: MessageFacts,
           directory: Path = TEMPLATE_DIR) -> RenderedMessage:
    """Picks the most specific template: this channel and language, then any channel, then English (a last
    resort for a case already running: `tests/test_message_quality.py` fails for a template missing a language).
    Raises `TemplateFailed` with Jinja's message when the template cannot render (`TemplateNotFound` passes
    through). `directory`: another set of
    templates (the quality test renders edited copies to prove its check catches what they lack)."""
    try:
        return _render(template, language, channel, facts, directory)
    except TemplateNotFound:
        raise  # not this worker's mistake to give up on: a newer worker has the template (see `TemplateFailed`)
    except TemplateError as error:
        where = f" (line {error.lineno} of {error.name})" if isinstance(error, TemplateSyntaxError) else ""
        raise TemplateFailed(f"template {template} ({language}, {channel}): {type(error).__name__}: "
                             f"{error.message}{where}") from error


def _render(template: str, language: Language, channel: Channel, facts: MessageFacts,
            directory: Path) -> RenderedMessage:
    compiled = _environment(directory).select_template([
        f"{template}.{channel}.{language}.j2", f"{template}.{language}.j2",
        f"{template}.{channel}.{FALLBACK_LANGUAGE}.j2", f"{template}.{FALLBACK_LANGUAGE}.j2",
    ])
    for shown in _ways_to_show(facts, channel):
        message = _filled(compiled, language, channel, shown)
        if channel is not Channel.sms or sms_segments(message.body) <= SMS_SEGMENTS_ALLOWED:
            break
    return message


def _filled(compiled: Template, language: Language, channel: Channel, facts: MessageFacts) -> RenderedMessage:
    context = facts.model_dump()
    if facts.reply_due is not None:
        context["reply_due"] = _local_time(facts.reply_due, language, facts.time_zone)
    if facts.access_report is not None:  # S5: when each read happened, on the customer's own clock
        report = context["access_report"]
        report["since"] = _local_time(facts.access_report.since, language, facts.time_zone, "d.M.yyyy")
        for line, read in zip(report["reads"], facts.access_report.reads, strict=True):
            line["at"] = _local_time(read.at, language, facts.time_zone)
    for name in ("amount", "compensation_credit"):
        if (money := getattr(facts, name)) is not None:
            context[name] = _amount(money, language, channel)
    module = compiled.make_module(context)
    body = str(module).strip()
    subject = getattr(module, "subject", "") or body.splitlines()[0][:78]
    return RenderedMessage(subject=" ".join(subject.split()), body=body, shown=facts)  # subject: a mail header


def as_shown(facts: MessageFacts, channel: Channel) -> MessageFacts:
    """The facts as a text shows them at its shortest (every step of `_ways_to_show` taken); an email or a call
    says them all (a display name of spaces aside)."""
    return _ways_to_show(facts, channel)[-1]


def _ways_to_show(facts: MessageFacts, channel: Channel) -> list[MessageFacts]:
    """The facts as `channel` may show them, fullest first. A text may take two segments (`SMS_SEGMENTS_ALLOWED`),
    and a name or a text the customer or a till wrote can be as long as the input allows: `_render` takes the
    first that fits, so a text shortens only while it is too long: the topic cut first (the customer's own words,
    quoted), then the owner signing as first name and initial, the store by its first words, and last the greeting
    by first name. Every way writes the names, store, topic and a personal reply in GSM-7 where a lookalike exists
    (`in_gsm7`), so that one curly quote does not make the whole text UCS-2."""
    if channel is not Channel.sms:
        return [facts.model_copy(update={"owner_name": _named(facts.owner_name)})]
    shown = {"customer_name": facts.customer_name, "owner_name": _named(facts.owner_name), "store": facts.store,
             "topic": facts.topic, "reply_text": facts.reply_text}
    ways = [dict(shown)]
    for name, shorter in _SHORTER:
        shown[name] = shown[name] and shorter(shown[name])
        ways.append(dict(shown))
    return [facts.model_copy(update={name: text and in_gsm7(text) for name, text in way.items()}) for way in ways]


def _named(name: str | None) -> str | None:
    """A display name of spaces names nobody: the text is signed by the team instead."""
    return (" ".join(name.split()) or None) if name else None


def _owner_in_a_text(name: str) -> str:
    """The owner's name as customer service signs a text: first name and initial ("Anna-Kaisa Kristiina
    Lehtinen" -> "Anna-Kaisa L.") when the name is letters, spaces and hyphens; otherwise ("Duty.Manager",
    "Virtanen, Aino", "Dr. Aino Virtanen") the first word alone, as an initial could name a different person."""
    first, *rest = name.split()
    if rest and _PLAIN_NAME.fullmatch(name):
        return f"{first} {rest[-1][0]}."
    return first.rstrip(",;:")


def _first_name(name: str) -> str:
    return name.split()[0] if name.split() else name


_PLAIN_NAME = re.compile(r"[^\W\d_]+(?:[ -]+[^\W\d_]+)*")
_SHORTER = (("topic", lambda topic: _first_words(topic, SMS_TOPIC_LENGTH, "...")), ("owner_name", _owner_in_a_text),
            ("store", lambda store: _first_words(store, SMS_STORE_LENGTH)), ("customer_name", _first_name))


def _first_words(text: str, length: int, cut: str = "") -> str:
    """`text` when it is at most `length` characters, else the whole words that fit with `cut` after them (a
    quoted text's "...": GSM-7, unlike "…")."""
    if len(text) <= length:
        return text
    room = length - len(cut)
    head = text[:room + 1]  # one more: a space there ends the last whole word
    return (head.rsplit(" ", 1)[0] if " " in head.strip() else text[:room]).rstrip(" ,.;:-") + cut


def _amount(amount: Money, language: Language, channel: Channel) -> str:
    """The amount as the customer's language writes it. Babel's no-break space ("9,95\xa0€"), or a symbol outside
    GSM-7 (the rupee's, the shekel's), would make every SMS a costlier UCS-2 one: a text gets a space and the code."""
    locale = MONEY_LOCALE[language]
    text = amount.format(locale).replace("\xa0", " ").replace("\u202f", " ")
    if channel is Channel.sms and not is_gsm7(text):
        text = " ".join(text.replace(get_currency_symbol(amount.currency, locale), f" {amount.currency} ").split())
    return text


def _local_time(at: datetime, language: Language, time_zone: str, pattern: str | None = None) -> str:
    return format_datetime(at, pattern or _DUE_FORMAT[language], tzinfo=ZoneInfo(time_zone),
                           locale=MONEY_LOCALE[language])


def missing_translations(directory: Path = TEMPLATE_DIR) -> list[str]:
    """Template files some language lacks (`<name>[.<channel>].<language>.j2`, partials included): at run time
    such a message would fall back to English without a word, so `tests/test_message_quality.py` fails on them."""
    written = {path.relative_to(directory).as_posix().removesuffix(".j2") for path in directory.rglob("*.j2")}
    stems = {name.rsplit(".", 1)[0] for name in written}
    return sorted(f"{stem}.{language}.j2" for stem in stems for language in Language
                  if f"{stem}.{language}" not in written)
