"""The queue: open cases of the viewer's tenant, newest or most urgent first, filtered in the URL, a page at a time
by keyset, with new cases appearing at the top and rows changing in place while the page is open (htmx polls)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.auth import ReaderDep
from api.case_access import only_from
from api.deps import SettingsDep
from console.api_calls import permit
from console.session import PATH, PollingDep, Viewer, ViewerDep
from console.templating import templates
from schemas.incidents import IncidentKind, IncidentSource
from schemas.inputs import EARLIEST, KEPT_YEARS_RULE, LATEST, FilterDay, FilterInstant
from schemas.progress import CaseStatus
from schemas.sla import Priority
from settings import Settings
from sla.clock import SlaState
from store import cases as case_store
from store.cases import Keyset
from store.db import session_for
from store.tables import CaseRow

router = APIRouter(prefix=PATH)
PAGE_SIZE = 50
COUNT_UP_TO = 1000  # "more than 1000" is all a person needs, and counting further costs (make bench, d)
LATE = timedelta(seconds=10)
ARRIVALS_UP_TO = 20 * PAGE_SIZE  # new cases one poll shows at most
POLL_SECONDS = 1  # a new case shows within 2 s of its POST /incidents (issue 14), poll and request included
# The rows a live page follows. The poll names each (one comma-joined field the poller carries, never a form field
# per row: Starlette refuses a form of more than 1,000 fields); past this the page says to reload instead.
LIVE_ROWS_UP_TO = 2 * ARRIVALS_UP_TO
LiveIds = Annotated[str, Form(max_length=LIVE_ROWS_UP_TO * 65,  # a case id is at most 64 characters
                              description="Case ids, comma-joined, as the poller carries them.")]


class QueueFilters(BaseModel):
    """The view, as its URL says it (bookmark it, share it). No status: every case not closed."""

    model_config = ConfigDict(extra="ignore")

    status: CaseStatus | None = None
    kind: IncidentKind | None = None
    owner: Literal["mine", "unowned"] | None = None
    sla: SlaState | None = None
    priority: Priority | None = None
    source: IncidentSource | None = None
    opened_from: FilterDay | None = Field(default=None, description="Opened on or after this day (UTC).")
    opened_to: FilterDay | None = Field(default=None, description="Opened on or before this day (UTC).")
    order: Literal["urgent_first"] | None = Field(default=None, description="Most urgent first (the nearest open SLA "
                                            "deadline); newest first otherwise.")

    @field_validator("*", mode="before")
    @classmethod
    def _any_is_blank(cls, value: Any) -> Any:
        return None if value == "" else value

    @property
    def urgent_first(self) -> bool:
        return self.order == "urgent_first"

    def query(self, **more: str) -> str:
        return urlencode({**self.model_dump(mode="json", exclude_none=True), **more})


@dataclass(frozen=True)
class Page:
    rows: list[CaseRow]
    total: int
    urgent_first: bool = False

    def counted(self, translate: Callable[[str], str]) -> str:
        if self.total > COUNT_UP_TO:
            return f"{translate('more than')} {COUNT_UP_TO} {translate('cases')}"
        return f"1 {translate('case')}" if self.total == 1 else f"{self.total} {translate('cases')}"

    @property
    def newest(self) -> str | None:
        """Where the live poll starts: the newest case shown (newest-first pages only)."""
        return cursor_of(self.rows[0].opened_at, self.rows[0]) if self.rows and not self.urgent_first else None

    @property
    def last(self) -> str | None:
        """Where the next page starts, in this page's order; None on the last page."""
        if len(self.rows) < PAGE_SIZE:
            return None
        row = self.rows[-1]
        return cursor_of(row.sla_due_at if self.urgent_first else row.opened_at, row)


def cursor_of(key: datetime | None, row: CaseRow) -> str:
    return f"{key.isoformat() if key else ''}~{row.id}"


