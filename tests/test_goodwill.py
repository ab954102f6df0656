"""Goodwill matches its value: the policy's product only when the cap allows all of it, else a credit of the cap."""

from __future__ import annotations

from schemas.compensation import CompensationKind, GoodwillPolicy
from schemas.money import Money


def eur(minor: int) -> Money:
    return Money(amount_minor=minor, currency="EUR")


def test_a_small_loss_earns_a_credit_of_the_capped_value_never_the_whole_product():
    offer = GoodwillPolicy().offer(eur(100))  # 1 EUR lost: at most 3 EUR of goodwill, the month of sport is 29.90
    assert (offer.kind, offer.value) == (CompensationKind.credit, eur(300))
    assert "sports" not in offer.product and "3.00 EUR" in offer.product


def test_a_loss_large_enough_earns_the_product():
    offer = GoodwillPolicy().offer(eur(1400))  # S3: 14 EUR lost, 42 EUR cap above the 29.90 product
    assert (offer.kind, offer.product, offer.value) == (CompensationKind.voucher, "one month of the sports package",
                                                        eur(2990))
