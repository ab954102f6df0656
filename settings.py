"""All configuration in one place, read from the environment (or `.env`). Defaults run everything locally."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.policy import RecoveryPolicy

PROJECT_DIR = Path(__file__).resolve().parent
VAR_DIR = PROJECT_DIR / "var"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_nested_delimiter="__", extra="ignore")

    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "service-recovery"
    temporal_tls: bool = False
    temporal_api_key: str | None = Field(default=None, description="Temporal Cloud API key; implies TLS.")

    database_url: str = f"sqlite:///{VAR_DIR / 'recovery.db'}"

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    worker_activity_threads: int = 32

    policy: RecoveryPolicy = Field(default_factory=RecoveryPolicy)


@lru_cache
def get_settings() -> Settings:
    return Settings()
