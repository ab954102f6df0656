"""Who is looking at the console: the session cookie, its CSRF token, and sign-in required.

The cookie holds the opaque token of store/sessions.py (argon2id passwords, idle timeout, lifetime), the same
session the trust issue built; nothing of its own is stored. It is HttpOnly, SameSite=Strict, Secure when served
over HTTPS or the public address is https, and scoped to /console. Every form carries a CSRF token derived from
the session token (HMAC): a page of another site can neither read it nor make it. The sign-in form, before any
session exists, is guarded by a random value in a short-lived cookie that the form must echo (double submit).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, HTTPException, Request, status
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.deps import SettingsDep
from schemas.auth import Principal
from store.db import session_for
from store.sessions import principal_of
from store.tables import StaffAccountRow

SESSION_COOKIE = "console_session"
SIGN_IN_COOKIE = "console_sign_in"
PATH = "/console"
_CASE_FORM = re.compile(rf"^{PATH}/cases/([^/]+)/")


@dataclass(frozen=True)
class Viewer:
    """The signed-in person: the principal the API's own rules are applied to, and what the pages show."""

    principal: Principal
    display_name: str
    csrf: str

    @property
    def first_name(self) -> str:
        return self.display_name.split()[0] if self.display_name.strip() else self.principal.id


def csrf_for(token: str) -> str:
    return hmac.new(token.encode(), b"console csrf", hashlib.sha256).hexdigest()


def new_sign_in_nonce() -> str:
    return secrets.token_urlsafe(24)


def _secure(request: Request) -> bool:
    """Behind a load balancer that ends TLS the request reaches us over http: the public address says https."""
    public = request.app.state.settings.public_base_url
    return request.url.scheme == "https" or public.lower().startswith("https://")


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path=PATH, httponly=True, samesite="strict",
                        secure=_secure(request))


def forget_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(name, path=PATH, httponly=True, samesite="strict", secure=_secure(request))


def safe_next(target: str | None) -> str:
    """Only a console page of ours: never an address elsewhere (open redirect)."""
    return target if target and target.startswith(f"{PATH}/") and not target.startswith("//") else f"{PATH}/"


def page_to_return_to(request: Request) -> str:
    """Where signing in again should lead: the page the person was on, filters included. A poll or a form posts
    to an address that only takes POST, so it is never that address (a 405 after signing in, the draft lost)."""
    if request.headers.get("HX-Request") and (current := request.headers.get("HX-Current-URL")):
        url = urlsplit(current)  # only its path and query: the host is the browser's word, not ours to follow
        return safe_next(f"{url.path}?{url.query}" if url.query else url.path)
    if request.method == "GET":
        query = request.url.query
        return safe_next(f"{request.url.path}?{query}" if query else request.url.path)
    case_form = _CASE_FORM.match(request.url.path)
    return f"{PATH}/cases/{case_form[1]}" if case_form else f"{PATH}/"


def _signed_in(touch: bool):
    async def viewer(request: Request, settings: SettingsDep) -> Viewer:
        """The signed-in person, or off to the sign-in page (htmx requests are told to go there themselves)."""
        token = request.cookies.get(SESSION_COOKIE)

        def look_up() -> tuple[Principal, str] | None:
            with session_for(settings.database_url) as session:
                principal = principal_of(session, token, touch=touch) if token else None
                account = session.get(StaffAccountRow, principal.id) if principal else None
                return (principal, account.display_name) if principal and account else None

        found = await run_in_threadpool(look_up)
        if found is None:
            sign_in = f"{PATH}/sign-in?next={quote(page_to_return_to(request), safe='/')}"
            if request.headers.get("HX-Request"):
                raise HTTPException(status.HTTP_401_UNAUTHORIZED, "signed out", headers={"HX-Redirect": sign_in})
            raise HTTPException(status.HTTP_303_SEE_OTHER, "sign in first", headers={"Location": sign_in})
        person = Viewer(principal=found[0], display_name=found[1], csrf=csrf_for(token))
        request.state.console_viewer = person  # for a refusal's page (console/refusals.py): its frame, sign-out
        return person

    return viewer


viewer = _signed_in(touch=True)
_unattended_viewer = _signed_in(touch=False)


async def _checked(request: Request, person: Viewer) -> Viewer:
    """A form of ours, posted by the signed-in person: its CSRF token must match the session's (403 otherwise)."""
    sent = (await request.form()).get("csrf")
    # Bytes, not str: compare_digest raises TypeError (a 500) on a str with a non-ASCII character.
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), person.csrf.encode()):
        # A tab opened before the latest sign-in: an htmx poll or form reloads its page (a fresh token) rather than
        # failing silently on every poll; a plain form gets a page saying so (console/refusals.py).
        reload = {"HX-Refresh": "true"} if request.headers.get("HX-Request") else None
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the form's CSRF token is missing or wrong (the page was "
                            "opened before your latest sign-in): nothing was done; reload the page and try again",
                            headers=reload)
    return person


async def acting_viewer(request: Request, person: Annotated[Viewer, Depends(viewer)]) -> Viewer:
    return await _checked(request, person)


async def polling_viewer(request: Request, person: Annotated[Viewer, Depends(_unattended_viewer)]) -> Viewer:
    """A page asking by itself (with the CSRF token): it does not count as the person's use of the session."""
    return await _checked(request, person)


ViewerDep = Annotated[Viewer, Depends(viewer)]
ActingDep = Annotated[Viewer, Depends(acting_viewer)]
PollingDep = Annotated[Viewer, Depends(polling_viewer)]
