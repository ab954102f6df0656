"""The customer directory, and the access records every read of personal data leaves behind."""

from __future__ import annotations

from typing import Protocol, TypeVar
from uuid import uuid4

from sqlmodel import Session, col, select

from schemas.directory import DirectoryRecord
from store.tables import AccessRecordRow, CustomerDirectoryRow, utcnow


class _HasCity(Protocol):
    city: str | None


Found = TypeVar("Found", bound=_HasCity)


NAME_KEY_LENGTH = 200  # the columns holding it: customer_directory.name_key, access_records.subject


def name_key(name: str) -> str:
    """The name as matching compares it: case and spacing aside. Casefolding can lengthen a name ('ß' is 'ss'), so
    a 200-character name may outgrow its column (PostgreSQL refuses, SQLite would not notice): the key is cut at
    the column's length. Names alike in their first 200 characters then share a key: namesakes, never guessed
    between."""
    return " ".join(name.casefold().split())[:NAME_KEY_LENGTH]


def add_customer(session: Session, tenant: str, name: str, city: str | None = None, phone: str | None = None,
                 email: str | None = None, customer_key: str | None = None) -> None:
    """One row, written as given (tests and fixtures; the API upserts validated records with `upsert`)."""
    session.add(CustomerDirectoryRow(tenant=tenant, customer_key=customer_key or f"added-{uuid4().hex[:16]}",
                                     name_key=name_key(name), name=name, city=city, phone=phone, email=email))
    session.commit()


def upsert(session: Session, tenant: str, key: str, record: DirectoryRecord) -> bool:
    """Adds the record to the session, over the tenant's row of that key if there is one; True if it is new.
    The caller commits."""
    return _written(session, tenant, key, record, customer(session, tenant, key))


def upsert_many(session: Session, tenant: str, records: dict[str, DirectoryRecord]) -> int:
    """`upsert` for an import's records by key (one read per 500 keys, not per row); the number created. The
    caller commits them together."""
    keys, existing = list(records), {}
    for start in range(0, len(keys), 500):
        query = select(CustomerDirectoryRow).where(CustomerDirectoryRow.tenant == tenant,
                                                   col(CustomerDirectoryRow.customer_key).in_(keys[start:start + 500]))
        existing.update((row.customer_key, row) for row in session.exec(query))
    return sum(_written(session, tenant, key, record, existing.get(key)) for key, record in records.items())


def _written(session: Session, tenant: str, key: str, record: DirectoryRecord,
             row: CustomerDirectoryRow | None) -> bool:
    created = row is None
    row = row or CustomerDirectoryRow(tenant=tenant, customer_key=key, name_key="", name="")
    row.sqlmodel_update({**record.model_dump(include={"name", "city", "phone", "email"}),
                         "name_key": name_key(record.name), "updated_at": utcnow()})
    session.add(row)
    return created


def customer(session: Session, tenant: str, key: str) -> CustomerDirectoryRow | None:
    return session.exec(select(CustomerDirectoryRow).where(CustomerDirectoryRow.tenant == tenant,
                                                           CustomerDirectoryRow.customer_key == key)).first()


def customers(session: Session, tenant: str, after: str | None, limit: int) -> list[CustomerDirectoryRow]:
    """A page of the tenant's rows in key order, after the key `after` (the previous page's last)."""
    query = select(CustomerDirectoryRow).where(CustomerDirectoryRow.tenant == tenant)
    if after is not None:
        query = query.where(CustomerDirectoryRow.customer_key > after)
    return list(session.exec(query.order_by(CustomerDirectoryRow.customer_key).limit(limit)).all())


def find_by_name(session: Session, tenant: str, name: str, city: str | None) -> list[CustomerDirectoryRow]:
    """In the tenant's own register only: another company's customers are not this case's to find."""
    query = select(CustomerDirectoryRow).where(CustomerDirectoryRow.tenant == tenant,
                                               CustomerDirectoryRow.name_key == name_key(name))
    return prefer_city(list(session.exec(query).all()), city)


def prefer_city(found: list[Found], city: str | None) -> list[Found]:
    """Those of the name who live in `city`, if any do; else all of them (a city narrows, it never excludes)."""
    if city is None:
        return found
    in_city = [each for each in found if each.city and each.city.casefold() == city.casefold()]
    return in_city or found


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
