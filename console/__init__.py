"""The supervisor and agent console: server-rendered pages at /console, served by the API process itself.

A thin view over the API: pages read through the store functions and route functions the API uses, and every
action calls the API's own route (console/api_calls.py), so the console has no business rule of its own.
Jinja2 templates; htmx (vendored under static/vendor, nothing fetched at run time) for the live queue.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from console import case_actions, case_page, figures, inbox, preview, queue, sign_in
from console.headers import ConsoleHeaders
from console.refusals import refusal_page
from console.session import PATH
from console.templating import HERE


def install(app: FastAPI) -> None:
    app.mount(f"{PATH}/static", StaticFiles(directory=HERE / "static"), name="console-static")
    for module in (sign_in, queue, case_page, case_actions, figures, inbox, preview):
        app.include_router(module.router)
    app.add_middleware(ConsoleHeaders)  # no-store and no framing on console answers only
    app.add_exception_handler(HTTPException, refusal_page)  # outside /console it answers as FastAPI does

    @app.get(PATH, include_in_schema=False)
    def console_home() -> RedirectResponse:
        return RedirectResponse(f"{PATH}/")
