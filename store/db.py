"""Database engine per URL, its schema brought to the newest migration on first use (store/migrate.py).
SQLite gets WAL and a busy timeout, because the API and the worker write to one file; `secure_delete`, so that
a deleted or overwritten value is zeroed in the file at once (an erasure leaves no bytes behind); and incremental
auto-vacuum, so the space it frees is given back in small steps, never by a whole-file VACUUM that would lock
out every other process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from settings import get_settings
from store.migrate import upgrade_to_head


@lru_cache(maxsize=8)
def engine_for(database_url: str) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        pool = get_settings()  # a process-wide choice, from its environment (README, "Scaling out")
        engine = create_engine(database_url, pool_pre_ping=True, pool_size=pool.database_pool_size,
                               max_overflow=pool.database_max_overflow)
    else:
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(database_url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    upgrade_to_head(engine)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")  # takes effect on a new file (before its first table)
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    # SQLite's own lower() folds ASCII only; PostgreSQL's folds every letter. Python's, for the same answers.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value):
    return value.lower() if isinstance(value, str) else value


@contextmanager
def session_for(database_url: str) -> Iterator[Session]:
    with Session(engine_for(database_url), expire_on_commit=False) as session:
        yield session
