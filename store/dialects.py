"""The databases the read model runs on, each with its own INSERT (for ON CONFLICT clauses)."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlmodel import Session, SQLModel

_UPSERTS = {"sqlite": sqlite_dialect, "postgresql": postgresql_dialect}


def insert_for(session: Session, table: type[SQLModel]):
    """An INSERT in the session's own dialect, ready for `.on_conflict_do_nothing(...)`."""
    name = session.get_bind().dialect.name
    if name not in _UPSERTS:
        raise NotImplementedError(f"no insert-once for the {name} dialect; the read model runs on "
                                  f"{' or '.join(sorted(_UPSERTS))}")
    return _UPSERTS[name].insert(table)
