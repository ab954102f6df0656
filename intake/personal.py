"""What makes a reply personal, not clinical (S4): it names the customer, states a fact of this very case,
and is signed by the agent; a template with its blanks left unfilled is not a reply."""

from __future__ import annotations

import re

from babel.numbers import format_decimal

from schemas.money import Money
from store.tables import CaseRow

_BLANKS = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\[[^\]]{2,40}\]|<[a-z _]{2,40}>|_{3,}", re.IGNORECASE)


def missing_from_reply(text: str, agent_name: str, case: CaseRow) -> list[str]:
    """What the reply lacks, each as a sentence for the agent; empty when the reply is personal."""
    folded = text.casefold()
    missing = []
    if blanks := _BLANKS.findall(text):
        missing.append(f"it is the bare template: fill in {', '.join(sorted(set(blanks))[:5])}")
    first_name = case.customer_name.split()[0]
    if first_name.casefold() not in folded:
        missing.append(f"it does not name the customer ({first_name})")
    facts = case_facts(case)
    if not any(fact.casefold() in folded for fact in facts):
        missing.append(f"it states no fact of this case (e.g. {' or '.join(facts[:3])})")
    if agent_name.casefold() not in folded:
        missing.append(f"it is not signed with the agent's name ({agent_name})")
    return missing


def case_facts(case: CaseRow) -> list[str]:
    """Things only this case's reply would say: its amount (as people write it), store, reference, topic."""
    facts = []
    if case.amount_minor is not None and case.currency:
        amount = Money(amount_minor=case.amount_minor, currency=case.currency).as_decimal()
        facts += [format_decimal(amount, format="#,##0.00", locale=locale) for locale in ("fi_FI", "en_IE")]
        if amount == amount.to_integral():
            facts.append(f"{int(amount)} €" if case.currency == "EUR" else f"{int(amount)} {case.currency}")
    facts += [fact for fact in (case.store, case.reference) if fact]
    return facts
