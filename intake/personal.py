"""What makes a reply personal, not clinical (S4): it names the customer, states a fact of this very case,
and is signed by the agent; a template with its blanks left unfilled is not a reply."""

from __future__ import annotations

import re

from babel.numbers import NumberFormatError, get_group_symbol, parse_decimal

from messages.render import MONEY_LOCALE
from schemas.money import Money
from store.cases import amount_of
from store.tables import CaseRow

# A number as written: digits, perhaps grouped by spaces, dots or commas, not part of a word or reference.
_NUMBER = re.compile(r"(?<![\w.,])\d(?:[\d\u00a0\u202f .,]*\d)?(?!\w)")
_BLANKS = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\[[^\]]{2,40}\]|<[a-z _]{2,40}>|_{3,}", re.IGNORECASE)


def missing_from_reply(text: str, agent_name: str, case: CaseRow) -> list[str]:
    """What the reply lacks, each as a sentence for the agent; empty when the reply is personal."""
    folded = text.casefold()
    missing = []
    if blanks := _BLANKS.findall(text):
        missing.append(f"it is the bare template: fill in {', '.join(sorted(set(blanks))[:5])}")
    first_name = next(iter(case.customer_name.split()), None)  # blank in cases opened before intake refused it
    if first_name and first_name.casefold() not in folded:
        missing.append(f"it does not name the customer ({first_name})")
    amount = amount_of(case)
    words = [fact for fact in (case.store, case.reference) if fact]
    if not (amount and states_amount(text, amount)) and not any(word.casefold() in folded for word in words):
        examples = [amount.format(locale) for locale in ("fi_FI", "en_IE")] if amount else []
        missing.append(f"it states no fact of this case (e.g. {' or '.join([*examples, *words][:3])})")
    if agent_name.casefold() not in folded:
        missing.append(f"it is not signed with the agent's name ({agent_name})")
    return missing


def states_amount(text: str, amount: Money) -> bool:
    """Whether the text names `amount` as people write it in any of our customers' languages ("1 500" or
    "1500" yen, "14,00 €" or "€14.00", "0,995" dinars): exactly, with the currency's ISO 4217 digits or fewer
    trailing zeros, never rounded."""
    wanted = amount.as_decimal()
    for number in _NUMBER.findall(text):
        for locale in MONEY_LOCALE.values():
            grouped = re.sub(r"[ \u00a0\u202f]", get_group_symbol(locale), number)  # any space groups digits
            try:  # strict: "15,00" is not 1500 in English, a misplaced group separator is no number
                if parse_decimal(grouped, locale, strict=True) == wanted:
                    return True
            except NumberFormatError:
                continue
    return False

