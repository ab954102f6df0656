"""Dependencies declared once and reused by every router."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session
from temporalio.client import Client

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
