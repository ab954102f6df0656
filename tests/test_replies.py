"""Reading a customer's free-text answer: refund destinations (with IBAN checks), scores, STOP."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from schemas.replies import IntentKind, RefundDestination, RefundDestinationKind, interpret_reply


@pytest.mark.parametrize("text", ["FI21 1234 5600 0007 85", "tilille fi2112345600000785 kiitos",
                                  "Please use FI21 1234 5600 0007 85."])
def test_an_iban_in_the_answer_is_a_bank_account_destination(text: str):
    intent = interpret_reply(text)
    assert intent.destination == RefundDestination(kind=RefundDestinationKind.bank_account, iban="FI2112345600000785")


@pytest.mark.parametrize("text", ["FI2112345600000786", "FI21 1234 5600 0007 86 kiitos"])
def test_a_mistyped_iban_is_never_guessed_at(text: str):
    assert interpret_reply(text).kind is IntentKind.free_text


@pytest.mark.parametrize(("text", "kind"), [("1", RefundDestinationKind.original_card),
                                            ("Kortille kiitos", RefundDestinationKind.original_card),
                                            ("2", RefundDestinationKind.service_desk),
                                            ("haen palvelupisteestä", RefundDestinationKind.service_desk)])
def test_card_or_service_desk(text: str, kind: RefundDestinationKind):
    assert interpret_reply(text).destination.kind is kind


def test_a_digit_is_a_score_only_when_a_score_was_asked():
    assert interpret_reply("4", expecting=IntentKind.satisfaction).score == 4
    assert interpret_reply("1").kind is IntentKind.refund_destination


@pytest.mark.parametrize("text", ["STOP", "stop", "Lopeta", "SLUTA!"])
def test_stop_is_an_opt_out(text: str):
    assert interpret_reply(text).kind is IntentKind.opt_out


def test_a_bank_destination_needs_a_valid_iban():
    with pytest.raises(ValidationError, match="not a valid IBAN"):
        RefundDestination(kind=RefundDestinationKind.bank_account, iban="FI2112345600000786")
    with pytest.raises(ValidationError, match="exactly when"):
        RefundDestination(kind=RefundDestinationKind.bank_account)


def test_words_after_an_iban_never_become_part_of_it():
    """Finnish IBANs are 18 characters: "regards" cannot extend one into an account that does not exist."""
    intent = interpret_reply("FI45 5443 7323 3249 35 regards")
    assert intent.destination == RefundDestination(kind=RefundDestinationKind.bank_account, iban="FI4554437323324935")


@pytest.mark.parametrize("iban", ["FI4554437323324935REGARDS", "FI45544373233249", "DE89370400440532013001",
                                  "GB82WEST1234569876543"])
def test_country_lengths_and_checksums_come_from_the_iban_registry(iban: str):
    with pytest.raises(ValidationError, match="not a valid IBAN"):
        RefundDestination(kind=RefundDestinationKind.bank_account, iban=iban)


S1_OFFERS, S2_OFFERS = frozenset({1, 2}), frozenset({1})  # 1 card, 2 service desk; S2: 1 card (or an IBAN)


@pytest.mark.parametrize(("text", "offered"), [
    ("not to the card please", S1_OFFERS), ("Don't put it on the card", S1_OFFERS), ("no card, desk", S1_OFFERS),
    ("en halua kortille", S1_OFFERS), ("ei kortille vaan tilille", S2_OFFERS), ("älä palauta korttiin 1", S1_OFFERS),
    ("inte till kortet", S1_OFFERS), ("ej kortet tack", S1_OFFERS), ("not the service desk", S1_OFFERS),
    ("2 tickets, which one?", S2_OFFERS), ("3", S1_OFFERS), ("card, I paid 24,90", S1_OFFERS),
    ("kortille 1 tai 2", S2_OFFERS),
])
def test_a_negation_or_a_number_not_offered_is_not_understood(text: str, offered: frozenset[int]):
    """Read against what the question offered, these are asked again, never a money destination."""
    assert interpret_reply(text, IntentKind.refund_destination, offered).kind is IntentKind.free_text


@pytest.mark.parametrize(("text", "offered", "kind"), [
    ("1", S1_OFFERS, RefundDestinationKind.original_card), ("2", S1_OFFERS, RefundDestinationKind.service_desk),
    ("Kortille kiitos", S1_OFFERS, RefundDestinationKind.original_card),
    ("till kortet tack", S1_OFFERS, RefundDestinationKind.original_card),
    ("the card please", S2_OFFERS, RefundDestinationKind.original_card),
    ("haen palvelupisteestä", S1_OFFERS, RefundDestinationKind.service_desk),
    ("ei kortille, FI21 1234 5600 0007 85", S2_OFFERS, RefundDestinationKind.bank_account),
])
def test_plain_answers_still_read_against_the_offer(text: str, offered: frozenset[int], kind: RefundDestinationKind):
    assert interpret_reply(text, IntentKind.refund_destination, offered).destination.kind is kind
