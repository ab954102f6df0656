"""The Stripe refund adapter through the official SDK, over real HTTP, against a local imitation of Stripe's API."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from stripe import APIError, RateLimitError

from providers.payments import RefundRejected
from providers.payments.stripe import StripePayments, stripe_amount, stripe_client
from schemas.money import Money
from schemas.refunds import RefundStatus
from schemas.replies import RefundDestination, RefundDestinationKind
from tests.http_standin import FormApiStandIn, Received, serving

API_KEY = "sk_test_" + "0" * 24
KEY = "case-1:refund"
PAYMENT_INTENT = "pi_3PqRsTuVwXyZ0123456789ab"
CHARGE = "ch_3PqRsTuVwXyZ0123456789ab"
CARD = RefundDestination(kind=RefundDestinationKind.original_card)
EUR_995 = Money(amount_minor=995, currency="EUR")


class FakeStripe(FormApiStandIn):
    """Answers `POST /v1/refunds` like Stripe: the created refund as JSON, or the error set in `fail_with`.
    A key it has answered before gets the first answer again and creates nothing (Stripe's idempotency); an
    error is not kept, as Stripe keeps no answer for a request it did not execute. `POST /v1/refunds/<id>/cancel`
    cancels. New refunds get `new_status`."""

    def __init__(self) -> None:
        super().__init__()
        self.refunds: dict[str, dict] = {}
        self.new_status = "succeeded"
        self._answers: dict[str | None, tuple[int, dict]] = {}
        self._lock = threading.Lock()

    def answer(self, request: Received) -> tuple[int, dict]:
        path, form, key = request.path, request.form, request.headers.get("Idempotency-Key")
        with self._lock:
            if key in self._answers:
                return self._answers[key]
            if self.fail_with:
                return self.fail_with
            refund = self._cancel(path) if path.endswith("/cancel") else self._create(form)
            self._answers[key] = (200, refund)
            return self._answers[key]

    def _create(self, form: dict[str, str]) -> dict:
        refund = {"id": "re_" + uuid.uuid4().hex[:24], "object": "refund", "amount": int(form["amount"]),
                  "currency": form["currency"], "payment_intent": form.get("payment_intent"),
                  "charge": form.get("charge", CHARGE), "status": self.new_status, "created": int(time.time()),
                  "failure_reason": "expired_or_canceled_card" if self.new_status == "failed" else None,
                  "metadata": {"idempotency_key": form.get("metadata[idempotency_key]")}}
        self.refunds[refund["id"]] = refund
        return dict(refund)

    def _cancel(self, path: str) -> dict:
        refund = self.refunds[path.split("/")[3]]
        refund["status"] = "canceled"
        return dict(refund)


def _stripe_error(error_type: str, message: str, code: str | None = None) -> dict:
    return {"error": {"type": error_type, "code": code, "message": message,
                      "doc_url": f"https://docs.stripe.com/error-codes/{code}" if code else None}}


@pytest.fixture
def stripe_api() -> Iterator[FakeStripe]:
    with serving(FakeStripe()) as server:
        yield server


@pytest.fixture
def payments(stripe_api: FakeStripe) -> StripePayments:
    """No SDK retries: an error reaches the test at once instead of after the SDK's back-off sleeps."""
    return StripePayments(stripe_client(API_KEY, api_base=stripe_api.base_url, max_network_retries=0))


def test_a_card_refund_reverses_the_payment_intent_for_the_exact_amount_under_our_key(
        stripe_api: FakeStripe, payments: StripePayments) -> None:
    refund = payments.refund(KEY, EUR_995, CARD, PAYMENT_INTENT)

    [request] = stripe_api.received
    assert request.path == "/v1/refunds"
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["Idempotency-Key"] == KEY
    assert request.form == {"payment_intent": PAYMENT_INTENT, "amount": "995", "currency": "eur",
                            "metadata[idempotency_key]": KEY}
    assert refund.provider_ref in stripe_api.refunds
    assert refund.status == RefundStatus.paid


def test_a_charge_id_is_refunded_as_a_charge_in_the_currencys_own_units(
        stripe_api: FakeStripe, payments: StripePayments) -> None:
    payments.refund(KEY, Money(amount_minor=500, currency="JPY"), CARD, CHARGE)

    [request] = stripe_api.received
    assert "payment_intent" not in request.form
    assert (request.form["charge"], request.form["amount"], request.form["currency"]) == (CHARGE, "500", "jpy")


def test_a_retry_with_the_same_key_gets_the_first_refund_back_and_refunds_once(
        stripe_api: FakeStripe, payments: StripePayments) -> None:
    first = payments.refund(KEY, EUR_995, CARD, PAYMENT_INTENT)
    again = payments.refund(KEY, EUR_995, CARD, PAYMENT_INTENT)

    assert [request.headers["Idempotency-Key"] for request in stripe_api.received] == [KEY, KEY]
    assert list(stripe_api.refunds) == [first.provider_ref]
    assert again == first


@pytest.mark.parametrize(("http_status", "error", "code"), [
    (400, _stripe_error("invalid_request_error", "Charge ch_3Pq has already been refunded.",
                        "charge_already_refunded"), "charge_already_refunded"),
    (400, _stripe_error("invalid_request_error", "Refund amount (€20.00) is greater than unrefunded amount on "
                        "charge (€9.95)", "amount_too_large"), "amount_too_large"),
    (404, _stripe_error("invalid_request_error", "No such payment_intent: 'pi_3Pq'", "resource_missing"),
     "resource_missing"),
    (402, _stripe_error("card_error", "Your card has expired.", "expired_card"), "expired_card"),
    (400, _stripe_error("idempotency_error", "Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with."), "IdempotencyError"),
])
def test_a_refund_stripe_refuses_for_good_is_rejected_with_stripes_reason(
        stripe_api: FakeStripe, payments: StripePayments, http_status: int, error: dict, code: str) -> None:
    stripe_api.fail_with = (http_status, error)

    with pytest.raises(RefundRejected, match=code) as rejected:
        payments.refund(KEY, EUR_995, CARD, PAYMENT_INTENT)

    assert error["error"]["message"] in str(rejected.value)
    assert stripe_api.refunds == {}


@pytest.mark.parametrize(("http_status", "error", "raised"), [
    (429, _stripe_error("invalid_request_error", "Too many requests hit the API too quickly.", "rate_limit"),
     RateLimitError),
    (500, _stripe_error("api_error", "An unknown error occurred."), APIError),
])
def test_a_passing_failure_propagates_for_the_activity_to_retry(
        stripe_api: FakeStripe, payments: StripePayments, http_status: int, error: dict, raised: type) -> None:
    stripe_api.fail_with = (http_status, error)

    with pytest.raises(raised):
        payments.refund(KEY, EUR_995, CARD, PAYMENT_INTENT)

    stripe_api.fail_with = None
    assert payments.refund(KEY, EUR_995, CARD, PAYMENT_INTENT).status == RefundStatus.paid
    assert len(stripe_api.refunds) == 1


@pytest.mark.parametrize("destination", [
    RefundDestination(kind=RefundDestinationKind.bank_account, iban="FI2112345600000785"),
    RefundDestination(kind=RefundDestinationKind.service_desk),
])
def test_a_bank_transfer_or_desk_payout_is_rejected_without_calling_stripe(
        stripe_api: FakeStripe, payments: StripePayments, destination: RefundDestination) -> None:
    with pytest.raises(RefundRejected, match="bank transfer|service desk") as rejected:
        payments.refund(KEY, EUR_995, destination, PAYMENT_INTENT)

    assert "FI21" not in str(rejected.value)  # the reason goes on the case record: no account number in it
    assert stripe_api.received == []


@pytest.mark.parametrize("payment_ref", [None, "", "txn-4711", "re_3PqRsTuVwXyZ"])
def test_without_a_stripe_payment_to_reverse_the_refund_is_rejected_without_calling_stripe(
        stripe_api: FakeStripe, payments: StripePayments, payment_ref: str | None) -> None:
    with pytest.raises(RefundRejected, match="no Stripe payment"):
        payments.refund(KEY, EUR_995, CARD, payment_ref)
    assert stripe_api.received == []


def test_a_pending_refund_is_paid_as_stripe_has_taken_it(stripe_api: FakeStripe, payments: StripePayments) -> None:
    stripe_api.new_status = "pending"
    assert payments.refund(KEY, EUR_995, CARD, PAYMENT_INTENT).status == RefundStatus.paid


def test_a_failed_refund_is_rejected_with_stripes_failure_reason(
        stripe_api: FakeStripe, payments: StripePayments) -> None:
    stripe_api.new_status = "failed"
    with pytest.raises(RefundRejected, match="failed: expired_or_canceled_card"):
        payments.refund(KEY, EUR_995, CARD, PAYMENT_INTENT)


def test_a_refund_waiting_for_the_customers_action_is_cancelled_before_it_is_rejected(
        stripe_api: FakeStripe, payments: StripePayments) -> None:
    stripe_api.new_status = "requires_action"

    with pytest.raises(RefundRejected, match="cancelled: pay it by hand"):
        payments.refund(KEY, EUR_995, CARD, PAYMENT_INTENT)

    create, cancel = stripe_api.received
    [refund] = stripe_api.refunds.values()
    assert cancel.path == f"/v1/refunds/{refund['id']}/cancel"
    assert cancel.headers["Idempotency-Key"] == f"{KEY}:cancel"
    assert refund["status"] == "canceled"


@pytest.mark.parametrize(("amount", "in_stripe_units"), [
    (EUR_995, 995),
    (Money(amount_minor=500, currency="JPY"), 500),  # zero decimals for both
    (Money(amount_minor=5120, currency="KWD"), 5120),  # three decimals for both
    (Money(amount_minor=10000, currency="HUF"), 10000),  # two decimals for both in charges and refunds
    (Money(amount_minor=5, currency="ISK"), 500),  # CLDR: no decimals; Stripe: two, always 00
])
def test_amounts_go_to_stripe_in_its_minor_units(amount: Money, in_stripe_units: int) -> None:
    assert stripe_amount(amount) == in_stripe_units


def test_an_amount_stripe_cannot_express_is_rejected_rather_than_rounded() -> None:
    """LYD has three decimals in CLDR and two at Stripe: a last digit other than 0 cannot be refunded exactly."""
    assert stripe_amount(Money(amount_minor=1250, currency="LYD")) == 125
    with pytest.raises(RefundRejected, match="more decimals"):
        stripe_amount(Money(amount_minor=1255, currency="LYD"))
