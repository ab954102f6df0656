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
from schemathesis.core.failures import FailureGroup
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import (  # also registers the OpenAPI checks
    negative_data_rejection,
    positive_data_acceptance,
)

from api.limits import RateLimiter
from schemas.auth import ACCOUNT_ROLES_RULE, Scope
from schemas.inputs import KEPT_YEARS_RULE, PAST_INSTANT_RULE
from schemas.major_incidents import MAJOR_INCIDENT_RULES
from tests.harness import Stack, serving

# Fixed examples keep `make test` reproducible; FUZZ_EXAMPLES=500 FUZZ_SEED=random digs deeper by hand.
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "100"))
RANDOM = os.environ.get("FUZZ_SEED") == "random"
# Rules JSON Schema cannot state, as they relate values to each other or to the clock: the lines of a till record
# add up to at most the largest amount, a period starts before it ends, a filter's bound lies in the kept years, an
# incident did not occur in the future, a suggested owner or a person's key names one of the tenant's staff accounts
# and that key asks for no more than the account's roles allow (data, not a schema: the fuzzer's own POST /accounts
# makes such accounts). A valid-looking request breaking one gets a 422 that names the rule.
RULES_OPENAPI_CANNOT_STATE = ("the lines add up to more than the largest amount accepted",
                              "opened_from must be before opened_to", KEPT_YEARS_RULE, PAST_INSTANT_RULE,
                              "unknown_account", ACCOUNT_ROLES_RULE, *MAJOR_INCIDENT_RULES)


def positive_data_accepted_unless_a_stated_rule_refused_it(ctx, response, case) -> bool | None:
    """schemathesis' `positive_data_acceptance`, except that a 422 whose body names one of the rules above is the
    answer the OpenAPI description promises; any other refusal of valid data still fails."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if response.status_code == 422 and any(rule in response.text for rule in RULES_OPENAPI_CANNOT_STATE):
            return None
        raise


def negative_data_rejected_or_too_large(ctx, response, case) -> bool | None:
    """schemathesis' `negative_data_rejection`, counting a 413 as the rejection it is: an invalid body over the
    size limit (a till record of thousands of lines) is refused by the limit before validation reads it."""
    if response.status_code == 413:
        return None
    return negative_data_rejection(ctx, response, case)


# Every check schemathesis has: no 5xx, the documented status codes, content types, headers and bodies, invalid
# data refused, valid data accepted (but for the rules above), auth not ignored, and the rest.
CHECKS = [check for check in REGISTERED_CHECKS.get_all()
          if check not in (positive_data_acceptance, negative_data_rejection)] + [
    positive_data_accepted_unless_a_stated_rule_refused_it, negative_data_rejected_or_too_large]


def _with_check_digits(account: str) -> str:
    digits = "".join(str(int(char, 36)) for char in account + "FI00")
    return f"FI{98 - int(digits) % 97:02d}{account}"


# `format: iban` promises the mod-97 check digits: Finnish account numbers carrying them.
schemathesis.openapi.format("iban", st.from_regex(r"\A[0-9]{14}\Z").map(_with_check_digits))
# `format: phone` promises a number that exists: Finnish mobile numbers, in E.164 or as people write them.
schemathesis.openapi.format("phone", st.from_regex(r"\A[0-9]{7}\Z").flatmap(
    lambda digits: st.sampled_from([f"+35840{digits}", f"040 {digits[:3]} {digits[3:]}"])))

# `format: directory-csv` promises a directory import: the header line, then customers (their rows may still be
# refused one by one in the report; the file as a whole is taken).
schemathesis.openapi.format("directory-csv", st.lists(
    st.from_regex(r"\A[A-Za-z0-9 ,@.+]*[A-Za-z0-9][A-Za-z0-9 ,@.+]*\Z"), min_size=1, max_size=5).map(
    lambda lines: "customer_key,name,phone,email\n" + "\n".join(lines) + "\n"))

Send = Callable[[Any, dict[str, str]], httpx.Response]


async def test_no_request_fails_the_api_or_breaks_its_schema(live_stack: Stack):
    schema = schemathesis.openapi.from_dict(live_stack.app.openapi())
    live_stack.app.state.rate_limiter = RateLimiter(per_second=0, burst=1)  # thousands of requests, one key
    live_stack.app.state.failed_auth_limiter = RateLimiter(per_second=0, burst=1)  # and made-up keys among them
    credentials = [live_stack.key("fuzz.admin", *Scope), {"Authorization": ""}]
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
