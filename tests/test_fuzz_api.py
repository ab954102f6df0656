"""The API against its own OpenAPI document, fuzzed (schemathesis) with every check schemathesis has: whatever a
client sends, with a valid key or without one, no answer is a 5xx, every answer matches what the document promises
(status, content type, headers, body schema), requests the document calls invalid are refused and valid ones are
not, and a route that needs a key refuses without one.

Schemathesis generates the requests and sends them over HTTP to the test's own app, served by uvicorn on the event
loop that runs the worker, against a real Temporal dev server. Valid and invalid requests (schemathesis' positive
and negative modes) are both sent; the number of examples per operation is bounded by the suite's time.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS as REGISTERED_CHECKS
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi import checks as _openapi_checks  # noqa: F401  (registers the OpenAPI checks)

from schemas.auth import Scope
from tests.harness import Stack, serving

# Fixed examples keep `make test` reproducible; FUZZ_EXAMPLES=500 FUZZ_SEED=random digs deeper by hand.
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "100"))
RANDOM = os.environ.get("FUZZ_SEED") == "random"
# Every check schemathesis has: no 5xx, the documented status codes, content types, headers and bodies, invalid
# data refused, valid data accepted, auth not ignored, and the rest.
CHECKS = REGISTERED_CHECKS.get_all()
# Two rules JSON Schema cannot state, as they relate values to each other: the lines of a till record add up to
# at most the largest amount, and a period starts before it ends. Valid-looking requests breaking them get a 422.
RULES_OPENAPI_CANNOT_STATE = SchemathesisConfig.from_dict({"operations": [
    {"include-path": path, "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "422"]}}}
    for path in ("/transactions", "/metrics/summary")]})


def _with_check_digits(account: str) -> str:
    digits = "".join(str(int(char, 36)) for char in account + "FI00")
    return f"FI{98 - int(digits) % 97:02d}{account}"


# `format: iban` promises the mod-97 check digits: Finnish account numbers carrying them.
schemathesis.openapi.format("iban", st.from_regex(r"\A[0-9]{14}\Z").map(_with_check_digits))
# `format: phone` promises a number that exists: Finnish mobile numbers, in E.164 or as people write them.
schemathesis.openapi.format("phone", st.from_regex(r"\A[0-9]{7}\Z").flatmap(
    lambda digits: st.sampled_from([f"+35840{digits}", f"040 {digits[:3]} {digits[3:]}"])))


Send = Callable[[Any, dict[str, str]], httpx.Response]


async def test_no_request_fails_the_api_or_breaks_its_schema(live_stack: Stack):
    schema = schemathesis.openapi.from_dict(live_stack.app.openapi(), config=RULES_OPENAPI_CANNOT_STATE)
    credentials = [live_stack.key("fuzz.admin", Scope.admin), {"Authorization": ""}]
    async with serving(live_stack.app) as base_url:
        failures = await asyncio.to_thread(_fuzz_every_operation, schema, base_url, credentials)
    assert not failures, "\n\n".join(failures)


def _fuzz_every_operation(schema, base_url: str, credentials: list[dict[str, str]]) -> list[str]:
    """Runs in a thread: Hypothesis drives the examples synchronously over real HTTP while the test's event loop
    serves them. Over HTTP, the checks that send requests of their own (without the key, with another method)
    reach the same server."""
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=not RANDOM,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy() | operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
        def each_example(case) -> None:
            for headers in credentials:
                response = case.call(base_url=base_url, headers=headers, timeout=60)
                case.validate_response(response, checks=CHECKS, headers=headers,
                                       transport_kwargs={"base_url": base_url, "headers": headers})

        try:
            each_example()
        except (Exception, FailureGroup) as failure:  # collected: one report naming every failing operation
            failures.append(f"{operation.label}: {failure}")
    return failures
