"""Refunds to the customer's original card through Stripe (the official `stripe` SDK, with a client of our own).

At most once: Stripe's Idempotency-Key is our key, so the activity's retry after "timed out after Stripe refunded"
gets the first refund back instead of a second one. Stripe keeps a key's answer for 24 hours; the activity's
retries come minutes apart, and our key also rides on the refund's metadata so the Dashboard shows which case
step a refund belongs to.

A Stripe Refund can only send money back along the payment it reverses. A transfer to the IBAN the customer gave
and cash at the service desk are refused here (RefundRejected), and the workflow hands the case to its owner, who
pays by hand.

Statuses: `succeeded` and `pending` are RefundStatus.paid: Stripe has the refund and the money is on its way
(a card refund that later fails, which is rare, comes as a `refund.failed` event, not handled here yet).
`failed` and `canceled` moved no money, and replaying the key returns the same answer: RefundRejected.
`requires_action` (only payment methods other than cards) waits for the customer: we cancel it before
rejecting, so the owner's payment by hand cannot come on top of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from stripe import CardError, IdempotencyError, InvalidRequestError, Refund, RequestsClient, StripeClient
from stripe.params import RefundCreateParams

from providers.payments import ProviderRefund, RefundRejected
from schemas.money import Money, minor_digits
from schemas.refunds import RefundStatus
from schemas.replies import RefundDestination, RefundDestinationKind

STRIPE_API_BASE = "https://api.stripe.com"

# https://docs.stripe.com/currencies: amounts go in the currency's minor unit, where Stripe counts 0 decimals for
# these, 3 for these (the last digit must be 0, or Stripe refuses), and 2 for every other currency.
_STRIPE_ZERO_DECIMAL = frozenset("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split())
_STRIPE_THREE_DECIMAL = frozenset("BHD JOD KWD OMR TND".split())

_NOT_BY_STRIPE = {
    RefundDestinationKind.bank_account: "a Stripe refund goes back to the original payment, not to a bank "
                                        "account: pay it by bank transfer",
    RefundDestinationKind.service_desk: "cash at the service desk is paid out by the desk, not through Stripe",
}

# What a payment reference starts with, and the refund parameter that names it. `py_` are the charges of
# payment methods other than cards.
_PAYMENT_FIELDS = {"pi_": "payment_intent", "ch_": "charge", "py_": "charge"}


def stripe_client(api_key: str, *, api_base: str = STRIPE_API_BASE, timeout: float = 15.0,
                  max_network_retries: int = 2) -> StripeClient:
    """A client of our own: no module-wide `stripe.api_key`, so tests and workers cannot leak into each other.

    The SDK waits 80 s for an answer by default, longer than the refund activity's 60 s start-to-close. Three
    tries of 15 s and the SDK's back-off (under 2 s) end within it, so the attempt fails for the activity to
    retry rather than being timed out under a thread still waiting. The SDK's own retries (connection errors, 409,
    5xx) send our Idempotency-Key again: as safe as the activity's. `api_base` points the client elsewhere: a
    local imitation of Stripe in tests.
    """
    return StripeClient(api_key, base_addresses={"api": api_base}, max_network_retries=max_network_retries,
                        http_client=RequestsClient(timeout=timeout))


class StripePayments:
    name = "stripe"
    key_window = timedelta(hours=23)  # Stripe keeps a key's answer for 24 hours; an hour's margin for clocks

    def __init__(self, client: StripeClient) -> None:
        self._client = client

    def refund(
        self, idempotency_key: str, amount: Money, destination: RefundDestination, original_payment_ref: str | None
    ) -> ProviderRefund:
        """Refunds `amount` of the original payment. What Stripe cannot or will not do is RefundRejected; rate
        limits, lost connections and Stripe's 5xx propagate for the activity to retry with the same key."""
        params = refund_params(idempotency_key, amount, destination, original_payment_ref)
        with _refusals():
            refund = self._client.v1.refunds.create(params, {"idempotency_key": idempotency_key})
            if refund.status == "requires_action":
                self._cancel(refund.id, idempotency_key)
        return ProviderRefund(provider_ref=refund.id, status=_paid_or_rejected(refund))

    def _cancel(self, refund_id: str, idempotency_key: str) -> None:
        """A refund waiting for the customer's action is cancelled before the owner pays by hand. The cancel has a
        key of its own, so a retry that finds the same waiting refund (Stripe replays it) cancels it only once."""
        self._client.v1.refunds.cancel(refund_id, options={"idempotency_key": f"{idempotency_key}:cancel"})
        raise RefundRejected(f"Stripe refund {refund_id} needed the customer's action (not a card payment?); "
                             "it is cancelled: pay it by hand")


