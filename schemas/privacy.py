"""S5, purpose-bound access to a customer's personal data: the contracts of reveals, access records, the
data-misuse investigation, and data-subject requests (export, erasure).

Contact details and bank accounts are masked in every view; a person reads them in clear only through a
reveal, bound to an open case they own or supervise and a stated purpose, and every read leaves a record.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from schemas.incidents import E164Phone, ShortText
from schemas.inputs import EmailAddress, documented_rule, present

MAX_FINDINGS_CHARS = 2000  # the owner's findings travel in workflow history and in the customer's answer


class PersonalField(StrEnum):
    """What a reveal may ask for. The name is not among them: it is shown on the case (see privacy/masking.py)."""

    phone = "phone"
    email = "email"
    iban = "iban"


class AccessRole(StrEnum):
    """The reader's role at the time of the read: what the customer is told (never the person's name)."""

    administrator = "administrator"
    supervisor = "supervisor"
    agent = "agent"
    integrated_system = "integrated_system"
    engine = "engine"  # the recovery engine itself, for the case's owner (a directory look-up)


class RevealIn(BaseModel):
    fields: list[PersonalField] = Field(min_length=1, max_length=3)
    purpose: str = Field(min_length=10, max_length=500, pattern=r"\S\s+\S",
                         description="Why, in words the customer could be shown (a few words, not one).",
                         examples=["calling the customer back about the refund they asked for"])

    @field_validator("purpose")
    @classmethod
    def _trimmed(cls, purpose: str) -> str:
        return purpose.strip()


class Revealed(BaseModel):
    """The clear values asked for; fields not asked for stay null."""

    case_id: str
    access_record_id: int
    phone: str | None = None
    email: str | None = None
    ibans: list[str] | None = Field(default=None, description="Bank accounts the customer gave on this case.")


class AccessRecordView(BaseModel):
    id: int
    at: datetime
    actor: str
    role: str
    case_id: str | None
    subject: str = Field(description="The customer, by normalised name ('erased:<n>' after an erasure).")
    fields: list[str]
    purpose: str
    flagged: bool = Field(description="Refused: no open case of the customer that the reader owns or supervises.")


class SubjectRef(BaseModel):
    """One customer, as the engine can recognise them: a name, and contact details or case ids that pin
    them down (a name alone may belong to several people, see S2)."""

    name: ShortText
    phone: E164Phone | None = None
    email: EmailAddress | None = None
    case_ids: list[str] = Field(default_factory=list, max_length=100,
                                description="Cases known to be this customer's even without matching contacts.")


class DataSubjectRequest(SubjectRef):
    """`POST /customers/export` and `/customers/erase`: who, and the request this fulfils."""

    model_config = ConfigDict(json_schema_extra=documented_rule(present("phone"), present("email"),
                                                                present("case_ids", minItems=1)))

    reason: str = Field(min_length=3, max_length=500, examples=["customer's request by email of 2 May"])

    @model_validator(mode="after")
    def _pinned_down(self) -> DataSubjectRequest:
        if not (self.phone or self.email or self.case_ids):
            raise ValueError("name the customer's phone, email or case ids too: a name alone is not one person")
        return self


class ReadLine(BaseModel):
    """One read of the customer's data, as the customer's answer lists it."""

    at: datetime
    role: AccessRole
    fields: list[str]
    refused: bool


class AccessReport(BaseModel):
    """The reads of one customer's data in a period. Capped (`reads` holds the newest) to keep payloads small."""

    since: datetime
    total: int
    refused: int
    reads: list[ReadLine]

    def summary(self) -> str:
        return f"{self.total} reads of the customer's data since {self.since:%Y-%m-%d}, {self.refused} refused"


class AccessQuery(BaseModel):
    """The data-misuse workflow's question to the audit trail; reads up to the moment it is answered."""

    case_id: str
    subject: SubjectRef
    since: datetime
    limit: int = Field(default=100, ge=1, le=500)


class FindingsIn(BaseModel):
    """`POST /cases/{id}/findings`: what the investigation found and what was done about it."""

    misuse_confirmed: StrictBool
    findings: str = Field(min_length=10, max_length=MAX_FINDINGS_CHARS, description="Told to the customer as written.")
    actions: str = Field(min_length=3, max_length=1000, description="What was done: told to the customer.")


class Findings(FindingsIn):
    recorded_by: str = Field(max_length=200)


class PrivacyPolicy(BaseModel):
    """The data protection officer, and the legal deadline for answering a data-misuse complaint."""

    dpo_address: str = Field(default="dpo@example.com", description="Told of every refused read and every "
                             "data-misuse complaint.")
    answer_within_months: int = Field(default=1, ge=1, le=3, description="GDPR art. 12(3): one month.")
    escalate_at: float = Field(default=0.75, gt=0, lt=1,
                               description="Share of the answer period after which an unanswered case escalates.")
    answer_margin: timedelta = Field(default=timedelta(days=3), description="Without findings by this long before "
                                     "the deadline, the customer is answered with what is known so far.")
    look_back: timedelta = Field(default=timedelta(days=90),
                                 description="Reads listed from this long before the misuse the customer reports.")
    max_listed_reads: int = Field(default=100, ge=1, le=500)

    def answer_due(self, received: datetime) -> datetime:
        """The same day `answer_within_months` calendar months later (the month's last day if it is shorter)."""
        month_index = received.month - 1 + self.answer_within_months
        year, month = received.year + month_index // 12, month_index % 12 + 1
        day = min(received.day, calendar.monthrange(year, month)[1])
        return received.replace(year=year, month=month, day=day)

    def escalation_at(self, received: datetime) -> datetime:
        return received + (self.answer_due(received) - received) * self.escalate_at

    def answer_by(self, received: datetime) -> datetime:
        return self.answer_due(received) - self.answer_margin

    def reads_since(self, occurred: datetime | None, received: datetime) -> datetime:
        """The start of the period searched; an instant without a zone is taken as UTC."""
        start = occurred or received
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
        try:
            return start - self.look_back
        except OverflowError:  # a misuse "in year 1": search from the beginning
            return datetime.min.replace(tzinfo=UTC)
