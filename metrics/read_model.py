"""The SQL both metric views share: which cases count, and milestone durations computed by the database.

A duration is the difference of two timestamps in seconds. SQLite and PostgreSQL spell that differently, so
`seconds_between` compiles per dialect and every query built on it stays portable and fetches plain floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Float
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement, Label
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import select

from store.tables import CaseRow

# The milestones S6 times, each from the case's opening.
MILESTONES = {
    "time_to_first_contact": CaseRow.first_contact_at,
    "time_to_refund": CaseRow.refunded_at,
    "time_to_close": CaseRow.closed_at,
}

GroupKey = tuple[str, str]  # (grouping, value), e.g. ("kind", "overcharge"); ("overall", "all") for every case


class seconds_between(FunctionElement):  # lower case, as SQLAlchemy's own SQL functions are
    """`seconds_between(end, start)`: seconds from `start` to `end` as a float, NULL when either is NULL."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "sqlite")
def _seconds_on_sqlite(element, compiler, **kw) -> str:
    # julianday() reads the ISO text SQLAlchemy stores (UTC, see UtcDateTime) to the millisecond.
    end, start = (compiler.process(argument, **kw) for argument in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


@compiles(seconds_between, "postgresql")
def _seconds_on_postgresql(element, compiler, **kw) -> str:
    end, start = (compiler.process(argument, **kw) for argument in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS DOUBLE PRECISION)"


@compiles(seconds_between)
def _seconds_elsewhere(element, compiler, **kw) -> str:
    raise CompileError(f"seconds_between has no SQL for {compiler.dialect.name}; add one beside SQLite's")


def milestone_seconds() -> list[Label]:
    """One labelled column per milestone: seconds from opening, NULL while the case has not reached it."""
    return [seconds_between(column, CaseRow.opened_at).label(name) for name, column in MILESTONES.items()]


@dataclass(frozen=True)
class CaseScope:
    """Which cases count: a tenant's (None: all, for the bench), an integrator's key only the cases it opened;
    a period bounds the summary."""

    tenant: str | None = None
    integrator: str | None = None
    opened_from: datetime | None = None
    opened_to: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """WHERE conditions on CaseRow; each one is served by an index (integrator, opened_at)."""
        conditions = [] if self.tenant is None else [CaseRow.tenant == self.tenant]
        if self.integrator is not None:
            conditions.append(CaseRow.integrator == self.integrator)
        if self.opened_from is not None:
            conditions.append(CaseRow.opened_at >= self.opened_from)
        if self.opened_to is not None:
            conditions.append(CaseRow.opened_at < self.opened_to)
        return conditions

    def covers_case(self, case_id: ColumnElement) -> list[ColumnElement[bool]]:
        """Conditions for a table that points at cases (refunds, compensations): its case is in scope."""
        conditions = self.conditions()
        return [case_id.in_(select(CaseRow.id).where(*conditions))] if conditions else []
