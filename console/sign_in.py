"""Signing in and out of the console with a staff account (store/sessions.py does the checking)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.auth import count_failed_authentication, failed_authentications_wait
from api.deps import SettingsDep
from api.limits import retry_after
from console.session import (
    PATH,
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    ActingDep,
    forget_cookie,
    new_sign_in_nonce,
    safe_next,
    set_cookie,
)
from console.templating import templates
from store import sessions
from store.db import session_for

router = APIRouter(prefix=PATH)
SIGN_IN_FORM_SECONDS = 30 * 60


def _sign_in_page(request: Request, next_page: str, error: str | None = None, status_code: int = 200) -> Response:
    nonce = new_sign_in_nonce()
    response = templates.TemplateResponse(request, "sign_in.html", {"nonce": nonce, "next": next_page,
                                                                    "error": error}, status_code=status_code)
    set_cookie(request, response, SIGN_IN_COOKIE, nonce, max_age=SIGN_IN_FORM_SECONDS)
    return response


@router.get("/sign-in", response_class=HTMLResponse, include_in_schema=False)
def sign_in_form(request: Request, next: str | None = None) -> Response:  # noqa: A002  (the query's name)
    return _sign_in_page(request, safe_next(next))


@router.post("/sign-in", include_in_schema=False)
async def sign_in(request: Request, settings: SettingsDep, email: Annotated[str, Form(max_length=320)],
                  password: Annotated[str, Form(max_length=200)], csrf: Annotated[str, Form(max_length=100)],
                  next: Annotated[str, Form(max_length=500)] = "") -> Response:  # noqa: A002
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf.encode(), expected.encode()):
        return _sign_in_page(request, safe_next(next), "The form had expired. Please sign in again.", 403)
    if (wait := failed_authentications_wait(request)) > 0:  # before any password is checked, as for API keys
        refused = _sign_in_page(request, safe_next(next), "Too many failed sign-ins from this address. Please try "
                                "again in a minute.", status.HTTP_429_TOO_MANY_REQUESTS)
        refused.headers["Retry-After"] = retry_after(wait)
        return refused

    earlier = request.cookies.get(SESSION_COOKIE)

    def check() -> str | None:
        with session_for(settings.database_url) as session:
            token = sessions.sign_in(session, email, password)
            if token is not None and earlier:  # the browser's earlier session ends, not left valid beside the new
                sessions.sign_out(session, earlier)
            return token

    token = await run_in_threadpool(check)
    if token is None:
        count_failed_authentication(request)
        return _sign_in_page(request, safe_next(next), "Wrong email or password.", 401)
    response = RedirectResponse(safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    set_cookie(request, response, SESSION_COOKIE, token)
    forget_cookie(request, response, SIGN_IN_COOKIE)
    return response


@router.post("/sign-out", include_in_schema=False)
async def sign_out(request: Request, settings: SettingsDep, person: ActingDep) -> Response:
    def end() -> None:
        with session_for(settings.database_url) as session:
            sessions.sign_out(session, request.cookies[SESSION_COOKIE])

    await run_in_threadpool(end)
    response = RedirectResponse(f"{PATH}/sign-in", status_code=status.HTTP_303_SEE_OTHER)
    forget_cookie(request, response, SESSION_COOKIE)
    return response
