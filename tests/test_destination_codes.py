"""The one-time code that proves a bank account: bound to the case and the account, kept only as an HMAC under
the server's secret, and its text names the account (masked)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from activities.messaging import MessagingActivities
from providers.messaging.sandbox import SandboxSender
from schemas.channels import Channel
from schemas.incidents import IncidentIn
from schemas.messages import CodeCheck, CodeMessage, MessageFacts
from schemas.progress import CaseProgress, CaseStep
from settings import Settings
from store.cases import open_case
from store.db import session_for
from store.tables import DestinationCodeRow, SandboxOutboxEntry
from tests.scenarios.test_paid_once import IBAN, contact_centre_report
from tests.scenarios.test_s1_till_overcharge import PHONE

OTHER_IBAN = "DE89370400440532013000"


def _texted_code(settings: Settings, messaging: MessagingActivities, case_id: str) -> str:
    with session_for(settings.database_url) as session:
        open_case(session, case_id, "REF00001", "acme", "till", IncidentIn.model_validate(contact_centre_report()),
                  datetime.now(UTC), owner=None)
        session.commit()
    messaging.send_destination_code(CodeMessage(
        case_id=case_id, idempotency_key=f"{case_id}:confirm_account", channel=Channel.sms, to=PHONE,
        template="common/confirm_account", language="en", iban=IBAN,
        facts=MessageFacts(customer_name="Maija", case_reference="REF00001", account="FI **** 0785"),
        progress=CaseProgress(case_id=case_id, step=CaseStep.contact, note="code")))
    with session_for(settings.database_url) as session:
        [text] = [row for row in session.exec(SandboxOutboxEntry.__table__.select()).all() if row.to_address == PHONE]
    assert "FI **** 0785" in text.body
    return text.body.split("code ")[1][:6]


def test_a_code_confirms_only_the_account_it_was_texted_for(settings: Settings):
    messaging = MessagingActivities(settings.database_url, {Channel.sms: SandboxSender(settings.database_url,
                                                                                        Channel.sms)}, b"secret-1")
    code = _texted_code(settings, messaging, "case-code-1")
    assert not messaging.check_destination_code(CodeCheck(case_id="case-code-1", text=code, iban=OTHER_IBAN))
    assert messaging.check_destination_code(CodeCheck(case_id="case-code-1", text=code, iban=IBAN))
    assert not messaging.check_destination_code(CodeCheck(case_id="case-code-1", text=code, iban=IBAN)), "once"


def test_a_leaked_code_table_does_not_give_the_codes_away(settings: Settings):
    """Without the server's secret the stored hash matches no one of the million codes' plain SHA-256."""
    messaging = MessagingActivities(settings.database_url, {Channel.sms: SandboxSender(settings.database_url,
                                                                                        Channel.sms)}, b"secret-2")
    code = _texted_code(settings, messaging, "case-code-2")
    with session_for(settings.database_url) as session:
        [row] = session.exec(DestinationCodeRow.__table__.select()).all()
    assert row.code_hash != hashlib.sha256(f"case-code-2:{code}".encode()).hexdigest()
    guessed = MessagingActivities(settings.database_url, {}, b"another-secret")
    assert not guessed.check_destination_code(CodeCheck(case_id="case-code-2", text=code, iban=IBAN))
