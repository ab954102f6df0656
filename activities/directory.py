"""Find a customer's contact details from their name, for one case and one purpose, on the record."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from providers.directory import DirectoryUnavailable
from providers.directory.configured import directory_for
from schemas.directory import DirectoryEntry
from schemas.privacy import AccessRole
from schemas.steps import ActivityName, LookupOutcome, LookupRequest, LookupResult
from settings import Settings
from store.db import session_for
from store.directory import record_access
from store.tables import CaseRow


class DirectoryActivities:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @activity.defn(name=ActivityName.look_up_customer)
    def look_up_customer(self, request: LookupRequest) -> LookupResult:
        """Asks the case's tenant's directory (its CRM or our table). Two people of one name are never guessed
        between: only a single match returns details. A directory that stays unavailable for its configured tries
        gives `unavailable`, and the case goes to its owner instead of waiting on it."""
        with session_for(self._settings.database_url) as session:
            tenant = session.get(CaseRow, request.case_id).tenant
        directory = directory_for(self._settings, tenant)
        try:
            matches = directory.find_by_name(tenant, request.name, request.city)
        except DirectoryUnavailable as error:
            if activity.info().attempt < directory.attempts:
                raise ApplicationError(f"directory unavailable: {error}", type="DirectoryUnavailable") from None
            activity.logger.warning("directory unavailable after %s tries: %s", directory.attempts, error)
            matches = None
        single = matches[0] if matches and len(matches) == 1 and _may_live_in(matches[0], request.city) else None
        self._record(request, single)
        if single is not None:
            return LookupResult(outcome=LookupOutcome.found, matches=1, phone=single.phone, email=single.email)
        if matches is None:
            return LookupResult(outcome=LookupOutcome.unavailable, matches=0)
        return LookupResult(outcome=LookupOutcome.ambiguous if matches else LookupOutcome.not_found,
                            matches=len(matches))

    def _record(self, request: LookupRequest, single: DirectoryEntry | None) -> None:
        """The look-up on the access record (who, case, purpose), and a single match's details on the case, so
        the customer's answer from that number matches it; committed together, before the details are used."""
        with session_for(self._settings.database_url) as session:
            case = session.get(CaseRow, request.case_id)
            if single is not None:
                case.customer_phone, case.customer_email = single.phone, single.email
                session.add(case)
            record_access(session, tenant=case.tenant, actor=request.requested_by, role=AccessRole.engine,
                          case_id=request.case_id,
                          subject=request.name, fields=["phone", "email"] if single else ["name"],
                          purpose=request.purpose, entry_key=f"{request.case_id}:look_up")
            session.commit()


def _may_live_in(entry: DirectoryEntry, city: str | None) -> bool:
    """A city narrows namesakes (`prefer_city`); a single customer of the name recorded in another city than the
    case's may be someone else of that name: ambiguous, for the owner to judge, never a guess."""
    return city is None or entry.city is None or entry.city.strip().casefold() == city.strip().casefold()
