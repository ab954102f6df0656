"""Dependencies declared once and reused by every router."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session
from temporalio.client import Client

from api.errors import invalid_field
from settings import Settings
from store.db import session_for


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _temporal(request: Request) -> Client:
    return request.app.state.temporal


def _session(settings: Annotated[Settings, Depends(_settings)]) -> Iterator[Session]:
    with session_for(settings.database_url) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(_settings)]
TemporalDep = Annotated[Client, Depends(_temporal)]
SessionDep = Annotated[Session, Depends(_session)]


def each_query_parameter_once(request: Request) -> None:
    """No query parameter of this API is a list, so a repeated one (`?flagged=x&flagged=true`) is refused with a
    422 naming it, rather than read as its last value with the others never validated. Declared on the app."""
    names = [name for name, _ in request.query_params.multi_items()]
    repeated = next((name for name in names if names.count(name) > 1), None)
    if repeated is not None:
        raise invalid_field("query", repeated, "repeated_parameter", f"{repeated} is given more than once")
