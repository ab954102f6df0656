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

from sqlalchemy import ColumnElement, delete, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, and_, col, func, or_, select

from schemas.privacy import SubjectRef
from schemas.progress import CaseStatus
from store.directory import name_key
from store.privacy import customer_addresses, customer_cases, ibans_on_cases, reads_of
from store.tables import (
    AccessRecordRow,
    CaseRow,
    ContactOptOutRow,
    CustomerDirectoryRow,
    ErasureRow,
    MessageRow,
    RefundRow,
    SandboxOutboxEntry,
    TimelineRow,
    utcnow,
)

ERASED = "[erased]"
CASE_ID_LENGTH = len("case-") + 24  # intake.cases.case_id_for
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
    """Removes the customer's personal data from the tenant's rows of every table in one transaction, and logs
    the erasure. Another tenant's relationship with the same person is that tenant's to erase."""
    cases = customer_cases(session, tenant, subject)
    if still_open := [case.id for case in cases if case.status != CaseStatus.closed]:
        raise CustomerHasOpenCases(still_open)
    case_ids = [case.id for case in cases]
    addresses = customer_addresses(subject, cases)
    secrets = _secrets(session, subject, cases, addresses)
    erasure = ErasureRow(tenant=tenant, requested_by=requested_by, reason=_scrub(reason, secrets), case_ids=case_ids,
                         counts={})
    session.add(erasure)
    session.flush()
    counts = {"access_records": _pseudonymise_reads(session, tenant, subject.name, case_ids,
                                                    f"erased:{erasure.id}"),
              "messages": _erase_messages(session, tenant, case_ids, addresses),
              "sandbox_outbox": _erase_outbox(session, addresses),
              "customer_directory": _delete_register_entries(session, tenant, subject.name, addresses),
              "contact_opt_outs": _delete(session, ContactOptOutRow, ContactOptOutRow.tenant == tenant,
                                          col(ContactOptOutRow.address).in_(addresses)),
              "cases": _erase_cases(session, cases)}
    counts["free_text"] = sum(_scrub_column(session, table, column, secrets, _of_tenant(table, tenant))
                              for table, column in _FREE_TEXT)
    erasure.counts = counts
    session.add(erasure)
    session.commit()
    return erasure


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


def _erase_cases(session: Session, cases: list[CaseRow]) -> int:
    for case in cases:
        case.customer_name, case.customer_phone, case.customer_email = ERASED, None, None
        case.start_payload = None  # the sealed workflow input holds the same data
        session.add(case)
    return len(cases)


def _erase_messages(session: Session, tenant: str, case_ids: list[str], addresses: set[str]) -> int:
    """On the customer's cases, and unmatched replies from their addresses to this tenant. `provider_ref` goes
    too: a carrier's refusal ("rejected: +358...") can quote the address there."""
    from_them = and_(col(MessageRow.case_id).is_(None), MessageRow.tenant == tenant,
                     or_(col(MessageRow.to_address).in_(addresses), col(MessageRow.from_address).in_(addresses)))
    rows = session.exec(select(MessageRow).where(or_(col(MessageRow.case_id).in_(case_ids), from_them))).all()
    for row in rows:
        row.body, row.to_address, row.from_address, row.provider_ref = ERASED, None, None, None
        session.add(row)
    return len(rows)


def _erase_outbox(session: Session, addresses: set[str]) -> int:
    """What the sandbox carrier 'delivered' to the customer (a real carrier's copy is theirs to erase)."""
    rows = session.exec(select(SandboxOutboxEntry).where(col(SandboxOutboxEntry.to_address).in_(addresses))).all()
    for row in rows:
        row.body, row.to_address = ERASED, ERASED
        session.add(row)
    return len(rows)


def _pseudonymise_reads(session: Session, tenant: str, name: str, case_ids: list[str], pseudonym: str) -> int:
    """Who read what, when and why stays provable; whose data it was is replaced by the erasure's number."""
    rows = session.exec(select(AccessRecordRow).where(reads_of(tenant, name, case_ids))).all()
    for row in rows:
        row.subject = pseudonym
        session.add(row)
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


def _scrub_column(session: Session, table: type, column: str, secrets: set[str],
                  scope: ColumnElement[bool]) -> int:
    if not secrets:
        return 0
    # A pre-filter, case-insensitive on both databases whatever their locale ("MAIJA MEIKÄLÄINEN" is her too):
    # lower() folds ASCII everywhere, but non-ASCII letters only under a UTF-8 ctype on PostgreSQL, so each of
    # those is a one-character wildcard here. The regex in _scrub then decides exactly.
    lowered = func.lower(col(getattr(table, column)))
    rows = session.exec(select(table).where(scope, or_(*(lowered.like(_locale_free_pattern(secret), escape="\\")
                                                         for secret in secrets)))).all()
    for row in rows:
        setattr(row, column, _scrub(getattr(row, column), secrets))
        session.add(row)
    return len(rows)


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
