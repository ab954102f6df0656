"""The read model behaves the same on SQLite and on PostgreSQL. Each test here is a difference PostgreSQL once
showed: column lengths SQLite never enforced, matching that was case-sensitive on one and not the other, and an
insert-once written for one dialect."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from schemas.api import ReplyIn
from schemas.incidents import IncidentIn
from schemas.privacy import SubjectRef
from schemas.progress import CaseProgress, CaseStatus, CaseStep
from schemas.replies import IntentKind, ReplyIntent
from store.cases import add_timeline_entry, apply_progress, open_case
from store.db import session_for
from store.directory import record_access
from store.erasure import ERASED, erase_customer
from store.replies import record_inbound
from store.tables import AccessRecordRow, CaseRow, TimelineRow

pytestmark = pytest.mark.both_databases

NAME, PHONE = "Eeva Erämaa", "+358405550199"
TENANT = "acme"
LONGEST_EMAIL = f"{'e' * 64}@{'.'.join(['d' * 63] * 4)}"[:320]


def a_case(database_url: str, external_id: str = "cc-1", status: CaseStatus = CaseStatus.open,
           customer: tuple[str, str] = (NAME, PHONE)) -> str:
    name, phone = customer
    incident = IncidentIn.model_validate({
        "external_id": external_id, "kind": "overcharge", "source": "contact_centre", "store": "Prisma Kaleva",
        "amount": {"amount_minor": 1400, "currency": "EUR"}, "customer": {"name": name, "phone": phone}})
    with session_for(database_url) as session:
        row, _ = open_case(session, f"case-{external_id}", external_id.upper()[:8], TENANT, "till-01", incident,
                           datetime.now(UTC), owner="aino.agent")
        row.status = status
        session.add(row)
        session.commit()
        return row.id


def timeline(database_url: str, case_id: str) -> list[TimelineRow]:
    with session_for(database_url) as session:
        return list(session.exec(select(TimelineRow).where(TimelineRow.case_id == case_id)
                                 .order_by(TimelineRow.id)).all())


def test_a_reply_from_the_longest_email_address_lands_on_the_timeline(database_url: str):
    assert len(LONGEST_EMAIL) == 320
    case_id = a_case(database_url)
    reply = ReplyIn(channel="email", text="To my card, please", sender=LONGEST_EMAIL)
    with session_for(database_url) as session:
        assert record_inbound(session, TENANT, case_id, reply, ReplyIntent(kind=IntentKind.refund_destination))

    assert timeline(database_url, case_id)[-1].actor == LONGEST_EMAIL


def test_an_export_reason_of_the_longest_allowed_length_is_recorded_whole(database_url: str):
    reason = "the customer's request by registered letter, " + "x" * 455  # 500 characters, the API's limit
    purpose = f"data subject request, export: {reason}"
    with session_for(database_url) as session:
        record_access(session, tenant=TENANT, actor="dpo", role="admin", case_id=None, subject=NAME, fields=["all"],
                      purpose=purpose)
        session.commit()
        assert session.exec(select(AccessRecordRow.purpose)).one() == purpose


def test_erasure_finds_the_name_however_it_was_capitalised(database_url: str):
    """A staff note on another customer's case quoting her in capitals, and one in lower case: both go."""
    hers = a_case(database_url, "cc-1", CaseStatus.closed)
    other = a_case(database_url, "cc-2", customer=("Olli Ojala", "+358405550100"))
    with session_for(database_url) as session:
        add_timeline_entry(session, other, f"{other}:note:1", "note", "aino.agent", f"Called {NAME.upper()} back")
        add_timeline_entry(session, other, f"{other}:note:2", "note", "aino.agent", f"{NAME.lower()} says hello")
        session.commit()
        erase_customer(session, TENANT, SubjectRef(name=NAME, phone=PHONE), requested_by="dpo", reason="her request")

    notes = [line.note for line in timeline(database_url, other) if line.step == "note"]
    assert notes == [f"Called {ERASED} back", f"{ERASED} says hello"]
    with session_for(database_url) as session:
        assert session.get(CaseRow, hers).customer_name == ERASED


def test_a_retried_step_writes_its_timeline_line_once(database_url: str):
    case_id = a_case(database_url)
    progress = CaseProgress(case_id=case_id, step=CaseStep.contact, status=CaseStatus.waiting_on_customer,
                            note="texted the customer")
    for _ in range(2):
        with session_for(database_url) as session:
            apply_progress(session, progress, entry_key=f"{case_id}:contact")
            session.commit()

    assert [line.note for line in timeline(database_url, case_id)].count("texted the customer") == 1


def test_erasure_finds_a_name_whatever_the_databases_locale() -> None:
    """PostgreSQL folds 'Ä' only under a UTF-8 ctype; the pre-filter must not depend on it, so every non-ASCII
    letter is a one-character wildcard and the exact, Unicode-aware match is made afterwards in Python."""
    from store.erasure import _locale_free_pattern

    assert _locale_free_pattern("MAIJA Meikäläinen") == "%maija meik_l_inen%"
    assert _locale_free_pattern("50%_off\\") == "%50\\%\\_off\\\\%"
