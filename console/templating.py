"""Jinja2 templates and the few formatting helpers they share: money in the viewer's locale, instants as
<time> elements (console.js shows them in the viewer's own time zone), and the SLA badge."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from console.i18n import translator
from schemas.money import Money
from sla.clock import SlaState
from store.cases import amount_of

HERE = Path(__file__).parent

# Babel locales for the languages our customers' messages already have; anything else reads English.
_LOCALES = {"fi": "fi_FI", "sv": "sv_FI", "en": "en_IE"}


def locale_of(request: Request) -> str:
    """The viewer's first language we know from Accept-Language (fi, sv, en), English otherwise."""
    for part in request.headers.get("accept-language", "").split(","):
        language = part.split(";")[0].strip().lower()[:2]
        if language in _LOCALES:
            return _LOCALES[language]
    return _LOCALES["en"]


def _language(request: Request) -> dict[str, Any]:
    """In every page: `_` translates a text for this viewer, `words` an API value; `lang` is the page's language
    attribute, `locale` the one money is written in."""
    locale = locale_of(request)
    translate = translator(locale)
    return {"_": translate, "words": lambda value: translate(words(value)), "locale": locale,
            "lang": locale[:2]}


def money(amount: Money | None, locale: str) -> str:
    return amount.format(locale) if amount is not None else "—"


def instant(moment: datetime | None) -> Markup:
    """UTC in the page (readable without JavaScript), the viewer's local time once console.js has run."""
    if moment is None:
        return Markup("—")
    moment = moment.astimezone(UTC)
    return Markup('<time datetime="{}">{}</time>').format(moment.isoformat(), moment.strftime("%d %b %Y %H:%M UTC"))


@dataclass(frozen=True)
class SlaBadge:
    """Zendesk's "Next SLA breach" column: the state in words and colour, and how long is left (or overdue)."""

    state: str
    label: str
    due: datetime | None

    def countdown(self, translate: Callable[[str], str]) -> str:
        if self.due is None or self.state == SlaState.paused:
            return ""
        left = int((self.due - datetime.now(UTC)).total_seconds())
        return f"{_span(left)} {translate('left')}" if left >= 0 else f"{_span(-left)} {translate('over')}"

    def html(self, translate: Callable[[str], str] = str) -> Markup:
        """console.js keeps the countdown counting, in the words given here."""
        due = (Markup(' data-due="{}" data-left="{}" data-over="{}"').format(
            self.due.astimezone(UTC).isoformat(), translate("left"), translate("over"))
            if self.due and self.state != "paused" else "")
        return Markup('<span class="sla sla-{}"{}><span class="sla-state">{}</span> '
                      '<span class="sla-left">{}</span></span>').format(
            self.state, due, translate(self.label), self.countdown(translate))


_LABELS = {SlaState.on_track: "On track", SlaState.at_risk: "At risk", SlaState.breached: "Breached",
           SlaState.paused: "Paused"}


def sla_badge(state: str | None, due: datetime | None) -> SlaBadge:
    if state is None:
        return SlaBadge(state="none", label="No SLA", due=None)
    return SlaBadge(state=state, label=_LABELS[SlaState(state)], due=due)


def _span(seconds: int) -> str:
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def words(value: str | None) -> str:
    """An enum's value as people read it: waiting_on_customer -> waiting on customer."""
    return value.replace("_", " ") if value else "—"


templates = Jinja2Templates(directory=HERE / "templates", context_processors=[_language])
def age(moment: datetime) -> str:
    """How long ago, roughly ("3 d", "4 h", "12 min"): an old reply is read against today's question if attached."""
    minutes = max(0, int((datetime.now(UTC) - moment).total_seconds() // 60))
    if minutes >= 24 * 60:
        return f"{minutes // (24 * 60)} d"
    return f"{minutes // 60} h" if minutes >= 60 else f"{minutes} min"


templates.env.globals.update(money=money, amount_of=amount_of, instant=instant, sla_badge=sla_badge, words=words,
                             age=age)
