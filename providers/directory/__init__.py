"""Customer directories: where a customer known only by name is looked up (S2). Two kinds behind one interface:
the built-in table (`table.py`, filled through `/directory`) and a company's CRM asked over HTTP (`crm.py`).
Which one a tenant uses is the deployment's setting (`DIRECTORY_CRM`, keyed by tenant; the table otherwise)."""

from __future__ import annotations

from typing import Protocol

from schemas.directory import DirectoryEntry


class DirectoryUnavailable(Exception):
    """The directory did not answer usefully (timeout, 5xx, an answer we cannot read): worth trying again, and
    after the configured tries the case goes to its owner rather than waiting for ever."""


class CustomerDirectory(Protocol):
    attempts: int  # tries of an unavailable directory before the look-up gives up

    def find_by_name(self, tenant: str, name: str, city: str | None) -> list[DirectoryEntry]:
        """The tenant's customers of exactly this name (case and spacing aside); those in `city` if any are."""
        ...
