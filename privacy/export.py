"""A customer's own data, all of it, for the customer (GDPR art. 15). The export is itself a read: recorded."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, col, select

from privacy.rules import role_of
from schemas.api import InboundMessageView
from schemas.auth import Principal
from schemas.data_subject import CustomerExport, DirectoryEntryView, ExportedCase, OptOutView
from schemas.privacy import AccessRecordView, DataSubjectRequest
from store import cases as case_store
from store import refunds as refund_ledger
from store.directory import find_by_name, record_access
from store.privacy import customer_addresses, customer_cases, reads_of
from store.tables import AccessRecordRow, CaseRow, ContactOptOutRow, CustomerDirectoryRow, MessageRow

EXPORTED = ["all"]


def export_customer(session: Session, principal: Principal, request: DataSubjectRequest) -> CustomerExport:
    record = record_access(session, tenant=principal.tenant, actor=principal.id, role=role_of(principal), case_id=None,
                           subject=request.name, fields=EXPORTED,
                           purpose=f"data subject request, export: {request.reason}")
    session.commit()
    cases = customer_cases(session, principal.tenant, request)
    addresses = sorted(customer_addresses(request, cases))
    reads = session.exec(select(AccessRecordRow).where(reads_of(principal.tenant, request.name,
                                                                      [case.id for case in cases]))
                         .order_by(col(AccessRecordRow.at).desc())).all()
    return CustomerExport(
        subject=request, exported_at=datetime.now(UTC), access_record_id=record.id,
        cases=[_exported(session, case) for case in cases],
        unmatched_replies=[InboundMessageView.model_validate(row, from_attributes=True)
                           for row in _unmatched_from(session, principal.tenant, addresses)],
        directory_entries=[DirectoryEntryView.model_validate(row, from_attributes=True)
                           for row in _register_entries(session, principal.tenant, request.name, addresses)],
        access_records=[AccessRecordView.model_validate(row, from_attributes=True) for row in reads],
        opt_outs=[OptOutView.model_validate(row, from_attributes=True) for row in session.exec(
            select(ContactOptOutRow).where(ContactOptOutRow.tenant == principal.tenant,
                                           col(ContactOptOutRow.address).in_(addresses))).all()])


def _exported(session: Session, case: CaseRow) -> ExportedCase:
    return ExportedCase(summary=case_store.summary_of(case), reference=case.reference,
                        customer_name=case.customer_name, customer_phone=case.customer_phone,
                        customer_email=case.customer_email, messages=case_store.messages_of(session, case.id),
                        refunds=refund_ledger.refunds_of(session, case.id),
                        timeline=case_store.timeline_of(session, case.id))


def _unmatched_from(session: Session, tenant: str, addresses: list[str]) -> list[MessageRow]:
    return list(session.exec(select(MessageRow).where(col(MessageRow.case_id).is_(None), MessageRow.tenant == tenant,
                                                      col(MessageRow.from_address).in_(addresses))).all())


def _register_entries(session: Session, tenant: str, name: str, addresses: list[str]) -> list[CustomerDirectoryRow]:
    """The register by name *and* contact: a namesake's entry is someone else's data."""
    rows = find_by_name(session, tenant, name, city=None)
    return [row for row in rows if row.phone in addresses or row.email in addresses]