def cursor_text(keyset: Keyset) -> str:
    return f"{keyset[0].isoformat()}~{keyset[1]}"


def parse_cursor(field: str, value: str | None) -> Keyset | None:
    if not value:
        return None
    opened_at, _, case_id = value.partition("~")
    try:
        at = datetime.fromisoformat(opened_at)
    except ValueError:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"{field}: not a place in the queue ({value[:60]!r})") from None
    # Ours always carry a time zone and lie in the kept years; anything else would overflow or fail to compare.
    if at.tzinfo is None or not EARLIEST <= at < LATEST:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"{field}: {KEPT_YEARS_RULE}, with a time zone ({value[:60]!r})")
    return at, case_id


def _midnight(day: date | None, days_after: int = 0) -> datetime | None:
    return datetime.combine(day + timedelta(days=days_after), time(), UTC) if day else None


def _view(person: Viewer, filters: QueueFilters) -> dict[str, Any]:
    """The store's filters for the view, scoped as `GET /cases` scopes them: what a page lists, and what the live
    poll holds the rows shown to."""
    reader = person.principal
    return {"tenant": reader.tenant, "integrator": only_from(reader), "status": filters.status,
            "still_open": filters.status is None, "kind": filters.kind, "source": filters.source,
            "owner": reader.id if filters.owner == "mine" else None, "unowned": filters.owner == "unowned",
            "sla_state": filters.sla, "priority": filters.priority, "opened_after": _midnight(filters.opened_from),
            "opened_before": _midnight(filters.opened_to, days_after=1)}


def _list(session: Session, person: Viewer, filters: QueueFilters, counted: bool = True, limit: int = PAGE_SIZE,
          **keyset: Keyset | None) -> Page:
    """The API's own listing (store/cases.py)."""
    rows, total = case_store.list_cases(
        session, **_view(person, filters), limit=limit, offset=0,
        newest_first=not filters.urgent_first, most_urgent=filters.urgent_first, count_up_to=COUNT_UP_TO,
        counted=counted, **keyset)
    return Page(rows=rows, total=total, urgent_first=filters.urgent_first)


async def _page(settings: Settings, person: Viewer, filters: QueueFilters, counted: bool = True,
                limit: int = PAGE_SIZE, **keyset: Keyset | None) -> Page:
    await permit(ReaderDep, person.principal)

    def read() -> Page:
        with session_for(settings.database_url) as session:
            return _list(session, person, filters, counted, limit, **keyset)

    return await run_in_threadpool(read)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def queue(request: Request, settings: SettingsDep, person: ViewerDep,
                filters: Annotated[QueueFilters, Query()], after: str | None = None) -> HTMLResponse:
    checked = datetime.now(UTC).isoformat()
    page = await _page(settings, person, filters, after=parse_cursor("after", after))
    return templates.TemplateResponse(request, "queue.html", {"checked": checked, "csrf": person.csrf,
        "person": person, "filters": filters, "page": page, "first_page": after is None, "live": after is None,
        "since": await _newest(settings, person, filters, page) if after is None else "",
        "poll_seconds": POLL_SECONDS, "shown": [row.id for row in page.rows], "arrived": [],
        "live_rows_up_to": LIVE_ROWS_UP_TO,
        "statuses": list(CaseStatus), "kinds": list(IncidentKind), "sla_states": list(SlaState),
        "priorities": list(Priority), "sources": list(IncidentSource)})


async def _newest(settings: Settings, person: Viewer, filters: QueueFilters, page: Page) -> str:
    """Where the live poll starts: the newest case of the view. The newest-first page shows it on top; the
    most-urgent-first page is asked for it (one row, newest first), since its rows are in the order of deadlines."""
    if not page.urgent_first:
        return page.newest or ""
    newest_first = filters.model_copy(update={"order": None})
    newest = await _page(settings, person, newest_first, counted=False, limit=1)
    return newest.newest or ""


