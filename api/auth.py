"""Every route but health and docs needs an API key with the route's scope: 401 without, 403 without scope."""

from __future__ import annotations

import hashlib
import time
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBasic, HTTPBasicCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.deps import SettingsDep
from api.limits import RateLimiter, retry_after
from schemas.auth import Principal, PrincipalKind, Scope
from store.api_keys import authenticate
from store.db import session_for

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer sre_...`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="or `X-API-Key: sre_...`")
# Carriers such as Twilio can only send credentials inside the webhook URL (https://any:sre_...@host/...).
_basic = HTTPBasic(auto_error=False, description="or Basic auth with the key as the password (for webhooks)")


class VerifiedKeys:
    """Keys verified in the last few seconds, so a busy integrator's requests skip the database round trip
    (make bench, a). The price: a revoked key keeps working for at most `ttl` seconds in each API process."""

    MAX_ENTRIES = 10_000

    def __init__(self, ttl_seconds: float) -> None:
        self._ttl = ttl_seconds
        self._seen: dict[str, tuple[Principal, float]] = {}

    def get(self, presented: str) -> Principal | None:
        entry = self._seen.get(_fingerprint(presented))
        return entry[0] if entry is not None and entry[1] > time.monotonic() else None

    def put(self, presented: str, principal: Principal) -> None:
        if self._ttl <= 0:
            return
        if len(self._seen) >= self.MAX_ENTRIES:
            self._seen.clear()
        self._seen[_fingerprint(presented)] = (principal, time.monotonic() + self._ttl)


def _fingerprint(presented: str) -> str:
    return hashlib.sha256(presented.encode()).hexdigest()


async def current_principal(
    request: Request,
    settings: SettingsDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    header: Annotated[str | None, Security(_header)],
    basic: Annotated[HTTPBasicCredentials | None, Security(_basic)],
) -> Principal:
    presented = bearer.credentials if bearer and bearer.scheme.lower() == "bearer" else header
    presented = presented or (basic.password if basic else None)
    if not presented:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "an API key is required (Authorization: Bearer <key>)",
                            headers={"WWW-Authenticate": "Bearer"})

    _within_rate(request, presented)
    verified: VerifiedKeys = request.app.state.verified_keys
    if (principal := verified.get(presented)) is not None:
        return principal
    _not_guessing(request)

    def lookup() -> Principal | None:
        with session_for(settings.database_url) as session:
            return authenticate(session, presented)

    principal = await run_in_threadpool(lookup)
    if principal is None:
        count_failed_authentication(request)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown or revoked API key",
                            headers={"WWW-Authenticate": "Bearer"})
    verified.put(presented, principal)
    return principal


def _within_rate(request: Request, presented: str) -> None:
    """Per key, counted before the key is looked up: a flood of guesses costs the database nothing more."""
    limiter: RateLimiter = request.app.state.rate_limiter
    if (wait := limiter.wait_needed(_fingerprint(presented))) > 0:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many requests with this API key",
                            headers={"Retry-After": retry_after(wait)})


def _not_guessing(request: Request) -> None:
    """Per client address, failed authentications: a flood of made-up keys (each with a fresh bucket of its own
    above) is refused once the address has failed too often, before any look-up. Keys already verified (cached)
    pass, so one misconfigured till does not lock out the others behind the same address for long."""
    if (wait := failed_authentications_wait(request)) > 0:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many failed authentications from this address",
                            headers={"Retry-After": retry_after(wait)})


def failed_authentications_wait(request: Request) -> float:
    """Seconds until this client address may try to authenticate again (0: now). Keys and the console's password
    sign-in share one count per address, so guessing either is stopped alike."""
    limiter: RateLimiter = request.app.state.failed_auth_limiter
    return limiter.wait_needed(_client(request), take=False)


def count_failed_authentication(request: Request) -> None:
    request.app.state.failed_auth_limiter.wait_needed(_client(request))


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def require(scope: Scope, *alternatives: Scope):
    """A dependency that lets the call through only for a principal holding `scope` or one of `alternatives`."""
    scopes = (scope, *alternatives)

    async def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not any(principal.may(each) for each in scopes):
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"this API key lacks the scope '{' or '.join(str(each) for each in scopes)}'")
        return principal

    return check


def require_by_kind(person: Scope, integrator: Scope | None):
    """A dependency for a route whose right depends on who calls: a person's key needs `person`, an integrator's
    key `integrator` (None: no integrator at all), so that a scope meant for systems gives no person a right."""

    async def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        needed = person if principal.kind is PrincipalKind.person else integrator
        if needed is None:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "only a person's key may do this, not an integrator's")
        if not principal.may(needed):
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"this API key lacks the scope '{needed}' (for {principal.kind} keys)")
        return principal

    return check


IntegratorDep = Annotated[Principal, Depends(require(Scope.incidents_write))]
ReaderDep = Annotated[Principal, Depends(require(Scope.cases_read))]
AgentDep = Annotated[Principal, Depends(require(Scope.cases_act))]
SupervisorDep = Annotated[Principal, Depends(require(Scope.cases_approve))]
# Closing a case and noting on it: people (agents), never a system holding cases:act.
StaffAgentDep = Annotated[Principal, Depends(require_by_kind(person=Scope.cases_act, integrator=None))]
# Withdrawing a case: the integrator that opened it (its own cases only), or a supervisor; not any person who
# happens to hold incidents:write.
IntegratorOrSupervisorDep = Annotated[Principal, Depends(
    require_by_kind(person=Scope.cases_approve, integrator=Scope.incidents_write))]
AdminDep = Annotated[Principal, Depends(require(Scope.admin))]
PrivacyDep = Annotated[Principal, Depends(require(Scope.privacy))]
