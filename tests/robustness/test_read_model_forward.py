"""The read model only moves forward: each write carries the workflow's sequence, a late write of an older one
(a watch's timeline line, a retried activity) moves no status back, and a closed case stays closed, so a late
line cannot make it look open again (which would block the customer's erasure)."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.incidents import IncidentIn
from schemas.progress import CaseProgress, CaseStatus, CaseStep
from store.cases import apply_progress, open_case, timeline_of
from store.db import session_for
from store.tables import CaseRow
from tests import harness
from tests.test_intake import incident


def write(url: str, seq: int, step: CaseStep, status: CaseStatus, note: str, **fields) -> CaseRow:
    with session_for(url) as session:
        progress = CaseProgress(case_id="case-1", step=step, status=status, note=note, seq=seq)
        apply_progress(session, progress, entry_key=f"case-1:{seq}", **fields)
        session.commit()
        return session.get(CaseRow, "case-1")


def test_an_older_write_moves_nothing_back_and_a_closed_case_stays_closed(tmp_path):
    url = harness.test_settings(tmp_path).database_url
    with session_for(url) as session:
        open_case(session, "case-1", "CASE0001", harness.TENANT, "till", IncidentIn.model_validate(incident()),
                  datetime.now(UTC), owner="aino")

    asked = write(url, 2, CaseStep.contact, CaseStatus.waiting_on_customer, "sms 'ask': sent")
    late = write(url, 1, CaseStep.verify, CaseStatus.open, "verified", first_contact_at=datetime.now(UTC))
    assert (late.status, late.step, late.progress_seq) == (asked.status, asked.step, 2)
    assert late.first_contact_at is not None, "a milestone is written even by a late write"

    closed = write(url, 3, CaseStep.close, CaseStatus.closed, "closed: recovered", outcome="recovered")
    after = write(url, 9, CaseStep.contact, CaseStatus.needs_attention, "owner warned (a watch, late)")
    assert (closed.status, after.status, after.step, after.outcome) == ("closed", "closed", "close", "recovered")
    with session_for(url) as session:
        notes = [entry.note for entry in timeline_of(session, "case-1")]
    assert notes[-4:] == ["sms 'ask': sent", "verified", "closed: recovered", "owner warned (a watch, late)"]


def test_a_late_retry_of_an_older_handover_moves_no_owner_back(tmp_path):
    """Review minor 14: the owner and who handed the case over follow the same order as the status."""
    url = harness.test_settings(tmp_path).database_url
    with session_for(url) as session:
        open_case(session, "case-1", "CASE0001", harness.TENANT, "till", IncidentIn.model_validate(incident()),
                  datetime.now(UTC), owner="aino")

    handed = write(url, 3, CaseStep.contact, CaseStatus.open, "owner aino -> ville by sari",
                   owner="ville", assigned_by="sari")
    late = write(url, 2, CaseStep.contact, CaseStatus.open, "owner aino -> mallory by aino (retried)",
                 owner="mallory", assigned_by="aino")
    assert (handed.owner, late.owner, late.assigned_by) == ("ville", "ville", "sari")