async def _arrivals(settings: Settings, person: Viewer, filters: QueueFilters, newer_than: Keyset | None
                    ) -> list[CaseRow]:
    """Every case newer than the marker, newest first, page after page: a burst of more than a page within one poll
    is not cut to its newest PAGE_SIZE (the marker moves past the rest, which would never show). Bounded by
    ARRIVALS_UP_TO, far beyond what arrives in a second. The poll runs in the newest-first order only."""
    newest_first = filters.model_copy(update={"order": None})
    rows: list[CaseRow] = []
    after: Keyset | None = None
    while len(rows) < ARRIVALS_UP_TO:
        page = await _page(settings, person, newest_first, counted=False, newer_than=newer_than, after=after)
        rows += page.rows
        if len(page.rows) < PAGE_SIZE:
            break
        after = (page.rows[-1].opened_at, page.rows[-1].id)
    return rows


@router.post("/queue/fresh", response_class=HTMLResponse, include_in_schema=False)
async def fresh(request: Request, settings: SettingsDep, person: PollingDep,
                filters: Annotated[QueueFilters, Query()], since: str | None = None,
                checked: FilterInstant | None = None,
                shown: LiveIds = "", arrived: LiveIds = "") -> HTMLResponse:
    """What arrived since the newest row shown, above it; the rows shown that moved on since the last look
    (`checked`), each replaced where it stands (again, harmlessly, for LATE); and the poller again, remembering the
    newest and the time. A row that no longer matches the view's filters (closed in the open view, reassigned in
    "mine", its deadlines met in the most-urgent view) is marked so, where it stands, until the page is reloaded;
    in the most-urgent view new cases come on top, marked new (`arrived`: still so when they change), not sorted in
    among the rows already read.
    Nothing moves under the viewer's cursor. A POST (with the form's CSRF token): the ids shown travel in the body,
    in the poller's own state (`shown`, `arrived`: comma-joined), which each answer carries on with the arrivals
    added; past LIVE_ROWS_UP_TO rows the answer says to reload instead of polling on."""
    now = datetime.now(UTC)
    shown, arrived = _ids(shown), _ids(arrived)
    newest = parse_cursor("since", since)
    # A case's times are stamped before its transaction commits, so one can land a moment "in the past": look back
    # LATE and leave out what the page shows already (its ids are posted), rather than miss it for good.
    rows = await _arrivals(settings, person, filters, newer_than=(newest[0] - LATE, "") if newest else None)
    arrivals = [row for row in rows if row.id not in set(shown)]
    new_ids = [row.id for row in arrivals]
    known = [at for at in (newest, *((row.opened_at, row.id) for row in arrivals[:1])) if at is not None]
    newest = max(known) if known else None

    def read_changed() -> tuple[list[CaseRow], set[str]]:
        with session_for(settings.database_url) as session:
            changed = case_store.changed_cases(session, tenant=person.principal.tenant,
                                               integrator=only_from(person.principal), ids=shown,
                                               since=(checked or now) - LATE)
            ids = [row.id for row in (*changed, *arrivals)]
            return changed, case_store.in_view(session, ids, most_urgent=filters.urgent_first,
                                               **_view(person, filters))

    changed, matching = await run_in_threadpool(read_changed)
    return templates.TemplateResponse(request, "_fresh.html", {
        "filters": filters, "rows": arrivals, "since": cursor_text(newest) if newest else "",
        "checked": now.isoformat(), "changed": changed, "matching": matching, "shown": [*new_ids, *shown],
        "left_view": sum(row.id not in matching for row in changed),
        "arrived": [*(new_ids if filters.urgent_first else []), *arrived], "poll_seconds": POLL_SECONDS,
        "live_rows_up_to": LIVE_ROWS_UP_TO, "csrf": person.csrf})


def _ids(joined: str) -> list[str]:
    return [case_id for case_id in joined.split(",") if case_id]
