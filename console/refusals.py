"""A console request refused (a role the page is not for, a case not found, a bad filter, a form from a page opened
before the latest sign-in) answers as a page in the console's frame with the reason and a way back, not as the
API's JSON. Redirects, htmx requests (htmx acts on their headers) and every route outside the console keep
FastAPI's own answer."""

from __future__ import annotations

from fastapi import Request
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException
from starlette.responses import Response

from console.session import PATH, page_to_return_to
from console.templating import templates


async def refusal_page(request: Request, error: HTTPException) -> Response:
    if error.status_code < 400 or request.headers.get("HX-Request") or not request.url.path.startswith(f"{PATH}/"):
        return await http_exception_handler(request, error)
    # A refused page leads back to the queue; a refused form to the page it was on.
    back = page_to_return_to(request) if request.method == "POST" else f"{PATH}/"
    return templates.TemplateResponse(request, "refused.html", {
        "person": getattr(request.state, "console_viewer", None), "reason": error.detail, "back": back,
        "status": error.status_code}, status_code=error.status_code, headers=error.headers)
