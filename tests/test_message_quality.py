"""The recovery-quality check: every template of every type, on every channel and in every language, rendered
with many fact sets (each refund destination, with and without store, amount, topic and owner, long names, every
currency ISO 4217 knows), carries the dimensions it declares (`messages/quality.py`) and nothing it must not."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from kinds import added_kind
from messages.quality import DECLARED, LETTERS, SMS_SEGMENTS_ALLOWED, Dimension, check
from messages.render import TEMPLATE_DIR, _owner_in_a_text, as_shown, missing_translations, render
from messages.sms import in_gsm7, is_gsm7, sms_segments
from schemas.auth import AccountIn
from schemas.channels import Channel, Language
from schemas.messages import MessageFacts
from schemas.money import ISO_MINOR_DIGITS, Money
from schemas.privacy import AccessReport, Findings, ReadLine

TEMPLATES = sorted({path.relative_to(TEMPLATE_DIR).as_posix().split(".")[0]
                    for path in TEMPLATE_DIR.rglob("*.j2") if not path.name.startswith("_")})
CHANNELS = [Channel.sms, Channel.voice, Channel.email]
REPORT = AccessReport(since=datetime(2027, 1, 1, tzinfo=UTC), total=1, refused=1, reads=[
    ReadLine(at=datetime(2027, 2, 1, 9, tzinfo=UTC), role="agent", fields=["phone"], refused=True)])
FINDINGS = Findings(misuse_confirmed=True, findings="A clerk asked for the number without a case.",
                    actions="The clerk was instructed.", recorded_by="legal")
BASE = MessageFacts(customer_name="Maija", case_reference="3F9A1C07")
# What a case always has for each kind of message (the rest may be missing): money kinds an amount, a complaint
# its topic, a personal reply its text, an account to confirm its amount and code, goodwill its voucher, S5 the
# reads it found (and the findings it reports).
MUST_HAVE = {"overcharge": {"amount": Money(amount_minor=995, currency="EUR")},
             "undercharge": {"amount": Money(amount_minor=995, currency="EUR")},
             "duplicate_purchase": {"amount": Money(amount_minor=2490, currency="EUR")},
             "common/acknowledgement": {"topic": "9,95 € too much"},
             "common/personal_reply": {"reply_text": "Hello Maija, it is fixed. Aino"},
             "common/confirm_account": {"amount": Money(amount_minor=995, currency="EUR"),
                                        "confirmation_code": "123456"},
             "complaint/put_right": {"voucher_code": "GW-1", "compensation_product": "a month of sport"},
             "data_misuse": {"access_report": REPORT}, "data_misuse/outcome": {"findings": FINDINGS}}
LONG_NAME = "Maija-Liisa Kristiina Meikäläinen-Österberg"
FACT_SETS = {
    "minimal": {},
    "owner": {"owner": "aino.agent", "owner_name": "Aino Virtanen"},
    "card": {"refund_destination": "original_card", "refunded": True, "owner_name": "Aino Virtanen"},
    "bank": {"refund_destination": "bank_account", "refunded": True, "owner_name": "Aino Virtanen"},
    "desk": {"refund_destination": "service_desk", "refunded": True, "store": "Prisma Kaleva"},
    "full": {"store": "Prisma Kaleva", "amount": Money(amount_minor=995, currency="EUR"), "topic": "9,95 € too much",
             "refund_destination": "bank_account", "refunded": True, "owner_name": "Aino Virtanen",
             "reply_due": datetime(2027, 12, 7, 10, tzinfo=UTC), "voucher_code": "GW-1234",
             "compensation_product": "one month of the sports package", "findings": FINDINGS},
    "long": {"customer_name": LONG_NAME, "store": "Prisma Hervanta Tampere Lindforsinkatu",
             "owner_name": "Anna-Kaisa Kristiina Lehtinen-Virtanen", "topic": "the 24,90 € ticket paid twice",
             "refund_destination": "service_desk", "refunded": True,
             "amount": Money(amount_minor=123_456_789, currency="EUR")},
    # Typography and letters outside GSM-7, which would make a text UCS-2 (67 characters a segment, not 153).
    "typeset": {"customer_name": "Šárka Dvořák", "owner_name": "Zoë Łukasiewicz", "store": "Kahvila “Kulma”",
                "topic": "charged twice – 9,95 €… again", "refund_destination": "original_card", "refunded": True},
    "yen": {"amount": Money(amount_minor=1500, currency="JPY"), "refund_destination": "original_card"},
    "dinar": {"amount": Money(amount_minor=995, currency="KWD"), "refund_destination": "bank_account"},
    "rupee": {"amount": Money(amount_minor=99_500, currency="INR"), "owner_name": "Aino Virtanen"},
    "credit": {"compensation_credit": Money(amount_minor=300, currency="EUR"), "voucher_code": "GW-9",
               "account": "FI **** 0785"},
}


def facts_for(template: str, fact_set: str) -> MessageFacts:
    must = {name: value for prefix, facts in MUST_HAVE.items() if template.startswith(prefix)
            for name, value in facts.items()}
    if kind := added_kind(template.split("/")[0]):  # a kind from the scaffold: the details it declares
        must.update(details=kind.example.model_dump(mode="json"), **MUST_HAVE["common/personal_reply"])
    return BASE.model_copy(update={**must, **FACT_SETS[fact_set]})


def test_every_template_declares_its_dimensions():
    assert sorted(DECLARED) == TEMPLATES


def test_every_template_is_written_in_every_language():
    """Rendering falls back to English for a language a template lacks (a case already running still gets a
    message); a template shipped without its Finnish or Swedish text fails here instead."""
    assert missing_translations() == []


def test_a_missing_swedish_template_is_caught(tmp_path):
    shutil.copytree(TEMPLATE_DIR, tmp_path, dirs_exist_ok=True)
    (tmp_path / "undercharge/notice.sv.j2").unlink()
    (tmp_path / "duplicate_purchase/ask_destination.voice.fi.j2").unlink()
    assert missing_translations(tmp_path) == ["duplicate_purchase/ask_destination.voice.fi.j2",
                                              "undercharge/notice.sv.j2"]


@pytest.mark.parametrize("fact_set", list(FACT_SETS))
@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("template", TEMPLATES)
def test_every_message_carries_what_its_template_declares(template, channel, language, fact_set):
    facts = facts_for(template, fact_set)
    message = render(template, language, channel, facts)
    assert check(template, language, channel, facts, message) == []
    assert "\n" not in message.subject and "\r" not in message.subject, "the subject becomes a mail header"


@pytest.mark.parametrize("currency", sorted(ISO_MINOR_DIGITS))
def test_every_currency_reads_right_in_every_money_message(currency):
    """Each of ISO 4217's currencies (0, 2, 3 and 4 digits) in every message that always names an amount (the
    money kinds' and the account confirmation's code text), on every channel and in every language: the check
    passes (an SMS within its segments: a symbol outside GSM-7, such as the rupee's, is written as its code), and
    the amount is there to its last digit."""
    for template in [t for t in TEMPLATES if facts_for(t, "minimal").amount is not None]:
        for channel, language in [(channel, language) for channel in CHANNELS for language in Language]:
            facts = facts_for(template, "owner").model_copy(
                update={"amount": Money(amount_minor=987_654, currency=currency), "refund_destination": "bank_account"})
            message = render(template, language, channel, facts)
            assert check(template, language, channel, facts, message) == []
            assert "987654" in re.sub(r"[ ,.']", "", message.body), f"every digit ISO gives: {message.body}"


FIRST_CONTACTS = sorted(template for template, declared in DECLARED.items() if Dimension.apology in declared)
# The apology as the templates word it, with the "and" that joins it: what an editor deleting it would delete.
_APOLOGY_WORDING = re.compile(r"(,? (and|ja|och))?,? ?(we are sorry|pahoittelemme|vi ber om ursäkt|vi beklagar)"
                              r"( for the \w+| vaivaa| för besväret| besväret)?:?", re.IGNORECASE)


def without_the_apology(template: str, language: Language, directory: Path) -> Path:
    """A copy of the templates in which `template`'s files in `language` (each channel's) no longer apologise."""
    copy = directory / "templates"
    shutil.copytree(TEMPLATE_DIR, copy)
    edited = sorted(copy.glob(f"{template}.{language}.j2")) + sorted(copy.glob(f"{template}.*.{language}.j2"))
    for path in edited:
        source = path.read_text(encoding="utf-8")
        path.write_text(_APOLOGY_WORDING.sub("", source), encoding="utf-8")
        assert path.read_text(encoding="utf-8") != source, f"{path.name}: no apology found to delete"
    return copy


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("template", FIRST_CONTACTS)
def test_a_first_contact_template_without_its_apology_fails_naming_template_language_and_dimension(
        template, language, tmp_path):
    """Deleting the apology from a first contact's template file (a copy, rendered through its own loader) fails
    the sweep on every channel and fact set with exactly one problem, naming the template, channel, language and
    dimension; the languages left alone still pass, so it is the edited file that fails and not the loader."""
    edited = without_the_apology(template, language, tmp_path)
    for channel, fact_set in [(channel, fact_set) for channel in CHANNELS for fact_set in FACT_SETS]:
        facts = facts_for(template, fact_set)
        problems = check(template, language, channel, facts, render(template, language, channel, facts, edited))
        assert problems == [f"{template} ({channel}, {language}): lacks apology"]
        for untouched in set(Language) - {language}:
            message = render(template, untouched, channel, facts, edited)
            assert check(template, untouched, channel, facts, message) == []


def test_a_thank_you_that_apologises_again_or_blames_is_caught():
    facts = facts_for("overcharge/thank_you", "card")
    message = render("overcharge/thank_you", Language.en, Channel.sms, facts)
    again = replace(message, body=message.body + " Sorry if you felt let down.")
    problems = check("overcharge/thank_you", Language.en, Channel.sms, facts, again)
    assert any("apology: once per case" in problem for problem in problems)
    assert any("blame: 'if you felt'" in problem for problem in problems)


@pytest.mark.parametrize(("text", "segments"), [
    ("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3),
    ("€" * 80, 1), ("€" * 81, 2),  # the euro sign is a GSM-7 extension: two septets
    ("ä" * 160, 1),  # Finnish letters are in GSM-7's own alphabet
    ("š" * 70, 1), ("š" * 71, 2), ("š" * 134, 2), ("š" * 135, 3),  # one letter outside it: UCS-2 for all
])
def test_sms_segments_count_gsm7_and_ucs2_as_carriers_do(text, segments):
    assert sms_segments(text) == segments


@pytest.mark.parametrize(("language", "credit"), [("en", "a credit of €3.00"), ("fi", "3,00 € hyvityksen"),
                                                  ("sv", "en kreditering på 3,00 €")])
def test_goodwill_given_as_a_credit_is_named_in_the_customers_language(language, credit):
    facts = facts_for("complaint/put_right", "credit").model_copy(
        update={"compensation_product": "a credit of 3.00 EUR"})
    body = render("complaint/put_right", language, Channel.sms, facts).body
    assert credit in body and ("a credit of 3.00 EUR" not in body), body


@pytest.mark.parametrize("language", list(Language))
def test_the_signature_alone_is_no_next_step(language):
    """Every signature says "reply to this message"; a satisfaction question without its question must still fail."""
    facts = facts_for("common/satisfaction", "owner")
    message = render("common/satisfaction", language, Channel.sms, facts)
    question, signature = message.body.split("\n")
    greeting = question.split(",")[0] + "."
    stripped = replace(message, body=f"{greeting}\n{signature}")
    assert check("common/satisfaction", language, Channel.sms, facts, stripped) == [
        f"common/satisfaction (sms, {language}): lacks next_step"]


@pytest.mark.parametrize("language", list(Language))
def test_a_message_that_closes_the_case_does_not_invite_a_reply(language):
    """The undercharge notice closes the case at once: a reply would reach no open case, so it says whom to contact
    instead, and the check catches a closing message signed with the reply invitation."""
    facts = facts_for("undercharge/notice", "owner")
    message = render("undercharge/notice", language, Channel.sms, facts)
    assert check("undercharge/notice", language, Channel.sms, facts, message) == []
    invitation = render("common/satisfaction", language, Channel.sms, facts).body.split("\n")[-1]
    resigned = replace(message, body=message.body.rsplit("\n", 1)[0] + "\n" + invitation)
    assert check("undercharge/notice", language, Channel.sms, facts, resigned) == [
        f"undercharge/notice (sms, {language}): reach: invites a reply, but the case closes with this message"]


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("template", [name for name in TEMPLATES if name not in LETTERS])
def test_every_text_fits_two_segments_even_with_the_longest_facts(template, language):
    """The sweep's extreme fact set (names of 40 characters, a nine-digit amount, a long store) fits two segments
    because a text too long with them shows the facts shortened; the same facts in an email are written out in full."""
    facts = facts_for(template, "long")
    body = render(template, language, Channel.sms, facts).body
    assert sms_segments(body) <= SMS_SEGMENTS_ALLOWED == 2, body
    if "{{ customer_name }}" in (TEMPLATE_DIR / f"{template}.{language}.j2").read_text(encoding="utf-8"):
        assert "Maija-Liisa" in body and LONG_NAME in render(template, language, Channel.email, facts).body


def test_a_text_shows_names_store_and_topic_shortened_and_in_gsm7():
    facts = facts_for("common/cancelled", "long").model_copy(update={"topic": "Kahdesti veloitettu lippu " * 160})
    shown = as_shown(facts, Channel.sms)
    assert (shown.customer_name, shown.owner_name, shown.store) == ("Maija-Liisa", "Anna-Kaisa L.",
                                                                   "Prisma Hervanta Tampere")
    assert shown.topic == "Kahdesti veloitettu lippu Kahdesti veloitettu..." and len(shown.topic) <= 50
    assert as_shown(facts, Channel.email) == facts, "an email or a call says it all"
    typeset = as_shown(facts_for("common/acknowledgement", "typeset"), Channel.sms)
    assert (typeset.customer_name, typeset.owner_name, typeset.store) == ("Sarka", "Zoe L.", 'Kahvila "Kulma"')
    fits = render("common/acknowledgement", Language.en, Channel.sms, facts_for("common/acknowledgement", "typeset"))
    assert "Sarka Dvorak" in fits.body and "Zoe Lukasiewicz" in fits.body, "a text that fits is not shortened"
    assert typeset.topic == "charged twice - 9,95 €... again", "the euro sign is GSM-7 (its extension table)"


@pytest.mark.parametrize("language", list(Language))
def test_a_whole_description_as_the_topic_still_fits_a_text(language):
    """A complaint without a topic is acknowledged with its description (up to 4,000 characters): in a text, its
    first words."""
    facts = facts_for("common/acknowledgement", "long").model_copy(update={"topic": "Lippu veloitettiin " * 200})
    message = render("common/acknowledgement", language, Channel.sms, facts)
    assert check("common/acknowledgement", language, Channel.sms, facts, message) == []
    assert sms_segments(message.body) <= 2


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("template", sorted(LETTERS))
def test_a_letter_is_long_because_it_carries_in_full_what_the_law_wants_whole(template, language):
    """The letters are exempt from the segments only for what they carry whole: legal's findings and actions of
    a thousand characters each reach the customer to the last word, in a text as in an email."""
    long_findings = FINDINGS.model_copy(update={"findings": "Löydös. " * 125, "actions": "Toimi. " * 140})
    facts = facts_for(template, "long").model_copy(update={"findings": long_findings})
    body = render(template, language, Channel.sms, facts).body
    assert long_findings.findings.strip() in body and long_findings.actions.strip() in body
    assert check(template, language, Channel.sms, facts, render(template, language, Channel.sms, facts)) == []


def test_a_text_that_fits_says_every_fact_in_full():
    """Shortening is for a text that would be too long: one that fits greets, signs and names the store in full."""
    facts = facts_for("common/cancelled", "owner").model_copy(update={
        "customer_name": "Dr. Maija Meikäläinen", "owner_name": "Aino Maria Virtanen", "store": "Prisma Kaleva Oulu"})
    message = render("common/cancelled", Language.en, Channel.sms, facts)
    assert "Hello Dr. Maija Meikäläinen," in message.body and "Aino Maria Virtanen, customer service" in message.body
    assert "Prisma Kaleva Oulu" in message.body and message.shown.owner_name == "Aino Maria Virtanen"
    assert check("common/cancelled", Language.en, Channel.sms, facts, message) == []


def test_a_long_text_shortens_the_owner_only_to_a_name_that_is_still_theirs():
    assert _owner_in_a_text("Anna-Kaisa Kristiina Lehtinen-Virtanen") == "Anna-Kaisa L."
    assert _owner_in_a_text("Virtanen, Aino") == "Virtanen", "surname first: an initial would name someone else"
    assert _owner_in_a_text("Dr. Aino Virtanen") == "Dr."
    assert _owner_in_a_text("Duty.Manager") == "Duty.Manager"
    assert _owner_in_a_text("Aino") == "Aino"


@pytest.mark.parametrize("channel", CHANNELS)
def test_an_owner_whose_display_name_is_only_spaces_is_signed_by_the_team(channel):
    facts = facts_for("overcharge/ask_destination", "long").model_copy(update={"owner_name": "   "})
    message = render("overcharge/ask_destination", Language.en, channel, facts)
    assert "   " not in message.body and message.shown.owner_name is None, message.body


def test_a_display_name_of_spaces_is_refused_at_the_edge():
    with pytest.raises(ValidationError, match="display_name"):
        AccountIn(id="aino.agent", display_name="   ", email="aino@example.test", roles=["agent"])


def test_a_text_keeps_decomposed_letters_and_superscripts_as_they_mean():
    """A decomposed "ä" (as macOS sends it) is GSM-7's "ä"; "10²" and "m²" are not "102" and "m2": they stay, and
    the text is UCS-2, which the segment count then bills."""
    assert in_gsm7("Ha\u0308meenlinna") == "Hämeenlinna" and is_gsm7(in_gsm7("Ha\u0308meenlinna"))
    assert in_gsm7("Šárka") == "Sarka"
    assert in_gsm7("10² m² ½") == "10² m² ½" and not is_gsm7(in_gsm7("10²"))
    assert sms_segments(in_gsm7("m²" * 40)) == 2, "80 UCS-2 characters: two segments of 67"
