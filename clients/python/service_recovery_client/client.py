"""The client: one method per integrator call, over httpx, with the API key in the Authorization header."""

from __future__ import annotations

from typing import TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from service_recovery_client.models import (
    Case,
    Incident,
    OpenedCase,
    TillRecord,
    TimelineEntry,
    TransactionVerdict,
    WebhookEndpoint,
)

Answer = TypeVar("Answer")


class RecoveryApiError(Exception):
    """A 4xx or 5xx answer; `detail` is the server's explanation (for a 422, each field and why)."""

    def __init__(self, status_code: int, detail: object) -> None:
        super().__init__(f"{status_code}: {detail}")
        self.status_code, self.detail = status_code, detail


class RecoveryClient:
    """`RecoveryClient("https://recovery.example.com", "sre_...")`; use it as a context manager, or `close()`."""

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 15.0,
                 http: httpx.Client | None = None) -> None:
        self._http = http or httpx.Client(base_url=base_url, timeout=timeout)
        self._http.headers["Authorization"] = f"Bearer {api_key}"

    def __enter__(self) -> RecoveryClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def open_incident(self, incident: Incident) -> OpenedCase:
        """Opens a case (or returns the one your `external_id` already opened)."""
        return self._call("POST", "/incidents", OpenedCase, incident)

    def post_transaction(self, record: TillRecord) -> TransactionVerdict:
        """Sends a till record; an over- or undercharge in it opens a case, named in the verdict."""
        return self._call("POST", "/transactions", TransactionVerdict, record)

    def get_case(self, case_id: str) -> Case:
        return self._call("GET", f"/cases/{case_id}", Case)

    def timeline(self, case_id: str) -> list[TimelineEntry]:
        return self._call("GET", f"/cases/{case_id}/timeline", list[TimelineEntry])

    def register_webhook(self, url: str, event_types: list[str], owner_email: str,
                         description: str = "") -> WebhookEndpoint:
        """Registers an endpoint; the answer carries its `secret` for `verify_webhook`, shown only now."""
        body = {"url": url, "event_types": event_types, "owner_email": owner_email, "description": description}
        return self._call("POST", "/webhook-endpoints", WebhookEndpoint, body)

    def _call(self, method: str, path: str, answer: type[Answer], body: BaseModel | dict | None = None) -> Answer:
        payload = body.model_dump(mode="json", exclude_none=True) if isinstance(body, BaseModel) else body
        response = self._http.request(method, path, json=payload)
        if response.is_error:
            detail = response.json().get("detail") if response.headers.get("content-type", "").startswith(
                "application/json") else response.text
            raise RecoveryApiError(response.status_code, detail)
        return TypeAdapter(answer).validate_python(response.json())
