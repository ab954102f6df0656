"""The read model's schema, kept by Alembic (`migrations/`): every process brings the database to the newest
revision before it uses it, one process at a time, and refuses a schema it does not know.

Databases from before migrations (release 95ea828 and `make run`s of it, tables made by `create_all`) have no
`alembic_version`; when their tables and columns are exactly those of the first revision they are stamped with it
(after creating any index of that revision they lack: releases before 95ea828 had fewer) and then upgraded like
any other. `python -m store.migrate` (`make migrate`) does the same by hand, or reports where a
database stands (`current`).
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Index, MetaData, create_engine, inspect, text
from sqlalchemy.engine import Engine, make_url

from settings import PROJECT_DIR

BEFORE_MIGRATIONS = "0001"  # the first revision: the schema `create_all` made at release 95ea828
VERSION_TABLE = "alembic_version"
# Any constant shared by every process of the engine: PostgreSQL serialises migrations on it.
_PG_LOCK_KEY = 0x5EC0_7E12
log = logging.getLogger(__name__)
WHAT_TO_RUN = "`make migrate` (or `python -m store.migrate upgrade` with DATABASE_URL set)"


class UnknownSchema(RuntimeError):
    """The database holds a schema this release cannot vouch for; the message says what to do."""


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(PROJECT_DIR / "migrations"))
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    return scripts().get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(engine: Engine) -> None:
    """Brings the database to the newest revision. Cheap when it is there already (one SELECT)."""
    with engine.connect() as connection:
        if current_revision(connection) == head():
            return
    with _one_migrator(engine), engine.begin() as connection:
        revision = current_revision(connection)  # again: another process may have migrated meanwhile
        if revision == head():
            return
        if revision is None and _tables(connection):
            _adopt_database_from_before_migrations(connection)
        elif revision is not None and revision not in _known_revisions():
            raise UnknownSchema(
                f"The database {_shown(engine)} is at schema revision {revision!r}, which this release does not "
                f"know (its newest is {head()!r}): a newer release has migrated it. Run that release, or "
                f"downgrade the database with that release's `python -m store.migrate downgrade {head()}`.")
        command.upgrade(alembic_config(connection), "head")


def _adopt_database_from_before_migrations(connection: Connection) -> None:
    """Stamps a database made by `create_all` with the first revision, if it is that schema, table by table and
    column by column; any other schema could be half of something, and migrating it would guess."""
    found, expected = _tables(connection), _first_revision_tables()
    if found != expected:
        differences = sorted(f"{table}: has {sorted(found.get(table, set()))}, expected "
                             f"{sorted(expected.get(table, set()))}"
                             for table in found.keys() | expected.keys() if found.get(table) != expected.get(table))
        raise UnknownSchema(
            "The database has tables but no schema revision, and they are not those of release 95ea828 (the "
            f"first revision), so it cannot be upgraded safely. Differences: {'; '.join(differences)}. Move the "
            f"data to a database made by {WHAT_TO_RUN}, or start afresh.")
    _create_missing_first_revision_indexes(connection)
    command.stamp(alembic_config(connection), BEFORE_MIGRATIONS)


def _create_missing_first_revision_indexes(connection: Connection) -> None:
    """Same columns is not same schema: a database from before 95ea828 lacks `ix_cases_status_kind_opened`, and
    stamped as it is, no later revision would ever add it. Indexes are derived data, so creating them is safe."""
    tables = MetaData()
    tables.reflect(connection)
    present = {(table, name) for table, name, _, _ in _indexes(connection)}
    for table, name, columns, unique in _first_revision_indexes():
        if (table, name) not in present:
            log.warning("adopting a database from before migrations: creating its missing index %s on %s", name,
                        table)
            Index(name, *(tables.tables[table].c[column] for column in columns), unique=unique).create(connection)


def _indexes(connection: Connection) -> list[tuple[str, str, tuple[str, ...], bool]]:
    inspector = inspect(connection)
    return [(table, index["name"], tuple(index["column_names"]), bool(index["unique"]))
            for table in inspector.get_table_names() if table != VERSION_TABLE
            for index in inspector.get_indexes(table)]


def _tables(connection: Connection) -> dict[str, set[str]]:
    inspector = inspect(connection)
    return {table: {column["name"] for column in inspector.get_columns(table)}
            for table in inspector.get_table_names() if table != VERSION_TABLE}


def _first_revision_tables() -> dict[str, set[str]]:
    return _first_revision_schema()[0]


def _first_revision_indexes() -> list[tuple[str, str, tuple[str, ...], bool]]:
    return _first_revision_schema()[1]


@lru_cache(maxsize=1)
def _first_revision_schema() -> tuple[dict[str, set[str]], list[tuple[str, str, tuple[str, ...], bool]]]:
    """What the first revision creates (tables with their columns, indexes), read back from an in-memory database
    it was run on."""
    engine = create_engine("sqlite://")
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), BEFORE_MIGRATIONS)
        return _tables(connection), _indexes(connection)


def _known_revisions() -> set[str]:
    return {script.revision for script in scripts().walk_revisions()}


@contextmanager
def _one_migrator(engine: Engine) -> Iterator[None]:
    """Several APIs and workers start at once; one migrates, the others wait and then find the schema at head.
    PostgreSQL: a session advisory lock. SQLite (one machine by nature): a lock file beside the database."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_LOCK_KEY})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_LOCK_KEY})
                connection.commit()
        return
    if not url.database or url.database == ":memory:":
        yield
        return
    with open(Path(url.database).with_suffix(".migrate-lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _shown(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def main(argv: list[str] | None = None) -> int:
    from settings import get_settings

    parser = argparse.ArgumentParser(prog="python -m store.migrate", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["upgrade", "current", "downgrade"], nargs="?", default="upgrade")
    parser.add_argument("revision", nargs="?", help="for downgrade: the revision to go back to")
    args = parser.parse_args(argv)
    url = make_url(get_settings().database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine, shown = create_engine(url), url.render_as_string(hide_password=True)
    if args.action == "upgrade":
        upgrade_to_head(engine)
    elif args.action == "downgrade":
        with _one_migrator(engine), engine.begin() as connection:
            command.downgrade(alembic_config(connection), args.revision or "-1")
    with engine.connect() as connection:
        print(f"{shown}: schema revision {current_revision(connection)} (this release's newest: {head()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
