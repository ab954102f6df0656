"""The customer directory's contracts: a record as a company sends it (import, single-record routes), what a
directory answers a look-up with, the import's report, and how a company's CRM is asked (deployment settings).

Phone numbers are read like every other number at the edge (`schemas/phones.py`: the policy's region, E.164);
emails like every other address."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, StringConstraints, model_validator

from schemas.incidents import E164Phone
from schemas.inputs import EmailAddress, single_line


def _trimmed(max_length: int) -> object:
    """A one-line text without the spaces around it: " C-1" and "C-1" are one customer, "Tampere " is Tampere."""
    return Annotated[single_line(max_length), StringConstraints(strip_whitespace=True)]


CustomerKey = _trimmed(100)


class DirectoryRecord(BaseModel):
    """One customer as the company knows them. A phone or an email is needed: a row nobody can be reached at
    would be 'found' by name and still reach nobody."""

    # The rule below, as JSON Schema states it: a phone or an email, as a string.
    model_config = ConfigDict(extra="forbid", json_schema_extra={"anyOf": [
        {"required": ["phone"], "properties": {"phone": {"type": "string"}}},
        {"required": ["email"], "properties": {"email": {"type": "string"}}}]})

    name: single_line(200)
    city: _trimmed(100) | None = None
    phone: E164Phone | None = None
    email: EmailAddress | None = None

    @model_validator(mode="after")
    def _reachable(self) -> DirectoryRecord:
        if not self.phone and not self.email:
            raise ValueError("a phone or an email is needed to reach the customer")
        return self


class DirectoryRecordIn(DirectoryRecord):
    """A row of a bulk import: the record and the company's own key of the customer."""

    customer_key: CustomerKey = Field(description="The company's own id of the customer; an import upserts on it.")


class DirectoryRecordView(BaseModel):
    """A directory row as listings show it: contact details masked, as in every other view (S5)."""

    customer_key: str
    name: str
    city: str | None
    phone: str | None = Field(description="Masked: country code and last two digits.")
    email: str | None = Field(description="Masked: first letter and domain.")


class RejectedRow(BaseModel):
    row: int = Field(description="1 is the first record (CSV: the line after the header; JSON: the list's first).")
    field: str = Field(description="The column at fault, or `row` when the row as a whole is.")
    reason: str


class ImportReport(BaseModel):
    """Every row is either counted as written or listed as rejected: nothing fails silently."""

    policy: str = Field(default="accept-valid-report-rejected", description="Valid rows are committed together; "
                        "each rejected row is listed with its reason and nothing of it is written.")
    received: int
    created: int
    updated: int
    rejected: list[RejectedRow]


class DirectoryEntry(BaseModel):
    """What a directory answers a look-up by name with: one customer's contact details (phone in E.164)."""

    name: str
    city: str | None = None
    phone: str | None = None
    email: str | None = None


class CrmFields(BaseModel):
    """Where each value is in one of the CRM's records: a key, or a dotted path (`contact.mobile`)."""

    name: str = "name"
    city: str | None = "city"
    phone: str | None = "phone"
    email: str | None = "email"


class CrmDirectory(BaseModel):
    """How a tenant's CRM is asked: `GET url?{name_param}=<name>[&{city_param}=<city>]` with the auth header; the
    answer is JSON, a list of records (or the list at `results_path`), mapped by `fields`."""

    url: HttpUrl
    name_param: str = "name"
    city_param: str | None = None
    auth_header: str = "Authorization"
    auth_value: SecretStr | None = Field(default=None, description="e.g. 'Bearer <token>'.")
    results_path: str | None = Field(default=None, description="Dotted path to the list; none: the answer is it.")
    fields: CrmFields = Field(default_factory=CrmFields)
    # The whole answer's limit; a slow CRM's try may last about twice it (connecting counts apart), which must
    # stay well under the look-up activity's 30 s per try (workflows/steps.py).
    timeout_seconds: float = Field(default=5.0, gt=0, le=10)
    attempts: int = Field(default=3, ge=1, le=10, description="Tries before the case goes to its owner.")
