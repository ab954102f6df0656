"""Alembic's entry: migrates the read model of DATABASE_URL (or the connection store/migrate.py hands over).

Revisions are written in plain SQLAlchemy types (`render_item`), never our own classes, so an old revision
still runs after store/tables.py has moved on. SQLite alters tables by copying them (`render_as_batch`).
"""

from alembic import context
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from settings import Settings
from store.tables import UtcDateTime


def render_item(kind: str, value, autogen_context):
    if kind == "type" and isinstance(value, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    if kind == "type" and isinstance(value, AutoString):
        return f"sa.String(length={value.length})" if value.length else "sa.String()"
    return False


def run_migrations(connection) -> None:
    context.configure(connection=connection, target_metadata=SQLModel.metadata, compare_type=True,
                      render_item=render_item, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    from sqlalchemy import create_engine

    url = context.config.get_main_option("sqlalchemy.url") or Settings().database_url
    with create_engine(url).connect() as connection:
        run_migrations(connection)


main()
