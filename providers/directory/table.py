"""The built-in directory: the `customer_directory` table, filled by the company through `/directory`."""

from __future__ import annotations

from schemas.directory import DirectoryEntry
from store.db import session_for
from store.directory import find_by_name


class TableDirectory:
    attempts = 1  # our own database: its failures are the activity's to retry, like every read-model write

    def __init__(self, database_url: str) -> None:
        self._database_url = database_url

    def find_by_name(self, tenant: str, name: str, city: str | None) -> list[DirectoryEntry]:
        with session_for(self._database_url) as session:
            return [DirectoryEntry(name=row.name, city=row.city, phone=row.phone, email=row.email)
                    for row in find_by_name(session, tenant, name, city)]
