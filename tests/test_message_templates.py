"""Every template of every workflow type, on every channel and in every language, with only the facts a case
must have and with all of them: no "None", no empty placeholder, no unrendered block, and the thank-you names
the destination the customer chose."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from messages.render import TEMPLATE_DIR, render
from schemas.channels import Channel, Language
from schemas.messages import MessageFacts
from schemas.money import Money
from schemas.privacy import AccessReport, Findings, ReadLine

TEMPLATES = sorted({path.relative_to(TEMPLATE_DIR).as_posix().split(".")[0]
                    for path in TEMPLATE_DIR.rglob("*.j2") if not path.name.startswith("_")})
MINIMAL = MessageFacts(customer_name="Maija", case_reference="3F9A1C07")
FULL = MessageFacts(
    customer_name="Maija Meikäläinen", case_reference="3F9A1C07", store="Prisma Kaleva",
    amount=Money(amount_minor=995, currency="EUR"), refund_destination="bank_account", refunded=True,
    topic="9,95 € too much",
    reply_due=datetime(2027, 12, 7, 10, tzinfo=UTC), reply_text="Hello Maija, it is fixed. Aino",
    voucher_code="GW-1234", compensation_product="one month of the sports package", account="FI •••• 0785",
    confirmation_code="123456",
    access_report=AccessReport(since=datetime(2027, 1, 1, tzinfo=UTC), total=1, refused=1, reads=[
        ReadLine(at=datetime(2027, 2, 1, 9, tzinfo=UTC), role="agent", fields=["phone"], refused=True)]),
    findings=Findings(misuse_confirmed=True, findings="A clerk asked for the number without a case.",
                      actions="The clerk was instructed.", recorded_by="legal"))
# What a case always has for each kind of message (the rest may be missing): money kinds an amount, a complaint
# its topic, a personal reply its text, an account to confirm its amount and code, goodwill its voucher,
# S5 the reads it found (and the findings it reports).
MUST_HAVE = {"overcharge": {"amount": FULL.amount}, "undercharge": {"amount": FULL.amount},
             "duplicate_purchase": {"amount": FULL.amount}, "common/acknowledgement": {"topic": FULL.topic},
             "common/personal_reply": {"reply_text": FULL.reply_text},
             "common/confirm_account": {"amount": FULL.amount, "confirmation_code": FULL.confirmation_code},
             "complaint/put_right": {"voucher_code": "GW-1", "compensation_product": "a month of sport"},
             "data_misuse": {"access_report": FULL.access_report},
             "data_misuse/outcome": {"findings": FULL.findings}}
# What a fact left out looks like once rendered: "None", a placeholder with nothing in it, a block left over.
BROKEN = re.compile(r"None|\{\{|\}\}|\{%|%\}|\(\s*\)|\s[,.;:]|\bat\s*[.,]|  ")


def minimal(template: str) -> MessageFacts:
    must = {name: value for prefix, facts in MUST_HAVE.items() if template.startswith(prefix)
            for name, value in facts.items()}
    return MINIMAL.model_copy(update=must)


@pytest.mark.parametrize("full", [False, True], ids=["minimal", "full"])
@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("channel", [Channel.sms, Channel.voice, Channel.email])
@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_reads_right_with_few_or_all_facts(template, channel, language, full):
    rendered = render(template, language, channel, FULL if full else minimal(template))
    for part in (rendered.subject, rendered.body):
        assert part.strip(), f"{template}: empty"
        assert not BROKEN.search(part), f"{template}.{channel}.{language}: {BROKEN.search(part)[0]!r} in {part!r}"
    assert "\n" not in rendered.subject and "\r" not in rendered.subject


@pytest.mark.parametrize(("destination", "words"), [
    ("original_card", {"en": "card", "fi": "kortille", "sv": "kort"}),
    ("bank_account", {"en": "bank account", "fi": "tilillesi", "sv": "bankkonto"}),
    ("service_desk", {"en": "service desk", "fi": "palvelupiste", "sv": "servicedisk"}),
])
@pytest.mark.parametrize("template", ["overcharge/thank_you", "duplicate_purchase/thank_you"])
def test_the_thank_you_names_the_destination_the_customer_chose(template, destination, words):
    facts = FULL.model_copy(update={"refund_destination": destination})
    for language in Language:
        body = render(template, language, Channel.sms, facts).body
        assert words[language] in body, (language, body)
        others = [w[language] for d, w in _DESTINATION_WORDS.items() if d != destination]
        assert not any(other in body for other in others), (language, body)


_DESTINATION_WORDS = {
    "original_card": {"en": "to your card", "fi": "kortillesi", "sv": "till ditt kort"},
    "bank_account": {"en": "bank account", "fi": "pankkitilillesi", "sv": "bankkonto"},
    "service_desk": {"en": "service desk", "fi": "palvelupiste", "sv": "servicedisk"},
}


@pytest.mark.parametrize(("language", "credit"), [("en", "a credit of €3.00"), ("fi", "3,00 € hyvityksen"),
                                                  ("sv", "en kreditering på 3,00 €")])
def test_goodwill_given_as_a_credit_is_named_in_the_customers_language(language, credit):
    facts = FULL.model_copy(update={"compensation_product": "a credit of 3.00 EUR",
                                    "compensation_credit": Money(amount_minor=300, currency="EUR")})
    body = render("complaint/put_right", language, Channel.sms, facts).body
    assert credit in body and ("a credit of 3.00 EUR" not in body), body
