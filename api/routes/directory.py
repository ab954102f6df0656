"""The customer directory of the caller's tenant, kept by its administrators: a bulk import (CSV or JSON, upsert
by the company's own `customer_key`) and single records. Views mask contact details as every view does; the
engine reads them in clear only for a case's look-up, on the access record (activities/directory.py).

Import policy: accept the valid rows, report the rejected. Valid rows are committed together in one transaction;
every other row is listed in the answer with its number, field and reason, and nothing of it is written. A file
that cannot be read as a whole (encoding, columns, not a list) is refused with a 4xx and nothing is written."""

from __future__ import annotations

from contextvars import copy_context
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from pydantic import StringConstraints
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.auth import AdminDep
from api.deps import SessionDep, SettingsDep
from api.directory_import import read_import, refused
from api.errors import Problem
from privacy.masking import mask_email, mask_phone
from schemas.directory import DirectoryRecord, DirectoryRecordIn, DirectoryRecordView, ImportReport
from schemas.inputs import SINGLE_LINE_PATTERN
from settings import Settings
from store import directory as store
from store.tables import CustomerDirectoryRow

IMPORT_PATH = "/directory/import"
MEDIA_TYPES = ("text/csv", "application/json")
router = APIRouter(prefix="/directory", tags=["directory"],
                   responses={404: {"model": Problem, "description": "No customer of that key in this tenant."}})
_NO_CONTROL = r"^[^\x00-\x1f\x7f]+$"  # a NUL would reach PostgreSQL, which refuses it in text with a 500
# Trimmed and held to one line as an import's keys are (schemas/directory.py): " C-1" is C-1, " " is no key.
KeyPath = Annotated[str, StringConstraints(strip_whitespace=True),
                    Path(min_length=1, max_length=100, pattern=SINGLE_LINE_PATTERN,
                         description="The company's own id of the customer.")]

_IMPORT_BODY = {"required": True, "content": {
    # `format: directory-csv`: a header line naming the columns, then a line per customer (what a string schema
    # cannot state; the fuzz test generates such files)
    "text/csv": {"schema": {"type": "string", "format": "directory-csv"},
                 "example": "customer_key,name,phone,email,city\n"
                            "C-1001,Jukka Lahtinen,040 123 4567,jukka@example.fi,Tampere\n"},
    # Any items: each record is judged on its own and a refused one is listed in the report (a 200), so the body's
    # schema cannot promise a 422 for a bad record. The record's own schema is in `x-record`.
    "application/json": {"schema": {"type": "array", "minItems": 1, "items": {
        "description": "A customer: customer_key and name required; phone, email, city; a phone or an email."},
        "x-record": DirectoryRecordIn.model_json_schema()}}}}


@router.post("/import", response_model=ImportReport, openapi_extra={"requestBody": _IMPORT_BODY}, responses={
    400: {"model": Problem, "description": "Not UTF-8, or not JSON."},
    413: {"model": Problem, "description": "Over DIRECTORY_IMPORT_MAX_BYTES or DIRECTORY_IMPORT_MAX_ROWS."},
    415: {"model": Problem, "description": "Neither text/csv nor application/json."},
    409: {"model": Problem, "description": "Another import wrote the same customers at the same time (send "
                                           "again), or the tenant's look-ups ask its CRM, not this table."},
    422: {"model": Problem, "description": "Empty, wrong columns, or not a list: the detail names the problem."}})
async def import_customers(request: Request, session: SessionDep, settings: SettingsDep,
                           admin: AdminDep) -> ImportReport:
    """Upserts the tenant's customers by `customer_key`.

    CSV: a header line naming the columns (customer_key, name, phone, email, city, in any order; `customer_key` and
    `name` required; separated by `,`, `;` or tab), then a line per customer. JSON: a list of objects with the same
    fields. Phones as written (`040 123 4567`, read in the policy's region), stored in E.164; a phone or an email
    is needed. Valid rows are committed together; each rejected row is listed with its number, field and reason."""
    _kept_here(settings, admin.tenant)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in MEDIA_TYPES:
        raise refused(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"send the file as {' or '.join(MEDIA_TYPES)}, "
                      f"not '{media_type or 'no Content-Type'}'")
    body = await request.body()
    # In this request's context: phones are read in the policy's region set for the request (api/app.py).
    read = await run_in_threadpool(copy_context().run, read_import, body, media_type,
                                   settings.directory_import_max_rows)
    records: dict[str, DirectoryRecord] = {record.customer_key: record for _, record in read.valid}
    created = await run_in_threadpool(_commit, session, admin.tenant, records)
    return ImportReport(received=read.received, created=created, updated=len(records) - created,
                        rejected=read.rejected)


def _kept_here(settings: Settings, tenant: str) -> None:
    """A tenant whose look-ups ask its CRM (`DIRECTORY_CRM`) would never read what is written here: refused, not
    silently kept."""
    if tenant in settings.directory_crm:
        raise refused(status.HTTP_409_CONFLICT, "this tenant's look-ups ask its CRM (DIRECTORY_CRM), not this "
                      "directory: customers written here would never be found; keep them in the CRM")


def _commit(session: Session, tenant: str, records: dict[str, DirectoryRecord]) -> int:
    created = store.upsert_many(session, tenant, records)
    _committed(session)
    return created


def _committed(session: Session) -> None:
    """Two writers adding the same new customer at once: one wins, the other is told to send again."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, "another import or change wrote some of these customers at "
                            "the same time; nothing of this request was written, send it again") from None


@router.get("/customers", response_model=list[DirectoryRecordView])
def list_customers(session: SessionDep, admin: AdminDep,
                   after: Annotated[str | None, Query(max_length=100, pattern=_NO_CONTROL,
                                                      description="The last key of the previous "
                                                      "page: the page starts after it.")] = None,
                   limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[DirectoryRecordView]:
    """The tenant's customers in `customer_key` order, contact details masked."""
    return [_view(row) for row in store.customers(session, admin.tenant, after, limit)]


@router.get("/customers/{customer_key}", response_model=DirectoryRecordView)
def get_customer(customer_key: KeyPath, session: SessionDep, admin: AdminDep) -> DirectoryRecordView:
    return _view(_found(session, admin.tenant, customer_key))


@router.put("/customers/{customer_key}", response_model=DirectoryRecordView, responses={
    201: {"model": DirectoryRecordView, "description": "A new customer."},
    409: {"model": Problem, "description": "Written by another request at the same time (send again), or the "
                                           "tenant's look-ups ask its CRM, not this table."}})
def put_customer(customer_key: KeyPath, record: DirectoryRecord, response: Response, session: SessionDep,
                 settings: SettingsDep, admin: AdminDep) -> DirectoryRecordView:
    """Writes the customer of this key whole (201 when new, 200 when replaced)."""
    _kept_here(settings, admin.tenant)
    created = store.upsert(session, admin.tenant, customer_key, record)
    _committed(session)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return _view(_found(session, admin.tenant, customer_key))


@router.delete("/customers/{customer_key}", status_code=status.HTTP_204_NO_CONTENT)
def delete_customer(customer_key: KeyPath, session: SessionDep, admin: AdminDep) -> None:
    session.delete(_found(session, admin.tenant, customer_key))
    session.commit()


def _found(session: Session, tenant: str, key: str) -> CustomerDirectoryRow:
    row = store.customer(session, tenant, key)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no customer '{key}' in this tenant's directory")
    return row


def _view(row: CustomerDirectoryRow) -> DirectoryRecordView:
    return DirectoryRecordView(customer_key=row.customer_key, name=row.name, city=row.city,
                               phone=mask_phone(row.phone), email=mask_email(row.email))
