"""Migration 0010: a sale reported before the deploy keeps its case. Cases opened before the ledger had no money
event, and those opened with it keyed the raw store and the kind; a report of the same sale after the deploy must
still find the case that handles it, and a second pre-ledger case of the sale must not pay it again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import MetaData, Table, create_engine
from sqlmodel import Session, SQLModel, select

from activities.payments import PaymentActivities
from providers.payments.sandbox import SandboxPayments
from schemas.incidents import IncidentIn
from schemas.refunds import RefundRequest, money_event_key
from store import refunds as ledger
from store.cases import open_case
from store.db import session_for
from store.migrate import alembic_config
from store.tables import MoneyEventRow, RefundRow, SandboxLedgerEntry
from tests.scenarios.test_paid_once import contact_centre_report

OPENED = datetime(2026, 11, 1, 9, tzinfo=UTC)


def _case(session: Session, case_id: str, minutes: int, **changes) -> IncidentIn:
    """The case as intake opens it, written into the old database with the columns its table had then (today's
    model has columns later revisions add)."""
    incident = IncidentIn.model_validate(contact_centre_report(external_id=case_id, **changes))
    scratch = create_engine("sqlite://")
    SQLModel.metadata.create_all(scratch)
    with Session(scratch) as today:
        row, _ = open_case(today, case_id, case_id[-8:].upper(), "acme", "till", incident,
                           OPENED + timedelta(minutes=minutes), owner=None)
        cases = Table("cases", MetaData(), autoload_with=session.connection())
        values = {name: getattr(row, name) for name in cases.columns.keys()}
    scratch.dispose()
    session.execute(cases.insert().values(values))
    return incident


@pytest.fixture
def upgraded(tmp_path: Path) -> str:
    """A database at 0008 holding the cases of one sale as the old code left them, then upgraded to the head."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0008")
    with Session(engine) as session:
        _case(session, "case-before-ledger", 0)  # opened before 0008: no money event
        _case(session, "case-also-before", 5, store="prisma kaleva")  # the same sale, reported twice then
        _case(session, "case-other-sale", 10, transaction_ref="T-2002")
        session.add(MoneyEventRow(key="sale:old-format:overcharge", case_id="case-other-sale"))
        _case(session, "case-no-sale", 15, transaction_ref=None)
        session.commit()
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
    engine.dispose()
    return url


def test_a_sale_reported_before_the_deploy_keeps_its_case(upgraded: str):
    incident = IncidentIn.model_validate(contact_centre_report(store="PRISMA KALEVA"))
    with session_for(upgraded) as session:
        assert ledger.claim_money_event(session, money_event_key("acme", incident, "case-new"), "case-new") == \
            "case-before-ledger", "the earliest report of the sale handles it; the new one is linked"
        other = IncidentIn.model_validate(contact_centre_report(transaction_ref="T-2002"))
        assert ledger.claim_money_event(session, money_event_key("acme", other, "case-x"), "case-x") == \
            "case-other-sale"
        keys = session.exec(select(MoneyEventRow.key)).all()
    assert "sale:old-format:overcharge" in keys and not any("case-no-sale" in key for key in keys)


def test_a_second_case_opened_before_the_ledger_does_not_pay_the_sale_again(upgraded: str):
    incident = IncidentIn.model_validate(contact_centre_report())
    payments = PaymentActivities(upgraded, SandboxPayments(upgraded))

    def refund(case_id: str):
        return payments.refund(RefundRequest(
            case_id=case_id, money_event=None, amount=incident.amount, destination={"kind": "original_card"},
            progress={"case_id": case_id, "step": "refund", "note": "refund"}))

    assert refund("case-also-before").paid_in_case == "case-before-ledger"
    assert refund("case-before-ledger").paid_in_case == "case-before-ledger"
    with session_for(upgraded) as session:
        assert len(session.exec(select(SandboxLedgerEntry)).all()) == 1
        assert [row.case_id for row in session.exec(select(RefundRow)).all()] == ["case-before-ledger"]
