"""``/api/auth``: log in to the console (session cookie + CSRF token), log out, who am I."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from bridge.api._run import in_transaction
from bridge.api.access import SESSION_COOKIE, Permission, Principal, allow, runtime_of
from bridge.api.schemas import LoginRequest, LoginResponse, Me
from dialer import accounts
from dialer.accounts import SESSION_LIFETIME

router = APIRouter(prefix="/api/auth", tags=["accounts"])


def client_ip(request: Request) -> str:
    """The client's address as the server sees it (behind a proxy: uvicorn ``--forwarded-allow-ips``)."""
    return request.client.host if request.client else "unknown"


@router.post("/login", response_model=LoginResponse, responses={401: {}, 429: {}})
async def login(body: LoginRequest, request: Request, response: Response) -> LoginResponse:
    """Log in: sets the ``dialer_session`` cookie (HttpOnly, SameSite=Lax) and returns the CSRF token.

    Failed logins are throttled per account and per client IP (429 with ``Retry-After``).
    """
    runtime = runtime_of(request)
    ip = client_ip(request)

    def work(session: Session, now: datetime) -> accounts.LoginResult:
        return accounts.login(session, username=body.username, password=body.password, client_ip=ip, now=now)

    result = await in_transaction(request, work)
    if result.error is not None:
        raise result.error  # the failure and its audit event are committed
    assert result.user is not None and result.session_id and result.csrf_token and result.expires_at
    response.set_cookie(
        SESSION_COOKIE,
        result.session_id,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=runtime.settings.public_url.startswith("https://"),
        path="/",
    )
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
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:

        def work(session: Session, now: datetime) -> None:
            accounts.logout(session, session_id=session_id, now=now)

        await in_transaction(request, work)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=Me, responses={401: {}})
async def me(principal: Annotated[Principal, Depends(allow(Permission.ACCOUNT))]) -> Me:
    """The caller's login, role and how they authenticated."""
    return Me(username=principal.username, role=principal.role, via=principal.via)
