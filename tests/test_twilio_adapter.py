"""The Twilio adapters through the official SDK, over real HTTP, against a local imitation of Twilio's REST API."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from xml.etree import ElementTree

import pytest
from twilio.base.exceptions import TwilioRestException

from providers.messaging import MessageRefused, RecipientRejected
from providers.messaging.twilio import TwilioSmsSender, TwilioVoiceCaller, twilio_client
from schemas.messages import DeliveryStatus
from tests.http_standin import FormApiStandIn, Received, serving

ACCOUNT = "AC" + "0" * 32
TOKEN = "secret-token"
OUR_NUMBER = "+358401234567"
CUSTOMER = "+358501112233"
KEY = "case-1:overcharge/ask_destination:1"
BODY = "Hei Maija, veloitimme liikaa: palautamme 9,95 €. Vastaa TILI tai KORTTI."


class FakeTwilio(FormApiStandIn):
    """Answers `POST .../Messages.json` and `.../Calls.json` like Twilio: 201 and the created resource as JSON,
    or the error set in `fail_with`."""

    def answer(self, request: Received) -> tuple[int, dict]:
        return self.fail_with or (201, _created(request.path, request.form))


def _created(path: str, form: dict[str, str]) -> dict:
    prefix = "SM" if path.endswith("/Messages.json") else "CA"
    return {"sid": prefix + uuid.uuid4().hex, "account_sid": ACCOUNT, "to": form["To"], "from": form["From"],
            "body": form.get("Body"), "status": "queued", "api_version": "2010-04-01"}


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with serving(FakeTwilio()) as server:
        yield server


@pytest.fixture
def sms(twilio: FakeTwilio) -> TwilioSmsSender:
    client = twilio_client(ACCOUNT, TOKEN, api_base_url=twilio.base_url)
    return TwilioSmsSender(client, OUR_NUMBER, "https://hooks.example/twilio/status?channel=sms")


def test_an_sms_reaches_twilio_with_our_number_text_and_a_traceable_callback(
        twilio: FakeTwilio, sms: TwilioSmsSender) -> None:
    delivery = sms.send(KEY, CUSTOMER, "", BODY)

    [request] = twilio.received
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    assert request.form["To"] == CUSTOMER
    assert request.form["From"] == OUR_NUMBER
    assert request.form["Body"] == BODY
    assert request.form["StatusCallback"] == (
        "https://hooks.example/twilio/status?channel=sms&ref=case-1%3Aovercharge%2Fask_destination%3A1")
    assert delivery.provider_ref.startswith("SM")
    assert delivery.status == DeliveryStatus.sent


def test_a_call_says_the_message_in_finnish_and_listens_for_the_answer(twilio: FakeTwilio) -> None:
    client = twilio_client(ACCOUNT, TOKEN, api_base_url=twilio.base_url)
    caller = TwilioVoiceCaller(client, OUR_NUMBER, "https://hooks.example/twilio/status",
                               "https://hooks.example/twilio/answer", language="fi-FI")

    delivery = caller.send(KEY, CUSTOMER, "", BODY)

    [request] = twilio.received
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT}/Calls.json"
    assert (request.form["To"], request.form["From"]) == (CUSTOMER, OUR_NUMBER)
    assert request.form["StatusCallback"].endswith("?ref=case-1%3Aovercharge%2Fask_destination%3A1")
    gather = ElementTree.fromstring(request.form["Twiml"]).find("Gather")
    assert gather.get("input") == "dtmf speech"
    assert gather.get("action") == "https://hooks.example/twilio/answer?ref=case-1%3Aovercharge%2Fask_destination%3A1"
    said = gather.find("Say")
    assert (said.text, said.get("language")) == (BODY, "fi-FI")
    assert delivery.provider_ref.startswith("CA")
    assert delivery.status == DeliveryStatus.sent


@pytest.mark.parametrize("code", [21211, 21408, 21610, 21614])
def test_a_number_that_can_never_receive_is_rejected_for_good(
        twilio: FakeTwilio, sms: TwilioSmsSender, code: int) -> None:
    twilio.fail_with = (400, {"code": code, "message": "rejected", "status": 400,
                              "more_info": f"https://www.twilio.com/docs/errors/{code}"})
    with pytest.raises(RecipientRejected, match=str(code)):
        sms.send(KEY, "+3580", "", BODY)


def test_a_throttled_send_is_left_to_the_retry(twilio: FakeTwilio, sms: TwilioSmsSender) -> None:
    twilio.fail_with = (429, {"code": 20429, "message": "Too Many Requests", "status": 429})
    with pytest.raises(TwilioRestException) as raised:
        sms.send(KEY, CUSTOMER, "", BODY)
    assert raised.value.code == 20429


@pytest.mark.parametrize(("status", "code"), [(400, 21606), (400, 21617), (401, 20003), (403, 20008)])
def test_a_message_or_account_twilio_refuses_is_refused_for_good(
        twilio: FakeTwilio, sms: TwilioSmsSender, status: int, code: int) -> None:
    twilio.fail_with = (status, {"code": code, "message": "refused", "status": status})
    with pytest.raises(MessageRefused, match=f"code {code}"):
        sms.send(KEY, CUSTOMER, "", BODY)


@pytest.mark.parametrize("status", [500, 503])
def test_twilio_in_trouble_is_left_to_the_retry(twilio: FakeTwilio, sms: TwilioSmsSender, status: int) -> None:
    twilio.fail_with = (status, {"code": 20500, "message": "Internal Server Error", "status": status})
    with pytest.raises(TwilioRestException):
        sms.send(KEY, CUSTOMER, "", BODY)