def refund_params(idempotency_key: str, amount: Money, destination: RefundDestination,
                  original_payment_ref: str | None) -> RefundCreateParams:
    """The refund Stripe is asked for, or RefundRejected before any call when Stripe cannot make it."""
    if destination.kind in _NOT_BY_STRIPE:
        raise RefundRejected(_NOT_BY_STRIPE[destination.kind])
    field = next((name for prefix, name in _PAYMENT_FIELDS.items()
                  if original_payment_ref and original_payment_ref.startswith(prefix)), None)
    if field is None:
        raise RefundRejected(f"no Stripe payment to refund: {original_payment_ref!r} is not a PaymentIntent "
                             "(pi_...) or charge (ch_...) id")
    params: RefundCreateParams = {"amount": stripe_amount(amount), "currency": amount.currency.lower(),
                                  "metadata": {"idempotency_key": idempotency_key}}
    params[field] = original_payment_ref
    return params


def stripe_amount(amount: Money) -> int:
    """Our minor units (ISO 4217's digits) in Stripe's. They agree for nearly every currency, JPY and the other
    zero-decimal ones included. Where ISO counts no decimals but Stripe keeps two for compatibility (ISK, and any
    other ISO zero-digit code Stripe does not list as zero-decimal), 5 ISK is 5 for us and 500 for Stripe. HUF and
    TWD have two decimals on both sides (whole units matter only for Stripe payouts). Where ISO has more digits
    than Stripe (LYD, TND, ... with three; CLF with four), an amount Stripe cannot express is rejected, never
    rounded."""
    shift = _stripe_decimals(amount.currency) - minor_digits(amount.currency)
    if shift >= 0:
        return amount.amount_minor * 10**shift
    whole, rest = divmod(amount.amount_minor, 10**-shift)
    if rest:
        raise RefundRejected(f"{amount} has more decimals than Stripe takes in {amount.currency}")
    return whole


def _stripe_decimals(currency: str) -> int:
    if currency in _STRIPE_ZERO_DECIMAL:
        return 0
    return 3 if currency in _STRIPE_THREE_DECIMAL else 2


def _paid_or_rejected(refund: Refund) -> RefundStatus:
    """Stripe's refund status in ours. An unknown status is rejected, naming the refund: the owner looks at it
    in the Dashboard before paying by hand, rather than us telling the customer about money that may not move."""
    if refund.status in ("succeeded", "pending"):
        return RefundStatus.paid
    if refund.status in ("failed", "canceled"):
        reason = getattr(refund, "failure_reason", None) or "no reason given"
        raise RefundRejected(f"Stripe refund {refund.id} {refund.status}: {reason}")
    raise RefundRejected(f"Stripe refund {refund.id} has the unexpected status {refund.status!r}: "
                         "check it in the Dashboard before paying by hand")


@contextmanager
def _refusals() -> Iterator[None]:
    """Stripe saying no for good becomes RefundRejected: the card's issuer refused (card_error), or the request
    cannot succeed as it is (charge already refunded, amount above what is left, no such payment, our key reused
    with other parameters). Everything else propagates for the retry, our own bad API key included: once it is
    fixed, the retry pays, where a rejection would send every case meanwhile to be paid by hand."""
    try:
        yield
    except (CardError, InvalidRequestError, IdempotencyError) as error:
        raise RefundRejected(f"Stripe {error.code or type(error).__name__}: {error.user_message}") from error
