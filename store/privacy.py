"""One customer's data across the read model: their cases, the reads of their data, the bank accounts they gave.
Shared by reveals, the data-misuse investigation and data-subject requests (export, erasure)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement
from sqlmodel import Session, and_, col, func, or_, select

from schemas.privacy import AccessQuery, AccessReport, AccessRole, ReadLine, SubjectRef
from schemas.replies import interpret_reply
from store.directory import name_key
from store.tables import AccessRecordRow, CaseRow, MessageRow


def customer_cases(session: Session, tenant: str, subject: SubjectRef) -> list[CaseRow]:
    """The tenant's cases with the customer's phone or email *and* name, plus the cases named explicitly: a
    namesake, or a number since passed on to someone else, is not this customer; nor is another tenant's."""
    conditions = [CaseRow.customer_phone == subject.phone if subject.phone else None,
                  CaseRow.customer_email == subject.email if subject.email else None,
                  col(CaseRow.id).in_(subject.case_ids) if subject.case_ids else None]
    conditions = [condition for condition in conditions if condition is not None]
    if not conditions:
        return []
    rows = session.exec(select(CaseRow).where(CaseRow.tenant == tenant, or_(*conditions))
                        .order_by(CaseRow.opened_at)).all()
    key = name_key(subject.name)
    return [row for row in rows if row.id in subject.case_ids or name_key(row.customer_name) == key]


def customer_addresses(subject: SubjectRef, cases: list[CaseRow]) -> set[str]:
    """Every phone number and email the customer is known by: given in the request, or on their cases."""
    known = (subject.phone, subject.email, *(case.customer_phone for case in cases),
             *(case.customer_email for case in cases))
    return {address for address in known if address}


def reads_of(tenant: str, subject_name: str, case_ids: list[str],
             since: datetime | None = None) -> ColumnElement[bool]:
    """Reads on any of the customer's cases, or bound to no case but recorded under their name (an export).
    A read on a namesake's case is the namesake's."""
    unbound = and_(col(AccessRecordRow.case_id).is_(None), AccessRecordRow.subject == name_key(subject_name))
    about = and_(AccessRecordRow.tenant == tenant, or_(col(AccessRecordRow.case_id).in_(case_ids), unbound))
    return and_(about, AccessRecordRow.at >= since) if since is not None else about


def access_report(session: Session, query: AccessQuery) -> AccessReport:
    """Every read since the period's start, counted; the newest `limit` listed for the customer's answer."""
    tenant = session.get(CaseRow, query.case_id).tenant
    case_ids = [case.id for case in customer_cases(session, tenant, query.subject)] + [query.case_id]
    condition = reads_of(tenant, query.subject.name, case_ids, query.since)
    total = session.exec(select(func.count()).select_from(AccessRecordRow).where(condition)).one()
    refused = session.exec(select(func.count()).select_from(AccessRecordRow)
                           .where(condition, col(AccessRecordRow.flagged).is_(True))).one()
    rows = session.exec(select(AccessRecordRow).where(condition)
                        .order_by(col(AccessRecordRow.at).desc()).limit(query.limit)).all()
    # Records from before roles were kept came from the directory look-up, the engine's only read then.
    reads = [ReadLine(at=row.at, role=row.role or AccessRole.engine, fields=row.fields, refused=row.flagged)
             for row in reversed(rows)]
    return AccessReport(since=query.since, total=total, refused=refused, reads=reads)


def ibans_on_cases(session: Session, case_ids: list[str]) -> list[str]:
    """The bank accounts the customer wrote in their replies (a refund destination)."""
    bodies = session.exec(select(MessageRow.body).where(col(MessageRow.case_id).in_(case_ids),
                                                        MessageRow.direction == "in")).all()
    destinations = [interpret_reply(body).destination for body in bodies]
    return sorted({destination.iban for destination in destinations if destination and destination.iban})


def list_access_records(session: Session, *, tenant: str, case_id: str | None, actor: str | None, flagged: bool | None,
                        since: datetime | None, until: datetime | None, limit: int,
                        offset: int) -> list[AccessRecordRow]:
    """Newest first, for the data protection officer."""
    conditions = [AccessRecordRow.tenant == tenant] + [condition for condition in (
        AccessRecordRow.case_id == case_id if case_id is not None else None,
        AccessRecordRow.actor == actor if actor is not None else None,
        AccessRecordRow.flagged == flagged if flagged is not None else None,
        AccessRecordRow.at >= since if since is not None else None,
        AccessRecordRow.at < until if until is not None else None,
    ) if condition is not None]
    query = select(AccessRecordRow).where(*conditions).order_by(col(AccessRecordRow.at).desc(),
                                                                 col(AccessRecordRow.id).desc())
    return list(session.exec(query.limit(limit).offset(offset)).all())
