"""Errors on console pages answer as pages: a login redirect for 401, an error page otherwise.

:func:`render_page_error` is handed to :func:`bridge.errors.install_error_handlers`, which asks it
first for every error; it answers only for paths under ``/console`` (the REST API keeps its JSON).
An htmx request that needs a login gets ``HX-Redirect`` so the whole page goes to the login form
rather than the form being swapped into a fragment.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from bridge.console.paths import CONSOLE, LOGIN, STATIC
from bridge.console.templating import render


def login_url(next_path: str) -> str:
    """The login page, coming back to ``next_path`` after."""
    return f"{LOGIN}?next={quote(next_path, safe='/')}"


def render_page_error(request: Request, status: int, code: str, message: str) -> Response | None:
    """The console's answer to an error on one of its pages, or None outside the console.

    Args:
        status: the HTTP status the error maps to (401 means not logged in).
        code: the error's machine code (``role_refused``, ``not_found``...).
        message: what went wrong, shown on the page.
    """
    path = request.url.path
    if not (path == CONSOLE or path.startswith(f"{CONSOLE}/")) or path.startswith(STATIC):
        return None
    if status == 401:
        query = f"?{request.url.query}" if request.url.query else ""
        target = login_url(f"{path}{query}")
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    return render(
        request, "error.html", None, {"status": status, "code": code, "message": message}, status_code=status
    )
