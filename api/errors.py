"""The error answers routes give besides validation (422), documented once so that clients, and the fuzz test
holding the API to its OpenAPI document, can rely on them."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, status
from pydantic import BaseModel


class Problem(BaseModel):
    detail: str


def _answer(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description}


def invalid_field(location: str, field: str, kind: str, message: str) -> HTTPException:
    """A 422 in the shape FastAPI gives its own validation errors, for a rule checked beyond the schema (an
    unknown account, say): clients read one shape whatever caught the mistake."""
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                         [{"loc": [location, field], "type": kind, "msg": message}])


# Every route behind an API key (all but health and the docs).
GUARDED: dict[int | str, dict[str, Any]] = {
    400: _answer("The body could not be parsed (not JSON, or not UTF-8)."),
    401: _answer("No API key, or an unknown or revoked one."),
    403: _answer("The key lacks the route's scope, or the action is not this principal's to take."),
    413: _answer("The request body is over the size limit."),
    429: _answer("Too many requests with this key; Retry-After says when to try again."),
}
# Routes about one case.
ONE_CASE: dict[int | str, dict[str, Any]] = {
    404: _answer("No such case, or not one this key may see."),
    409: _answer("The case's workflow no longer runs, or the case is not in a state for this."),
}
# Routes that open cases.
OPENS_CASES: dict[int | str, dict[str, Any]] = {
    503: {**_answer("Temporal is unreachable. The case is recorded (its id is in `detail`) and will be started "
                    "without another post; posting again after `Retry-After` seconds is safe and returns it."),
          "headers": {"Retry-After": {"description": "Seconds to wait before posting again.",
                                      "schema": {"type": "integer"}}}},
}
# Routes about one major incident.
ONE_MAJOR_INCIDENT: dict[int | str, dict[str, Any]] = {
    404: _answer("No such major incident, or not one this key may see."),
    409: _answer("The incident's workflow no longer runs, or the incident is not in a state for this."),
}
