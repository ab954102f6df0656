"""Data-subject requests (S5, GDPR art. 15 and 17): everything the engine holds about one customer, and the
report of an erasure. Apart from `schemas/privacy.py` because these views embed the case views."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from schemas.api import InboundMessageView
from schemas.cases import CaseSummary, MessageView, RefundView, TimelineEntryView
from schemas.privacy import AccessRecordView, SubjectRef


class ExportedCase(BaseModel):
    summary: CaseSummary
    reference: str
    customer_name: str
    customer_phone: str | None
    customer_email: str | None
    messages: list[MessageView]
    refunds: list[RefundView]
    timeline: list[TimelineEntryView]


class DirectoryEntryView(BaseModel):
    name: str
    city: str | None
    phone: str | None
    email: str | None


class OptOutView(BaseModel):
    address: str
    channel: str
    at: datetime


class CustomerExport(BaseModel):
    """In clear: this is the customer's own data, for the customer. The export itself is on the record."""

    subject: SubjectRef
    exported_at: datetime
    access_record_id: int = Field(description="This export's own access record.")
    cases: list[ExportedCase]
    unmatched_replies: list[InboundMessageView] = Field(description="Replies from their contacts matched to no case.")
    directory_entries: list[DirectoryEntryView]
    access_records: list[AccessRecordView] = Field(description="Every recorded read of their data, newest first.")
    opt_outs: list[OptOutView]


class ErasureReport(BaseModel):
    erasure_id: int
    cases: list[str] = Field(description="The customer's cases: kept, with their personal data removed.")
    erased: dict[str, int] = Field(description="Rows whose personal data was removed or replaced, per table.")
    kept: dict[str, int] = Field(description="Financial records kept as the law requires (they hold no personal "
                                 "data): refunds per table.")
    file_purged: bool = Field(description="The database's files hold none of the old values any more. Usually "
                              "false in this answer: the purge runs right after it, in the background, and "
                              "`GET /customers/erasures/{id}` shows when it is done.")


class ErasureView(BaseModel):
    erasure_id: int
    at: datetime
    cases: list[str]
    erased: dict[str, int]
    purged_at: datetime | None = Field(description="When the old values left the database's files too.")
