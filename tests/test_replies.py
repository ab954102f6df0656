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
