"""A company's CRM as the directory: asked over HTTP for customers of a name, its records mapped by the
deployment's field mapping (`DIRECTORY_CRM`). The URL is the operator's setting, never a tenant's input, so it is
not held to the webhooks' SSRF rules.

We never trust the CRM's idea of a match: its search may be fuzzy ("Lahtinen" finding "Lahtinen-Koski"), so only
records of exactly the name asked (case and spacing aside) count, and two of them are two people, never guessed
between. Numbers are normalised as at our own edge (the policy's region, E.164); an unusable number or address
is left out of the entry, not passed on to a carrier."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import httpx
from pydantic import TypeAdapter, ValidationError

from providers.directory import DirectoryUnavailable
from schemas.directory import CrmDirectory, DirectoryEntry
from schemas.inputs import EmailAddress
from schemas.phones import normalise_phone
from store.directory import name_key, prefer_city

log = logging.getLogger(__name__)
# httpx logs every request's full URL at INFO, and a look-up's URL carries the customer's name and city: wherever
# this adapter runs (the worker logs at INFO), httpx says only what went wrong.
logging.getLogger("httpx").setLevel(logging.WARNING)
MAX_ANSWER_BYTES = 1024 * 1024  # a look-up by one name; more is a CRM answering something else
_EMAIL = TypeAdapter(EmailAddress)


class HttpCrmDirectory:
    def __init__(self, config: CrmDirectory, region: str) -> None:
        self._config, self._region = config, region
        self.attempts = config.attempts

    def find_by_name(self, tenant: str, name: str, city: str | None) -> list[DirectoryEntry]:
        records = _at_path(self._ask(name, city), self._config.results_path)
        if not isinstance(records, list):
            raise DirectoryUnavailable("the CRM's answer holds no list of records where the mapping says")
        try:
            entries = [entry for record in records if (entry := self._entry(record)) is not None]
        except (ValueError, RecursionError):  # a record our contract refuses: unusable, never retried for ever
            raise DirectoryUnavailable("the CRM's records cannot be mapped") from None
        if records and not entries:  # a wrong `fields.name` would else make every case "not found"
            raise DirectoryUnavailable("none of the CRM's records has a name where the mapping says")
        return prefer_city([entry for entry in entries if name_key(entry.name) == name_key(name)], city)

    def _ask(self, name: str, city: str | None) -> Any:
        """The CRM's JSON answer within `timeout_seconds` in all (httpx limits each step only: a CRM dripping a
        byte at a time would hold the look-up for ever). Errors name the kind of failure only: the URL carries the
        customer's name."""
        config = self._config
        deadline = time.monotonic() + config.timeout_seconds
        params = {config.name_param: name, **({config.city_param: city} if config.city_param and city else {})}
        headers = {config.auth_header: config.auth_value.get_secret_value()} if config.auth_value else {}
        try:
            with httpx.Client(timeout=config.timeout_seconds, follow_redirects=False, trust_env=False) as client, \
                    client.stream("GET", str(config.url), params=params, headers=headers) as response:
                if response.status_code != 200:
                    raise DirectoryUnavailable(f"the CRM answered HTTP {response.status_code}")
                body = _bounded(response, deadline)
        except httpx.HTTPError as error:
            raise DirectoryUnavailable(f"the CRM could not be asked ({type(error).__name__})") from None
        try:
            return json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
            raise DirectoryUnavailable("the CRM's answer is not JSON we can read") from None

    def _entry(self, record: Any) -> DirectoryEntry | None:
        fields = self._config.fields
        found = _at_path(record, fields.name)
        if not isinstance(found, str) or not found.strip():
            return None
        city = _mapped(record, fields.city)
        return DirectoryEntry(name=found, city=city if isinstance(city, str) else None,
                              phone=self._phone(_mapped(record, fields.phone)),
                              email=_email(_mapped(record, fields.email)))

    def _phone(self, value: Any) -> str | None:
        if not isinstance(value, str) or not value.strip():
            return None
        try:
            return normalise_phone(value, self._region)
        except ValueError:
            log.warning("a CRM record's phone number is unusable; the entry is kept without it")
            return None


def _email(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return _EMAIL.validate_python(value.strip())
    except ValidationError:
        log.warning("a CRM record's email address is unusable; the entry is kept without it")
        return None


def _bounded(response: httpx.Response, deadline: float) -> bytes:
    body = bytearray()
    for chunk in response.iter_bytes():
        if time.monotonic() > deadline:
            raise DirectoryUnavailable("the CRM did not finish its answer in time")
        body += chunk
        if len(body) > MAX_ANSWER_BYTES:
            raise DirectoryUnavailable(f"the CRM's answer is over {MAX_ANSWER_BYTES} bytes")
    return bytes(body)


def _mapped(record: Any, path: str | None) -> Any:
    """An optional field: None when the mapping leaves it out."""
    return None if path is None else _at_path(record, path)


def _at_path(value: Any, path: str | None) -> Any:
    """`a.b.c` inside nested JSON objects; None where any step is missing (no path: the value itself)."""
    if path is None:
        return value
    for step in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(step)
    return value
