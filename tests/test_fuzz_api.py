"""The API against its own OpenAPI document, fuzzed (schemathesis): whatever a client sends, with a valid key or
without one, no answer is a 5xx and every answer matches what the document promises (status, content type,
body schema).

Schemathesis generates the requests; they are sent through the test's own ASGI client on the event loop that
runs the API and the worker, so the app under test is the one every other test uses, against a real Temporal
dev server. Valid and invalid requests (schemathesis' positive and negative modes) are both sent; the number of
examples per operation is bounded to keep the run well under a minute.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from schemas.auth import Scope
from tests.harness import Stack

# Fixed examples keep `make test` reproducible; FUZZ_EXAMPLES=500 FUZZ_SEED=random digs deeper by hand.
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "50"))
RANDOM = os.environ.get("FUZZ_SEED") == "random"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
Send = Callable[[Any, dict[str, str]], httpx.Response]


async def test_no_request_fails_the_api_or_breaks_its_schema(live_stack: Stack):
    schema = schemathesis.openapi.from_dict(live_stack.app.openapi())
    loop = asyncio.get_running_loop()
    credentials = [live_stack.key("fuzz.admin", Scope.admin), {"Authorization": ""}]

    def send(case, headers: dict[str, str]) -> httpx.Response:
        request = _httpx_arguments(case.as_transport_kwargs(base_url="http://api", headers=headers))
        return asyncio.run_coroutine_threadsafe(live_stack.api.request(**request), loop).result(timeout=60)

    failures = await asyncio.to_thread(_fuzz_every_operation, schema, send, credentials)
    assert not failures, "\n\n".join(failures)


def _fuzz_every_operation(schema, send: Send, credentials: list[dict[str, str]]) -> list[str]:
    """Runs in a thread: Hypothesis drives the examples synchronously while the event loop serves them."""
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=not RANDOM,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy() | operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
        def each_example(case) -> None:
            for headers in credentials:
                case.validate_response(send(case, headers), checks=CHECKS, headers=headers)

        try:
            each_example()
        except (Exception, FailureGroup) as failure:  # collected: one report naming every failing operation
            failures.append(f"{operation.label}: {failure}")
    return failures


def _httpx_arguments(request: dict[str, Any]) -> dict[str, Any]:
    """Schemathesis serialises for `requests`; httpx names a raw body `content`, not `data`."""
    request = {name: value for name, value in request.items() if name not in ("cookies", "auth")}
    if isinstance(request.get("data"), bytes | str):
        request["content"] = request.pop("data")
    return request
