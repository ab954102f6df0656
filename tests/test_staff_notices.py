"""Notices to staff reach the people they are for: an owner's SLA warning goes to the owning account's email."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from activities.case_store import CaseStoreActivities
from providers.messaging.sandbox import SandboxSender
from schemas.auth import AccountIn, Role
from schemas.channels import Channel
from schemas.incidents import IncidentIn
from schemas.progress import CaseProgress, CaseStep
from schemas.steps import CaseEvent
from store import cases as case_store
from store.accounts import create_account
from store.db import session_for
from store.tables import SandboxOutboxEntry
from tests.test_intake import incident


def test_the_owners_sla_warning_goes_to_the_owning_accounts_email(tmp_path):
    """Review major 8: the workflow names `<owner id>@<staff_email_domain>`; the account's own address is used."""
    url = f"sqlite:///{tmp_path / 'recovery.db'}"
    with session_for(url) as session:
        create_account(session, "acme", AccountIn(id="aino.virtanen", display_name="Aino", email="aino@acme.fi",
                                                  roles={Role.agent}))
        case_store.open_case(session, "case-1", "C1", "acme", "till", IncidentIn.model_validate(incident()),
                             datetime.now(UTC), "aino.virtanen")
    activities = CaseStoreActivities(url, staff_email=SandboxSender(url, Channel.email))

    def notice(level: int, notify: str) -> None:
        progress = CaseProgress(case_id="case-1", step=CaseStep.contact, note=f"first reply due: level {level}")
        activities.record_case_event(CaseEvent(progress=progress, entry_key=f"case-1:sla:first_reply:{level}",
                                               notify=notify))

    notice(1, "aino.virtanen@example.com")  # what RecoveryPolicy.owner_address makes of the owner's id
    notice(2, "supervisors@example.com")
    with session_for(url) as session:
        sent = [(entry.to_address, entry.body) for entry in session.exec(
            select(SandboxOutboxEntry).order_by(SandboxOutboxEntry.id)).all()]
    assert sent == [("aino@acme.fi", "first reply due: level 1"),
                    ("supervisors@example.com", "first reply due: level 2")]
