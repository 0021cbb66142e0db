"""The login form and logout: the console's way into a session (the same accounts as the REST API)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from bridge.api.access import Permission, Principal, allow
from bridge.api.auth_routes import clear_session_cookies, log_in, log_out, secure_cookies, set_session_cookies
from bridge.console.paths import CONSOLE, LOGIN
from bridge.console.templating import render
from dialer.errors import message_of, status_of

router = APIRouter()


def safe_next(value: str | None) -> str:
    """Where to go after login: a console path only (never another site: no open redirect)."""
    if value and value.startswith(f"{CONSOLE}") and not value.startswith("//") and "\\" not in value:
        return value
    return CONSOLE


@router.get(LOGIN)
def login_form(request: Request, next: str | None = None) -> Response:  # noqa: A002 - the query's name
    """The login form."""
    return render(request, "login.html", None, {"next": safe_next(next), "error": None, "username": ""})


@router.post(LOGIN)
async def login_submit(
    request: Request,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form()] = CONSOLE,  # noqa: A002 - the form field's name
) -> Response:
    """Check the password; on success set the session and go to ``next``.

    A failure shows the form again with 401 (wrong login) or 429 (throttled), the attempt audited.
    """
    result = await log_in(request, username, password)
    if result.error is not None:
        context = {"next": safe_next(next), "error": message_of(result.error), "username": username}
        return render(request, "login.html", None, context, status_code=status_of(result.error))
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookies(response, result, secure=secure_cookies(request))
    return response


@router.post(f"{CONSOLE}/logout")
async def logout(
    request: Request, _principal: Annotated[Principal, Depends(allow(Permission.ACCOUNT))]
) -> Response:
    """End the session (the form carries the CSRF token) and go back to the login form."""
    await log_out(request)
    response = RedirectResponse(LOGIN, status_code=303)
    clear_session_cookies(response)
    return response
