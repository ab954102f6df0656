"""The customer directory, and the access records every read of personal data leaves behind."""

from __future__ import annotations

from sqlmodel import Session, select

from store.tables import AccessRecordRow, CustomerDirectoryRow


def name_key(name: str) -> str:
    return " ".join(name.casefold().split())


def add_customer(session: Session, tenant: str, name: str, city: str | None = None, phone: str | None = None,
                 email: str | None = None) -> None:
    session.add(CustomerDirectoryRow(tenant=tenant, name_key=name_key(name), name=name, city=city, phone=phone,
                                     email=email))
    session.commit()


def find_by_name(session: Session, tenant: str, name: str, city: str | None) -> list[CustomerDirectoryRow]:
    """In the tenant's own register only: another company's customers are not this case's to find."""
    query = select(CustomerDirectoryRow).where(CustomerDirectoryRow.tenant == tenant,
                                               CustomerDirectoryRow.name_key == name_key(name))
    rows = list(session.exec(query).all())
    if city is not None:
        in_city = [row for row in rows if row.city and row.city.casefold() == city.casefold()]
        rows = in_city or rows
    return rows


def record_access(session: Session, *, tenant: str, actor: str, role: str, case_id: str | None, subject: str,
                  fields: list[str],
                  purpose: str, flagged: bool = False, entry_key: str | None = None) -> AccessRecordRow | None:
    """Adds the record to the session (None if this entry key is recorded already); the caller commits it
    with the read it describes. `role` is the reader's role then: what the customer is told, not the name."""
    if entry_key and session.exec(select(AccessRecordRow.id).where(AccessRecordRow.entry_key == entry_key)).first():
        return None
    row = AccessRecordRow(tenant=tenant, actor=actor, role=role, case_id=case_id, subject=name_key(subject),
                          fields=sorted(fields),
                          purpose=purpose, flagged=flagged, entry_key=entry_key)
    session.add(row)
    return row
