"""Case bookkeeping that has no outside effect of its own: closing a case."""

from __future__ import annotations

from temporalio import activity

from schemas.steps import ActivityName, CloseRequest
from store.cases import apply_progress
from store.db import session_for
from store.tables import utcnow


class CaseStoreActivities:
    def __init__(self, database_url: str) -> None:
        self._database_url = database_url

    @activity.defn(name=ActivityName.close_case)
    def close_case(self, request: CloseRequest) -> None:
        with session_for(self._database_url) as session:
            apply_progress(session, request.progress, entry_key=f"{request.progress.case_id}:close",
                           closed_at=utcnow(), outcome=request.outcome, satisfaction=request.satisfaction)
            session.commit()
