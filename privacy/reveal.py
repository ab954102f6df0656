"""A reveal: a customer's contact details in clear, for one open case and one stated purpose, on the record."""

from __future__ import annotations

from sqlmodel import Session

from privacy.rules import refusal_reason, role_of
from schemas.auth import Principal
from schemas.privacy import PersonalField, Revealed, RevealIn
from store.directory import record_access
from store.privacy import ibans_on_cases
from store.tables import AccessRecordRow, CaseRow


class RevealRefused(Exception):
    """No open case of the customer that the reader owns or supervises. The attempt is on the record, flagged."""

    def __init__(self, record: AccessRecordRow, reason: str) -> None:
        super().__init__(reason)
        self.record = record
        self.reason = reason


def reveal(session: Session, principal: Principal, case: CaseRow, request: RevealIn) -> Revealed:
    """The record is committed before any value is returned: there is no read without its record, and a
    refused attempt is recorded too (flagged), whatever happens to the request afterwards."""
    refusal = refusal_reason(principal, case)
    allowed = refusal is None
    record = record_access(session, tenant=principal.tenant, actor=principal.id, role=role_of(principal),
                           case_id=case.id,
                           subject=case.customer_name, fields=sorted(set(request.fields)), purpose=request.purpose,
                           flagged=not allowed)
    session.commit()
    if not allowed:
        raise RevealRefused(record, refusal)
    asked = set(request.fields)
    return Revealed(case_id=case.id, access_record_id=record.id,
                    phone=case.customer_phone if PersonalField.phone in asked else None,
                    email=case.customer_email if PersonalField.email in asked else None,
                    ibans=ibans_on_cases(session, [case.id]) if PersonalField.iban in asked else None)
