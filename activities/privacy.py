"""The audit trail of reads of customers' personal data, as the data-misuse investigation asks it (S5)."""

from __future__ import annotations

from temporalio import activity

from schemas.privacy import AccessQuery, AccessReport
from schemas.steps import ActivityName
from store.db import session_for
from store.privacy import access_report


class PrivacyActivities:
    def __init__(self, database_url: str) -> None:
        self._database_url = database_url

    @activity.defn(name=ActivityName.gather_access_records)
    def gather_access_records(self, query: AccessQuery) -> AccessReport:
        """Read only: the workflow records what it found on the timeline itself (with its notice to the DPO)."""
        with session_for(self._database_url) as session:
            return access_report(session, query)
