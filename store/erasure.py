"""Erasing one customer's personal data (GDPR art. 17) so that it appears nowhere in the database file.

What stays: every case, refund and ledger row (bookkeeping law keeps financial records for years), the
timeline and the access records (the controller's accountability), with the customer's name, phone numbers,
emails, bank accounts and message bodies removed or replaced. What goes: their entry in the customer register
and their STOPs (with no contact details left, there is nobody to contact). The erasure itself is logged in
`erasures`, which holds no personal data.

Values updated or deleted in a database linger in its files: in the unused space of pages, in free pages and in
the write-ahead log. SQLite's `secure_delete` zeroes the first two as the erasure writes; `purge_freed_space`,
run in the background once the erasure is answered, empties the log and gives the free pages back.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

from sqlalchemy import ColumnElement, bindparam, delete, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, and_, col, func, or_, select

from schemas.major_incidents import ChildState
from schemas.privacy import SubjectRef
from schemas.progress import CaseStatus
from store.directory import name_key
from store.privacy import customer_addresses, customer_cases, ibans_on_cases, reads_of
from store.tables import (
    AccessRecordRow,
    AffectedCustomerRow,
    CaseRow,
    ContactOptOutRow,
    CustomerDirectoryRow,
    ErasureRow,
    MajorIncidentRow,
    MessageRow,
    RefundRow,
    SandboxOutboxEntry,
    TimelineRow,
    TransactionRow,
    utcnow,
)

ERASED = "[erased]"
CASE_ID_LENGTH = len("case-") + 24  # intake.cases.case_id_for
_BATCH = 500  # ids per UPDATE
MIN_SECRET = 4  # shorter strings are not scrubbed from free text: they would match inside ordinary words
log = logging.getLogger(__name__)
# Free text where a name, a number or an account may be quoted (a note, a purpose, a staff notice).
_FREE_TEXT = ((TimelineRow, "note"), (TimelineRow, "actor"), (AccessRecordRow, "purpose"),
              (SandboxOutboxEntry, "body"), (MessageRow, "body"))


class CustomerHasOpenCases(Exception):
    """Their workflows hold the data and would write it again: close or cancel the cases first."""

    def __init__(self, case_ids: list[str]) -> None:
        super().__init__(f"the customer has open cases: {', '.join(case_ids)}")
        self.case_ids = case_ids


def erase_customer(session: Session, tenant: str, subject: SubjectRef, requested_by: str,
                   reason: str) -> ErasureRow:
    """Removes the customer's personal data from the tenant's rows of every table, and logs the erasure. Another
    tenant's relationship with the same person is that tenant's to erase.

    Two steps, so that writers wait for milliseconds, not for the scans: first every row to change is found in a
    read transaction (the LIKE scans of free text over every message run here, taking no lock on SQLite), then
    one short write transaction changes those rows by primary key and logs the erasure. Between the two nothing
    of the customer's can appear: they have no open case, and an unmatched reply is a new row found by its
    address at the write."""
    cases = customer_cases(session, tenant, subject)
    if still_open := [case.id for case in cases if case.status != CaseStatus.closed]:
        raise CustomerHasOpenCases(still_open)
    case_ids = [case.id for case in cases]
    addresses = customer_addresses(subject, cases)
    secrets = _secrets(session, subject, cases, addresses)
    found = _Found(
        reads=_ids(session, AccessRecordRow, reads_of(tenant, subject.name, case_ids)),
        outbox=_ids(session, SandboxOutboxEntry, col(SandboxOutboxEntry.to_address).in_(addresses)),
        free_text=[(table, column, _scrubbed_column(session, table, column, secrets, _of_tenant(table, tenant)))
                   for table, column in _FREE_TEXT],
        sales=_sales_of(session, case_ids), listed=_listed_without_case(session, tenant, addresses))
    session.rollback()  # the read transaction ends: what follows is the one write transaction
    return _write_erasure(session, tenant, subject, requested_by, _scrub(reason, secrets), case_ids, addresses,
                          found)


@dataclass
class _Found:
    reads: list[int]
    outbox: list[int]
    free_text: list[tuple[type, str, list[tuple[int, str]]]]  # (table, column, [(row id, scrubbed text)])
    sales: list[tuple[str, str]]  # (store, transaction ref) of the customer's cases: their till records' keys
    listed: list[tuple[str, int]]  # (major id, seq) of their rows in major incidents that no case was opened for


def _write_erasure(session: Session, tenant: str, subject: SubjectRef, requested_by: str, reason: str,
                   case_ids: list[str], addresses: set[str], found: _Found) -> ErasureRow:
    """The write transaction: by primary key (free text first, so that the wholesale erasures below win)."""
    erasure = ErasureRow(tenant=tenant, requested_by=requested_by, reason=reason, case_ids=case_ids, counts={})
    session.add(erasure)
    session.flush()
    free_text = sum(_set_each(session, table, column, rows) for table, column, rows in found.free_text)
    counts = {"access_records": _set(session, AccessRecordRow, found.reads, subject=f"erased:{erasure.id}"),
              "messages": _erase_messages(session, tenant, case_ids, addresses),
              "sandbox_outbox": _set(session, SandboxOutboxEntry, found.outbox, body=ERASED, to_address=ERASED),
              "customer_directory": _delete_register_entries(session, tenant, subject.name, addresses),
              "contact_opt_outs": _delete(session, ContactOptOutRow, ContactOptOutRow.tenant == tenant,
                                          col(ContactOptOutRow.address).in_(addresses)),
              **_erase_from_sales(session, tenant, case_ids, found.sales, found.listed),
              "cases": _set(session, CaseRow, case_ids, customer_name=ERASED, customer_phone=None,
                            customer_email=None, start_payload=None),  # the sealed input holds the same data
              "free_text": free_text}
    erasure.counts = counts
    session.add(erasure)
    session.commit()
    return erasure


def _sales_of(session: Session, case_ids: list[str]) -> list[tuple[str, str]]:
    """The sales of the customer's cases, found in the read transaction. A sale of theirs that never became a case
    is not found here (its customer is JSON, not a column to match on)."""
    return [tuple(sale) for sale in session.exec(select(CaseRow.store, CaseRow.transaction_ref).where(
        col(CaseRow.id).in_(case_ids), col(CaseRow.transaction_ref).is_not(None))).all()]


def _listed_without_case(session: Session, tenant: str, addresses: set[str]) -> list[tuple[str, int]]:
    """The customer's rows in the tenant's major incidents that no case was opened for (pending, held, withdrawn),
    matched by address in the read transaction (the customer is JSON, not a column to match on in SQL)."""
    wanted = {address.casefold() for address in addresses}
    rows = session.exec(select(AffectedCustomerRow.major_id, AffectedCustomerRow.seq, AffectedCustomerRow.customer)
                        .join(MajorIncidentRow, MajorIncidentRow.id == AffectedCustomerRow.major_id)
                        .where(MajorIncidentRow.tenant == tenant, col(AffectedCustomerRow.case_id).is_(None))).all()
    return [(major_id, seq) for major_id, seq, customer in rows
            if {str(customer.get(kind, "")).casefold() for kind in ("phone", "email")} & wanted]


def _erase_from_sales(session: Session, tenant: str, case_ids: list[str], sales: list[tuple[str, str]],
                      listed: list[tuple[str, int]]) -> dict[str, int]:
    """Whom the till knew on those sales (by the till record's unique key), and the customer's rows in major
    incidents (S7): those of their cases, and those no case was opened for, which are withdrawn too (no child is
    ever opened for an erased customer)."""
    till = sum(session.exec(update(TransactionRow).where(
        TransactionRow.tenant == tenant, TransactionRow.store == store, TransactionRow.transaction_id == ref)
        .values(customer=None)).rowcount for store, ref in sales)
    affected = session.exec(update(AffectedCustomerRow).where(col(AffectedCustomerRow.case_id).in_(case_ids))
                            .values(customer={"name": ERASED})).rowcount
    affected += sum(session.exec(update(AffectedCustomerRow).where(
        AffectedCustomerRow.major_id == major_id, AffectedCustomerRow.seq == seq,
        col(AffectedCustomerRow.case_id).is_(None))
        .values(customer={"name": ERASED}, state=ChildState.withdrawn)).rowcount for major_id, seq in listed)
    return {"transactions": till, "major_incident_customers": affected}


def _secrets(session: Session, subject: SubjectRef, cases: list[CaseRow], addresses: set[str]) -> set[str]:
    """What to scrub from free text: the customer's name as written on their cases, their addresses and bank
    accounts. A case named explicitly may carry a placeholder name ("Customer"): only the customer's own name
    counts. Strings too short to be told apart from ordinary words are left."""
    key = name_key(subject.name)
    names = {subject.name, *(case.customer_name for case in cases if name_key(case.customer_name) == key)}
    found = {*names, *addresses, *ibans_on_cases(session, [case.id for case in cases])}
    return {secret for secret in found if len(secret) >= MIN_SECRET}


def refunds_kept(session: Session, case_ids: list[str]) -> int:
    return len(session.exec(select(RefundRow.id).where(col(RefundRow.case_id).in_(case_ids))).all())


def _erase_messages(session: Session, tenant: str, case_ids: list[str], addresses: set[str]) -> int:
    """On the customer's cases (indexed), and unmatched replies from their addresses to this tenant. `provider_ref`
    goes too: a carrier's refusal ("rejected: +358...") can quote the address there."""
    from_them = and_(col(MessageRow.case_id).is_(None), MessageRow.tenant == tenant,
                     or_(col(MessageRow.to_address).in_(addresses), col(MessageRow.from_address).in_(addresses)))
    return session.exec(update(MessageRow).where(or_(col(MessageRow.case_id).in_(case_ids), from_them)).values(
        body=ERASED, to_address=None, from_address=None, provider_ref=None)).rowcount


def _ids(session: Session, table: type, condition: ColumnElement[bool]) -> list:
    return list(session.exec(select(table.id).where(condition)).all())


def _set(session: Session, table: type, ids: list, **values) -> int:
    """These rows (by primary key, in batches that stay under every database's bound-parameter limit) set so."""
    changed = 0
    for start in range(0, len(ids), _BATCH):
        batch = ids[start:start + _BATCH]
        changed += session.exec(update(table).where(col(table.id).in_(batch)).values(**values)).rowcount
    return changed


def _set_each(session: Session, table: type, column: str, rows: list[tuple[int, str]]) -> int:
    """Each row its own scrubbed text, by primary key."""
    if rows:
        statement = update(table.__table__).where(table.__table__.c.id == bindparam("row_id")).values(
            {column: bindparam("scrubbed")})
        session.connection().execute(statement, [{"row_id": row_id, "scrubbed": text} for row_id, text in rows])
    return len(rows)


def _delete_register_entries(session: Session, tenant: str, name: str, addresses: set[str]) -> int:
    matches = or_(col(CustomerDirectoryRow.phone).in_(addresses), col(CustomerDirectoryRow.email).in_(addresses))
    return _delete(session, CustomerDirectoryRow, CustomerDirectoryRow.tenant == tenant,
                   CustomerDirectoryRow.name_key == name_key(name), matches)


def _delete(session: Session, table: type, *conditions) -> int:
    return session.exec(delete(table).where(*conditions)).rowcount


def _of_tenant(table: type, tenant: str) -> ColumnElement[bool]:
    """The tenant's rows of a free-text table: another tenant's namesake keeps their name. Sandbox outbox rows
    are keyed by our message keys, which begin with the case id."""
    cases_of_tenant = select(CaseRow.id).where(CaseRow.tenant == tenant)
    if table is AccessRecordRow:
        return AccessRecordRow.tenant == tenant
    if table is MessageRow:
        return or_(col(MessageRow.case_id).in_(cases_of_tenant), MessageRow.tenant == tenant)
    if table is SandboxOutboxEntry:
        return func.substr(SandboxOutboxEntry.idempotency_key, 1, CASE_ID_LENGTH).in_(cases_of_tenant)
    return col(table.case_id).in_(cases_of_tenant)


def _scrubbed_column(session: Session, table: type, column: str, secrets: set[str],
                     scope: ColumnElement[bool]) -> list[tuple[int, str]]:
    """The rows of `table` in scope whose `column` quotes a secret: (id, the text scrubbed)."""
    if not secrets:
        return []
    # A pre-filter, case-insensitive on both databases whatever their locale ("MAIJA MEIKÄLÄINEN" is her too):
    # lower() folds ASCII everywhere, but non-ASCII letters only under a UTF-8 ctype on PostgreSQL, so each of
    # those is a one-character wildcard here. The regex in _scrub then decides exactly.
    text = col(getattr(table, column))
    lowered = func.lower(text)
    rows = session.exec(select(table.id, text).where(scope, or_(*(lowered.like(_locale_free_pattern(secret),
                                                                                escape="\\")
                                                                  for secret in secrets)))).all()
    return [(row_id, _scrub(value, secrets)) for row_id, value in rows]


def _locale_free_pattern(secret: str) -> str:
    """'Erämaa' -> '%er_maa%': ASCII lower-cased, LIKE's own characters escaped, anything else matched by '_'."""
    def one(char: str) -> str:
        if not char.isascii():
            return "_"
        return "\\" + char if char in "%_\\" else char.lower()
    return "%" + "".join(one(char) for char in secret) + "%"


def _scrub(text: str, secrets: set[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):  # the full name before a part of it
        text = re.sub(rf"(?<!\w){re.escape(secret)}(?!\w)", ERASED, text, flags=re.IGNORECASE)
    return text


def purge_pending(engine: Engine) -> list[int]:
    """Finishes every erasure whose old bytes may still be in the database's files; returns their ids. Run
    after each erasure's answer has gone out, and when an API process starts (one that stopped mid-way)."""
    with Session(engine) as session:
        pending = list(session.exec(select(ErasureRow.id).where(col(ErasureRow.purged_at).is_(None))).all())
    if not pending or not purge_freed_space(engine):
        return []
    with Session(engine) as session:
        session.exec(update(ErasureRow).where(col(ErasureRow.id).in_(pending)).values(purged_at=utcnow()))
        session.commit()
    return pending


def purge_freed_space(engine: Engine, step_pages: int = 128, attempts: int = 50) -> bool:
    """Makes the erased values unrecoverable from the database's files, without locking anyone out for long.
    True when that is done.

    SQLite: with `secure_delete` on (store/db.py) the erasure itself zeroed the old values in the pages it
    changed, but the write-ahead log still holds earlier versions of those pages. A TRUNCATE checkpoint copies
    the log into the file and cuts it to zero bytes; it holds writers back only while it copies (milliseconds
    for a log that auto-checkpoints at 4 MB), and waits its turn if a reader holds an old snapshot. The freed
    pages are then given back to the file system a few at a time (`incremental_vacuum`), each step its own short
    transaction, so the API and the worker write in between. That needs a file made with `auto_vacuum`
    incremental (every file store/db.py creates); a file made before (by an older release) is converted by one
    full VACUUM, once, which holds writers back while it rewrites the file. False whenever free pages are left.
    PostgreSQL: VACUUM (not FULL, which would lock the tables) marks the dead row versions free, to be
    overwritten as space is reused; WAL archives and backups expire by their retention.
    """
    dialect = engine.dialect.name
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        if dialect == "postgresql":
            for table in ("cases", "messages", "sandbox_outbox", "timeline", "access_records",
                          "customer_directory", "contact_opt_outs"):
                connection.exec_driver_sql(f"VACUUM {table}")
            return True
        if dialect != "sqlite":
            log.warning("no purge of freed space for the %s dialect", dialect)
            return False
        truncated = _checkpoint(connection, attempts)
        if connection.exec_driver_sql("PRAGMA auto_vacuum").scalar_one() == _INCREMENTAL:
            emptied = _give_back_free_pages(connection, step_pages)
        else:
            emptied = _convert_to_incremental(connection)
        return truncated and emptied and _checkpoint(connection, attempts)


_INCREMENTAL = 2  # PRAGMA auto_vacuum: 0 none, 1 full, 2 incremental


def _free_pages(connection) -> int:
    return connection.exec_driver_sql("PRAGMA freelist_count").scalar_one()


def _give_back_free_pages(connection, step_pages: int) -> bool:
    """`step_pages` free pages per short transaction until none is left; False if a step frees nothing."""
    # Python's sqlite3 runs one step of a statement per execute (one page here); executescript runs it to the end.
    sqlite = connection.connection.driver_connection
    left = _free_pages(connection)
    while left:
        sqlite.executescript(f"PRAGMA incremental_vacuum({step_pages});")
        before, left = left, _free_pages(connection)
        if left >= before:
            log.warning("incremental vacuum freed nothing (%d free pages left): the file is not purged", left)
            return False
    return True


def _convert_to_incremental(connection) -> bool:
    """A file from before incremental vacuuming: one full VACUUM rewrites it without its free pages and makes it
    incremental, so every later purge is done in short steps."""
    try:
        connection.exec_driver_sql("PRAGMA auto_vacuum=INCREMENTAL")
        connection.exec_driver_sql("VACUUM")
    except OperationalError as busy:  # busy beyond the busy timeout: the next purge tries again
        log.warning("VACUUM after an erasure did not run (%s): the file is not purged yet", busy)
        return False
    return _free_pages(connection) == 0


def _checkpoint(connection, attempts: int) -> bool:
    for _ in range(attempts):
        busy, _log_frames, _checkpointed = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        if not busy:
            return True
        time.sleep(0.1)
    log.warning("the write-ahead log could not be emptied after an erasure: readers kept it busy")
    return False
