"""Phone numbers as tills and CRMs write them (issue 13, item 3): normalised with `phonenumbers` in the policy's
region, refused with a reason when impossible, landlines called or emailed instead of texted, and the same
normalisation when a reply or a STOP comes in."""

from __future__ import annotations

import pytest

from schemas.auth import PrincipalKind, Scope
from schemas.phones import PhoneType, normalise_phone, phone_type
from schemas.policy import RecoveryPolicy
from settings import Settings
from store.tables import ContactOptOutRow, MessageRow, SandboxOutboxEntry
from tests.harness import Stack, eventually
from tests.scenarios.test_s1_till_overcharge import PHONE, till_record


@pytest.mark.parametrize("written", ["040 123 4567", "0401234567", "+358 40 123 4567", "+358401234567",
                                     "(040) 123-4567", "00358401234567"])
def test_a_finnish_mobile_however_written(written: str):
    assert normalise_phone(written) == "+358401234567"
    assert phone_type(normalise_phone(written)) is PhoneType.mobile


@pytest.mark.parametrize(("written", "why"), [
    ("123", "too short"), ("040 123 4567 8901 234", "too long"), ("call me", "not a phone number"),
    ("+80 123456789", "not a phone number"), ("+358 99 1234567", "not a valid number")])
def test_impossible_numbers_say_why(written: str, why: str):
    with pytest.raises(ValueError, match=why):
        normalise_phone(written)


def test_the_region_decides_numbers_without_a_country_code():
    assert normalise_phone("070 123 45 67", region="SE") == "+46701234567"
    assert phone_type("+35891234567") is PhoneType.landline


async def test_a_number_as_the_till_wrote_it_is_texted_in_e164(stack: Stack):
    record = till_record("P-1")
    record["customer"]["phone"] = "040 123 4567"
    response = await stack.api.post("/transactions", json=record)
    assert response.status_code == 200, response.text

    [question] = await eventually(lambda: stack.texts_to("+358401234567"))
    assert "€9.95" in question.body
    assert stack.case(response.json()["case"]["case_id"]).customer_phone == "+358401234567"


async def test_an_impossible_number_is_a_422_naming_customer_phone(stack: Stack):
    incident = {"external_id": "P-2", "kind": "overcharge", "source": "till",
                "amount": {"amount_minor": 995, "currency": "EUR"},
                "customer": {"name": "Maija Meikäläinen", "phone": "123"}}
    response = await stack.api.post("/incidents", json=incident)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "customer", "phone"] and "too short" in error["msg"]


async def test_a_landline_is_emailed_not_texted(stack: Stack):
    record = till_record("P-3")
    record["customer"] |= {"phone": "09 1234 5678", "email": "maija@example.fi"}
    await stack.api.post("/transactions", json=record)

    [question] = await eventually(lambda: stack.rows(SandboxOutboxEntry, channel="email"))
    assert question.to_address == "maija@example.fi" and "€9.95" in question.body
    assert stack.rows(SandboxOutboxEntry, channel="sms") == [], "a landline cannot take a text"


async def test_replies_and_stops_match_the_number_however_the_carrier_writes_it(stack: Stack):
    case_id = (await stack.api.post("/transactions", json=till_record("P-4"))).json()["case"]["case_id"]
    await eventually(lambda: stack.texts_to(PHONE))
    carrier = stack.key("gateway", Scope.messages_inbound, kind=PrincipalKind.integrator)

    answer = await stack.api.post("/webhooks/twilio/sms", headers=carrier,
                                  data={"From": "040 123 4567", "Body": "2", "MessageSid": "SM-p4"})
    assert answer.status_code == 200
    [reply] = stack.rows(MessageRow, direction="in")
    assert reply.case_id == case_id, "matched to the case by its number"

    await stack.api.post("/webhooks/twilio/sms", headers=carrier,
                         data={"From": "0401234567", "Body": "STOP", "MessageSid": "SM-p4-stop"})
    assert {row.address for row in stack.rows(ContactOptOutRow)} == {PHONE}


async def test_the_policy_sets_the_default_region(time_skipping, tmp_path):
    from tests import harness

    base = harness.test_settings(tmp_path)
    settings: Settings = base.model_copy(update={"policy": base.policy.model_copy(update={"phone_region": "SE"})})
    async with Stack.running(time_skipping, settings) as stack:
        record = till_record("P-5")
        record["customer"]["phone"] = "070 123 45 67"
        assert (await stack.api.post("/transactions", json=record)).status_code == 200
        await eventually(lambda: stack.texts_to("+46701234567"))
    assert RecoveryPolicy().phone_region == "FI"
