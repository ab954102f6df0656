"""Phone numbers as tills and CRMs write them (issue 13, item 3): normalised with `phonenumbers` in the policy's
region, refused with a reason when impossible, landlines called or emailed instead of texted, and the same
normalisation when a reply or a STOP comes in."""

from __future__ import annotations

import pytest

from intake.cases import open_case
from schemas.auth import Principal, PrincipalKind, Scope
from schemas.incidents import Customer, IncidentIn
from schemas.phones import PhoneType, normalise_phone, phone_type
from schemas.policy import RecoveryPolicy
from settings import Settings
from store.tables import ContactOptOutRow, MessageRow, SandboxOutboxEntry
from tests.harness import TENANT, Stack, eventually
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
    carrier = stack.key("gateway", Scope.messages_inbound, kind=PrincipalKind.carrier)

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


async def test_a_number_accepted_before_still_runs_its_case(stack: Stack):
    """`+358401234` passed the old E.164 pattern but is no valid Finnish number: a case saved with it must still
    decode in the worker (on every workflow task) and go on, not fail its workflow task forever."""
    incident = IncidentIn.model_validate({
        "external_id": "P-6", "kind": "overcharge", "source": "till",
        "amount": {"amount_minor": 995, "currency": "EUR"},
        "customer": {"name": "Maija Meikäläinen", "phone": "+358401234", "phone_type": "mobile"}})
    till = Principal(id="till-1", kind=PrincipalKind.integrator, tenant=TENANT,
                     scopes=frozenset({Scope.incidents_write}))
    opened = await open_case(stack.env.client, stack.settings, till, incident)

    [text] = await eventually(lambda: stack.texts_to("+358401234"))
    assert "9,95 €" in text.body and stack.case(opened.case_id).customer_phone == "+358401234"


def test_the_saved_phone_type_is_kept_on_every_decode():
    """Decided once where the case came in; a later metadata release must not reorder a replayed case's channels."""
    saved = Customer(name="Maija", phone="+35891234567", phone_type=PhoneType.mobile)
    assert Customer.model_validate(saved.model_dump()).phone_type is PhoneType.mobile


@pytest.mark.parametrize("written", ["0700 123456", "0600 12345", "0800 12345", "+1 900 555 0199"])
async def test_premium_shared_cost_and_toll_free_numbers_are_a_422(stack: Stack, written: str):
    incident = {"external_id": f"P-7-{len(written)}", "kind": "overcharge", "source": "till",
                "amount": {"amount_minor": 995, "currency": "EUR"},
                "customer": {"name": "Maija Meikäläinen", "phone": written}}
    response = await stack.api.post("/incidents", json=incident)
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "customer", "phone"] and "not a mobile or landline" in error["msg"]
