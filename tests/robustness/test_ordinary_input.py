"""Ordinary input, as a new user types it, gets a 4xx naming the field or is served, never a 500: datetimes
without a zone or at the ends of the calendar, line breaks in one-line texts (they end up in email subjects),
a name of one space, a long Message-ID from a mail gateway, a signature header that is not ASCII."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from schemas.auth import PrincipalKind, Scope
from schemas.inputs import CLOCK_SKEW, KEPT_YEARS_RULE, PAST_INSTANT_RULE
from tests.harness import Stack, sign_email
from tests.scenarios.test_s3_s4_complaints import OWNER, PHONE, complaint
from tests.test_intake import incident

FAR_ENDS = ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"]
FILTERS = [("/cases", "opened_after"), ("/cases", "opened_before"), ("/metrics/summary", "opened_from"),
           ("/metrics/summary", "opened_to"), ("/customers/access-records", "since"),
           ("/customers/access-records", "until")]


def _fields(response) -> list[list]:
    return [error["loc"] for error in response.json()["detail"]]


@pytest.mark.parametrize(("path", "name"), FILTERS)
async def test_a_datetime_without_a_zone_is_refused_naming_the_parameter(live_stack: Stack, path, name):
    response = await live_stack.api.get(path, params={name: "2026-01-01T00:00:00"})
    assert response.status_code == 422
    assert _fields(response) == [["query", name]] and "timezone" in response.text


@pytest.mark.parametrize(("path", "name"), FILTERS)
async def test_datetimes_at_the_ends_of_the_calendar_are_refused_naming_the_parameter_and_limit(
        live_stack: Stack, path, name):
    for instant in FAR_ENDS:
        response = await live_stack.api.get(path, params={name: instant})
        assert response.status_code == 422, (instant, response.text)
        assert _fields(response) == [["query", name]] and KEPT_YEARS_RULE in response.text, instant
    for instant in ("1970-01-01T00:00:00Z", "2099-12-31T23:59:59Z"):  # the kept years' own ends are served
        assert (await live_stack.api.get(path, params={name: instant})).status_code in (200, 422)
    period = {"opened_from": "2026-01-01T00:00:00Z", "opened_to": "9999-12-31T23:59:59Z"}
    refused = await live_stack.api.get("/metrics/summary", params=period)
    assert _fields(refused) == [["query", "opened_to"]] and "before" not in refused.text, "the limit, not the order"


async def test_when_an_incident_occurred_lies_between_1970_and_now(live_stack: Stack):
    soon = (datetime.now(UTC) + CLOCK_SKEW / 2).isoformat()
    for occurred_at in (*FAR_ENDS, "1969-12-31T23:59:59Z", (datetime.now(UTC) + timedelta(hours=1)).isoformat()):
        response = await live_stack.api.post("/incidents", json=incident("far", occurred_at=occurred_at))
        assert response.status_code == 422, (occurred_at, response.text)
        assert _fields(response) == [["body", "occurred_at"]] and PAST_INSTANT_RULE in response.text
    for number, occurred_at in enumerate(("1970-01-01T00:00:00Z", "2026-01-01T00:00:00+14:00", soon)):
        response = await live_stack.api.post("/incidents", json=incident(f"near-{number}", occurred_at=occurred_at))
        assert response.status_code == 201, (occurred_at, response.text)


@pytest.mark.parametrize(("field", "value"), [
    ("store", "K-Market\r\nBcc: everyone@example.com"), ("store", "K-Market\nTikkurila"),
    ("topic", "charged twice\rfor sport"), ("owner", "aino\n"), ("store", " "), ("topic", "\t"),
])
async def test_line_breaks_and_blanks_in_one_line_fields_are_refused_at_intake(live_stack: Stack, field, value):
    body = complaint("crlf-1", **{field: value}) if field == "topic" else incident("crlf-1", **{field: value})
    response = await live_stack.api.post("/incidents", json=body)
    assert response.status_code == 422, response.text
    assert _fields(response) == [["body", field]]
    assert (await live_stack.api.get("/cases")).json()["total"] == 0


@pytest.mark.parametrize("name", [" ", "Jari\r\nVirtanen", "Jari\u2028Virtanen"])
async def test_a_customer_name_of_one_space_or_two_lines_is_refused(live_stack: Stack, name):
    body = incident("name-1", customer={"name": name, "phone": PHONE})
    response = await live_stack.api.post("/incidents", json=body)
    assert response.status_code == 422 and _fields(response) == [["body", "customer", "name"]]


async def test_an_agent_name_of_one_space_is_refused_at_responses(live_stack: Stack):
    case_id = (await live_stack.api.post("/incidents", json=complaint("resp-1"))).json()["case_id"]
    response = await live_stack.api.post(f"/cases/{case_id}/responses", headers=live_stack.key(OWNER, Scope.cases_act),
                                         json={"agent_name": " ", "text": "Hello Jari, about the sports package."})
    assert response.status_code == 422 and _fields(response) == [["body", "agent_name"]]


async def test_an_email_with_a_long_message_id_is_taken(live_stack: Stack):
    customer = {"name": "Jari Virtanen", "email": "jari@example.com", "language": "en"}
    case_id = (await live_stack.api.post("/incidents", json=complaint("mail-1", customer=customer))).json()["case_id"]
    reference = live_stack.case(case_id).reference
    message_id = f"<{'x' * 290}@mail.example.com>"
    carrier = live_stack.key("mail.gateway", Scope.messages_inbound, kind=PrincipalKind.carrier)
    content, signed = sign_email(live_stack.settings, {
        "sender": "jari@example.com", "subject": f"Re: Ref {reference}", "text": "Thank you", "message_id": message_id})
    response = await live_stack.api.post("/webhooks/email", headers={**carrier, **signed}, content=content)
    assert response.status_code == 202, response.text
    assert response.json()["case_id"] == case_id


@pytest.mark.parametrize("header", ["X-Signature-256", "X-Signature-Timestamp"])
async def test_a_signature_header_with_a_non_ascii_character_is_a_401_not_a_500(live_stack: Stack, header: str):
    """Review minor 9: a header may carry any Latin-1 character (a copy-pasted 'sha256=…' with an accent)."""
    carrier = live_stack.key("mail.gateway", Scope.messages_inbound, kind=PrincipalKind.carrier)
    content, signed = sign_email(live_stack.settings, {"sender": "jari@example.com", "text": "Thank you"})
    odd = {**signed, header: (signed[header][:-1] + "ä").encode("latin-1")}
    response = await live_stack.api.post("/webhooks/email", headers={**carrier, **odd}, content=content)
    assert response.status_code == 401, response.text


async def test_an_integer_written_as_true_or_as_text_is_refused_and_as_3_0_taken(live_stack: Stack):
    for amount, status in ((True, 422), ("995", 422), (995.5, 422), (995.0, 201)):
        body = incident(f"num-{status}-{amount}", amount={"amount_minor": amount, "currency": "EUR"})
        assert (await live_stack.api.post("/incidents", json=body)).status_code == status, amount


async def test_a_datetime_as_a_number_or_without_a_zone_is_refused_in_a_body(live_stack: Stack):
    for occurred_at in (0, 1767225600, "2026-01-01T00:00:00"):
        body = incident(f"when-{occurred_at}", occurred_at=occurred_at)
        response = await live_stack.api.post("/incidents", json=body)
        assert response.status_code == 422 and _fields(response) == [["body", "occurred_at"]], occurred_at
