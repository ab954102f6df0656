"""The console acts through the API's own route functions, so it has no rule of its own: the same permission
dependency (scope, kind of key), the same tenant check, the same validation and the same refusals (a personal
reply that is not personal, four eyes, a reveal without a case) as an integrator's or an agent's HTTP call."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any, get_args, get_origin, get_type_hints

from fastapi import HTTPException
from fastapi.params import Depends
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from schemas.auth import Principal


async def permit(dependency: Any, principal: Principal) -> Principal:
    """Runs a route's principal dependency (e.g. `ReaderDep`) for the signed-in person: 403 as the API says it."""
    [depends] = [item for item in dependency.__metadata__ if isinstance(item, Depends)]
    return await depends.dependency(principal)


async def through_api(route: Callable[..., Any], principal: Principal, **arguments: Any) -> Any:
    """Calls `route` as `principal` would over HTTP: its principal parameter goes through its own dependency
    first; a sync route runs in the thread pool, as FastAPI runs it. Refusals raise the route's HTTPException."""
    for name, hint in get_type_hints(route, include_extras=True).items():
        if get_origin(hint) is Annotated and get_args(hint)[0] is Principal:
            arguments[name] = await permit(hint, principal)
    if inspect.iscoroutinefunction(route):
        return await route(**arguments)
    return await run_in_threadpool(route, **arguments)


def reasons(error: HTTPException | ValidationError) -> list[str]:
    """What to show beside the form: each reason the API gave, in its own words."""
    if isinstance(error, ValidationError):
        return [f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}" for item in error.errors()]
    if isinstance(error.detail, list):
        return [item.get("msg", str(item)) if isinstance(item, dict) else str(item) for item in error.detail]
    return [str(error.detail)]
