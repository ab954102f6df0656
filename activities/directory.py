"""Find a customer's contact details from their name, for one case and one purpose, on the record."""

from __future__ import annotations

from temporalio import activity

from schemas.privacy import AccessRole
from schemas.steps import ActivityName, LookupOutcome, LookupRequest, LookupResult
from store.db import session_for
from store.directory import find_by_name, record_access
from store.tables import CaseRow


class DirectoryActivities:
    def __init__(self, database_url: str) -> None:
        self._database_url = database_url

    @activity.defn(name=ActivityName.look_up_customer)
    def look_up_customer(self, request: LookupRequest) -> LookupResult:
        """Two people of one name are never guessed between: only a single match returns details."""
        with session_for(self._database_url) as session:
            case = session.get(CaseRow, request.case_id)
            matches = find_by_name(session, case.tenant, request.name, request.city)
            single = matches[0] if len(matches) == 1 else None
            if single is not None:  # on the case, so the customer's answer from that number matches it
                case.customer_phone, case.customer_email = single.phone, single.email
                session.add(case)
            record_access(session, tenant=case.tenant, actor=request.requested_by, role=AccessRole.engine,
                          case_id=request.case_id,
                          subject=request.name, fields=["phone", "email"] if single else ["name"],
                          purpose=request.purpose, entry_key=f"{request.case_id}:look_up")
            session.commit()
        if single is None:
            outcome = LookupOutcome.ambiguous if matches else LookupOutcome.not_found
            return LookupResult(outcome=outcome, matches=len(matches))
        return LookupResult(outcome=LookupOutcome.found, matches=1, phone=single.phone, email=single.email)
