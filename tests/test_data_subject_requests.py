"""Data-subject requests (S5): a customer's data can be exported, all of it, and erased so that it appears
nowhere in the database file, while the money that moved stays on the books. Both need an administrator's key
and are on the record themselves."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, make_url

from schemas.auth import PrincipalKind, Scope
from schemas.progress import CaseOutcome
from store.db import engine_for, session_for
from store.directory import add_customer
from store.tables import AccessRecordRow, ErasureRow, RefundRow
from tests.harness import TENANT, Stack, eventually

pytestmark = pytest.mark.both_databases  # the read model's behaviour on SQLite and PostgreSQL alike

NAME, PHONE, EMAIL = "Eeva Erämaa", "+358405550199", "eeva.eramaa@example.fi"
IBAN, IBAN_AS_WRITTEN = "FI2112345600000785", "FI21 1234 5600 0007 85"
TRACES = (NAME, NAME.casefold(), PHONE, EMAIL, IBAN, IBAN_AS_WRITTEN)
STAFF_NOTE = "Colleagues: she was upset on the phone, call rather than text."
SUBJECT = {"name": NAME, "phone": PHONE, "reason": "the customer's request by email"}


def overcharged() -> dict:
    return {"external_id": "cc-9001", "kind": "overcharge", "source": "contact_centre", "owner": "aino.agent",
            "store": "Prisma Kaleva", "amount": {"amount_minor": 1400, "currency": "EUR"},
            "customer": {"name": NAME, "phone": PHONE, "email": EMAIL, "language": "en"}}


async def text_from_customer(stack: Stack, body: str, sid: str) -> None:
    carrier = stack.key("twilio", Scope.messages_inbound, kind=PrincipalKind.carrier)
    response = await stack.api.post("/webhooks/twilio/sms", headers=carrier,
                                    data={"From": PHONE, "Body": body, "MessageSid": sid})
    assert response.status_code == 200, response.text


@pytest.fixture
async def customer_with_a_history(stack: Stack) -> str:
    """A register entry; a case where the owner read the number, the customer gave an IBAN and was refunded
    there; and a text after the case closed, which matched no case."""
    with session_for(stack.settings.database_url) as session:
        add_customer(session, TENANT, NAME, city="Oulu", phone=PHONE, email=EMAIL)
    case_id = (await stack.api.post("/incidents", json=overcharged())).json()["case_id"]
    await eventually(lambda: stack.texts_to(PHONE))
    owner = stack.key("aino.agent", Scope.cases_read, Scope.cases_act)
    assert (await stack.api.post(f"/cases/{case_id}/notes", headers=owner,
                                 json={"text": STAFF_NOTE})).status_code == 201
    assert (await stack.api.post(f"/cases/{case_id}/reveal", headers=owner, json={
        "fields": ["phone"], "purpose": "calling the customer about the refund"})).status_code == 200
    await text_from_customer(stack, f"Please pay it to {IBAN_AS_WRITTEN}, {NAME}", "SM-1")
    await eventually(lambda: stack.refunds(case_id))

    erase_too_soon = await stack.api.post("/customers/erase", json=SUBJECT)
    assert erase_too_soon.status_code == 409 and case_id in erase_too_soon.json()["detail"]
    await stack.skip(stack.settings.policy.follow_up_delay)
    await eventually(lambda: len(stack.texts_to(PHONE)) == 3)
    await text_from_customer(stack, "5", "SM-2")
    assert await stack.env.client.get_workflow_handle(case_id).result() == CaseOutcome.recovered
    await text_from_customer(stack, "Thanks again!", "SM-3")
    return case_id


async def test_the_export_holds_everything_about_the_customer(stack: Stack, customer_with_a_history: str):
    case_id = customer_with_a_history
    assert (await stack.api.post("/customers/export", json=SUBJECT,
                                 headers=stack.key("aino.agent", Scope.cases_read))).status_code == 403
    response = await stack.api.post("/customers/export", json=SUBJECT)
    assert response.status_code == 200, response.text
    export = response.json()

    [case] = export["cases"]
    assert (case["summary"]["id"], case["customer_phone"], case["customer_email"]) == (case_id, PHONE, EMAIL)
    assert any(IBAN_AS_WRITTEN in message["body"] for message in case["messages"]), "in clear: it is theirs"
    assert len([m for m in case["messages"] if m["direction"] == "out"]) == 3
    assert [(r["amount"]["amount_minor"], r["destination"]) for r in case["refunds"]] == [(1400, "bank_account")]
    assert {"intake", "refund", "close"} <= {entry["step"] for entry in case["timeline"]}
    assert all(entry["note"] != STAFF_NOTE for entry in case["timeline"]), "staff notes are not the customer's"
    assert [reply["body"] for reply in export["unmatched_replies"]] == ["Thanks again!"]
    assert export["directory_entries"] == [{"name": NAME, "city": "Oulu", "phone": PHONE, "email": EMAIL}]
    purposes = [record["purpose"] for record in export["access_records"]]
    assert "calling the customer about the refund" in purposes
    assert purposes[0].startswith("data subject request, export"), "the export is itself on the record"
    [own_record] = stack.rows(AccessRecordRow, id=export["access_record_id"])
    assert (own_record.fields, own_record.role) == (["all"], "administrator")


async def test_after_erasure_the_customer_appears_nowhere_in_the_database_file(stack: Stack,
                                                                              customer_with_a_history: str):
    case_id = customer_with_a_history
    url = make_url(stack.settings.database_url)
    assert all(_anywhere(url, trace) for trace in (NAME, PHONE, EMAIL, IBAN_AS_WRITTEN)), "test is sound"

    response = await stack.api.post("/customers/erase", json=SUBJECT)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["cases"] == [case_id] and report["kept"] == {"refunds": 1}
    await eventually(lambda: stack.rows(ErasureRow)[0].purged_at is not None)
    status = (await stack.api.get(f"/customers/erasures/{report['erasure_id']}")).json()
    assert status["purged_at"] is not None

    found = [trace for trace in TRACES if _anywhere(url, trace)]
    assert found == [], f"still in the database: {found}"
    [refund] = stack.rows(RefundRow, case_id=case_id)
    assert (refund.amount_minor, refund.destination) == (1400, "bank_account"), "the books keep the refund"
    assert len(stack.ledger()) == 1
    case = (await stack.api.get(f"/cases/{case_id}")).json()
    assert case["customer_name"] == "[erased]" and case["outcome"] == "recovered"
    [erasure] = stack.rows(ErasureRow)
    assert erasure.case_ids == [case_id] and erasure.requested_by.startswith("admin-")
    assert all(record.subject == f"erased:{erasure.id}" for record in stack.rows(AccessRecordRow))

    again = (await stack.api.post("/customers/export", json=SUBJECT)).json()
    assert again["cases"] == [] and again["directory_entries"] == [] and again["unmatched_replies"] == []


def _anywhere(url: URL, trace: str) -> bool:
    """SQLite: in the database's files, as raw bytes. PostgreSQL: in any row of any table, as text (its files are
    the server's; VACUUM frees the dead rows for reuse, see store/erasure.py)."""
    if url.get_backend_name() == "sqlite":
        return _in_files(Path(url.database), trace)
    with engine_for(url.render_as_string(hide_password=False)).connect() as connection:
        return any(connection.execute(text(f'SELECT 1 FROM "{table}" AS r WHERE r::text ILIKE :trace LIMIT 1'),
                                      {"trace": f"%{trace}%"}).first()
                   for table in inspect(connection).get_table_names())


def _in_files(database: Path, trace: str) -> bool:
    """Whether the text is anywhere in the database file or its write-ahead log, as raw bytes."""
    needle = trace.encode()
    return any(path.exists() and needle in path.read_bytes()
               for path in (database, database.with_name(database.name + "-wal")))
