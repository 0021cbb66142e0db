"""``/api/auth``: log in to the console (session cookie + CSRF token), log out, who am I."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from bridge.api._run import in_transaction
from bridge.api.access import CSRF_COOKIE, SESSION_COOKIE, Permission, Principal, allow, runtime_of
from bridge.api.schemas import LoginRequest, LoginResponse, Me
from dialer import accounts
from dialer.accounts import SESSION_LIFETIME

router = APIRouter(prefix="/api/auth", tags=["accounts"])


def client_ip(request: Request) -> str:
    """The client's address as the server sees it (behind a proxy: uvicorn ``--forwarded-allow-ips``)."""
    return request.client.host if request.client else "unknown"


async def log_in(request: Request, username: str, password: str) -> accounts.LoginResult:
    """Try a login from ``request``'s client (:func:`dialer.accounts.login`), failures committed."""
    ip = client_ip(request)

    def work(session: Session, now: datetime) -> accounts.LoginResult:
        return accounts.login(session, username=username, password=password, client_ip=ip, now=now)

    return await in_transaction(request, work)


async def log_out(request: Request) -> None:
    """End the session whose cookie ``request`` carries (nothing when it carries none)."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:

        def work(session: Session, now: datetime) -> None:
            accounts.logout(session, session_id=session_id, now=now)

        await in_transaction(request, work)


def secure_cookies(request: Request) -> bool:
    """Whether cookies get the Secure flag: the app's public URL is https."""
    return runtime_of(request).settings.public_url.startswith("https://")


def set_session_cookies(response: Response, result: accounts.LoginResult, *, secure: bool) -> None:
    """Put a successful login's session on ``response``: the session and CSRF cookies.

    Both are HttpOnly with the session's lifetime; the session cookie is SameSite=Lax (a link from
    elsewhere still opens a page logged in), the CSRF cookie SameSite=Strict (only the console's own
    pages ever render it into a form). ``secure`` when the public URL is https.
    """
    assert result.session_id and result.csrf_token
    lifetime = int(SESSION_LIFETIME.total_seconds())
    response.set_cookie(
        SESSION_COOKIE, result.session_id, max_age=lifetime, httponly=True, samesite="lax", secure=secure
    )
    response.set_cookie(
        CSRF_COOKIE, result.csrf_token, max_age=lifetime, httponly=True, samesite="strict", secure=secure
    )


def clear_session_cookies(response: Response) -> None:
    """Remove the session and CSRF cookies from the browser."""
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/")


@router.post("/login", response_model=LoginResponse, responses={401: {}, 429: {}})
async def login(body: LoginRequest, request: Request, response: Response) -> LoginResponse:
    """Log in: sets the ``dialer_session`` cookie (HttpOnly, SameSite=Lax) and returns the CSRF token.

    Failed logins are throttled per account and per client IP (429 with ``Retry-After``).
    """
    result = await log_in(request, body.username, body.password)
    if result.error is not None:
        raise result.error  # the failure and its audit event are committed
    assert result.user is not None and result.csrf_token and result.expires_at
    set_session_cookies(response, result, secure=secure_cookies(request))
    return LoginResponse(
        username=result.user.username,
        role=result.user.role,
        csrf_token=result.csrf_token,
        expires_at=result.expires_at,
    )


@router.post("/logout", status_code=204, responses={401: {}, 403: {}})
async def logout(
    request: Request, _principal: Annotated[Principal, Depends(allow(Permission.ACCOUNT))]
) -> Response:
    """End the console session (API tokens are not affected: ``dialer users token-revoke``)."""
    await log_out(request)
    response = Response(status_code=204)
    clear_session_cookies(response)
    return response


@router.get("/me", response_model=Me, responses={401: {}})
async def me(principal: Annotated[Principal, Depends(allow(Permission.ACCOUNT))]) -> Me:
    """The caller's login, role and how they authenticated."""
    return Me(username=principal.username, role=principal.role, via=principal.via)
