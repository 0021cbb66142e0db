"""Who is calling and what their role may do: the API's one authentication and permission check.

A request is authenticated by ``Authorization: Bearer <API token>`` (``dialer users
token-create``) or by the console's session cookie (``POST /api/auth/login``). A cookie-
authenticated unsafe request (POST, PUT, PATCH, DELETE) must also carry the session's CSRF token
in the ``X-CSRF-Token`` header or a ``csrf_token`` form field (OWASP's synchronizer token
pattern: the token is random per session and only its hash is stored); a bearer-token request
needs none, since a browser never adds that header on its own.

Every route names one :class:`Permission`; :data:`GRANTS` is the only place that says which roles
hold it. A rep's "own meetings" rule is applied by the meetings route on top of its permission.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal, TypeVar

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from dialer.accounts import CsrfError, NotAuthenticatedError, RoleRefusedError, secret_hash, session_user
from dialer.accounts import user_for_token as token_user
from dialer.models import Role, User
from dialer.runtime import Runtime

SESSION_COOKIE = "dialer_session"
CSRF_COOKIE = "dialer_csrf"
"""The session's CSRF token, set beside the session cookie for the console's pages to put in forms."""
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_T = TypeVar("_T")


class Permission(StrEnum):
    """What a route does, as the permission table names it."""

    CAMPAIGNS_READ = "campaigns:read"
    CAMPAIGNS_WRITE = "campaigns:write"
    LEADS_IMPORT = "leads:import"
    ATTEMPTS_READ = "attempts:read"
    MEETINGS_READ = "meetings:read"
    MEETINGS_ASSIGN = "meetings:assign"
    DISPOSITIONS_READ = "dispositions:read"
    DNC_READ = "dnc:read"
    DNC_WRITE = "dnc:write"
    DNC_REMOVE = "dnc:remove"
    AUDIT_EXPORT = "audit:export"
    USERS_MANAGE = "users:manage"
    CRM_READ = "crm:read"
    CRM_WRITE = "crm:write"
    ACCOUNT = "account"


_EVERYONE = frozenset(Role)
GRANTS: dict[Permission, frozenset[Role]] = {
    # Only ops and admin change campaigns (issue 10); compliance reads them to audit.
    Permission.CAMPAIGNS_READ: frozenset({Role.ADMIN, Role.OPS, Role.COMPLIANCE}),
    Permission.CAMPAIGNS_WRITE: frozenset({Role.ADMIN, Role.OPS}),
    Permission.LEADS_IMPORT: frozenset({Role.ADMIN, Role.OPS}),
    Permission.ATTEMPTS_READ: frozenset({Role.ADMIN, Role.OPS, Role.COMPLIANCE}),
    # A rep reads only the meetings assigned to them (the route filters).
    Permission.MEETINGS_READ: _EVERYONE,
    Permission.MEETINGS_ASSIGN: frozenset({Role.ADMIN, Role.OPS}),
    Permission.DISPOSITIONS_READ: frozenset({Role.ADMIN, Role.OPS, Role.COMPLIANCE}),
    # Only compliance and admin see the audit and DNC screens (issue 10).
    Permission.DNC_READ: frozenset({Role.ADMIN, Role.COMPLIANCE}),
    Permission.DNC_WRITE: frozenset({Role.ADMIN, Role.COMPLIANCE}),
    # Withdrawing a DNC entry made in error: admin only, audited (issue 10).
    Permission.DNC_REMOVE: frozenset({Role.ADMIN}),
    Permission.AUDIT_EXPORT: frozenset({Role.ADMIN, Role.COMPLIANCE}),
    # Accounts are the admin's alone (the console's users screen; `dialer users` on the server).
    Permission.USERS_MANAGE: frozenset({Role.ADMIN}),
    # The CRM sync's outbox and webhook delivery log, and re-queueing dead messages.
    Permission.CRM_READ: frozenset({Role.ADMIN, Role.OPS}),
    Permission.CRM_WRITE: frozenset({Role.ADMIN, Role.OPS}),
    Permission.ACCOUNT: _EVERYONE,
}
"""Which roles hold each permission; ``admin`` holds every one."""


@dataclass(frozen=True)
class Principal:
    """The user a request acts for.

    Attributes:
        via: ``token`` (bearer API token) or ``session`` (console cookie).
    """

    user_id: int
    username: str
    role: Role
    via: Literal["token", "session"]

    @property
    def actor(self) -> str:
        """The audit actor: ``user:<login>``."""
        return f"user:{self.username}"

    @classmethod
    def of(cls, user: User, via: Literal["token", "session"]) -> Principal:
        """The principal of an authenticated user."""
        return cls(user_id=user.id, username=user.username, role=user.role, via=via)


_bearer = HTTPBearer(auto_error=False, description="An API token (`dialer users token-create`).")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, description="The console's session (`POST /api/auth/login`)."
)


def runtime_of(request: Request) -> Runtime:
    """The process runtime the app was built with."""
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _csrf_token(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def _authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session_id: Annotated[str | None, Depends(_cookie)],
) -> Principal:
    runtime = runtime_of(request)
    if credentials is not None:
        token = credentials.credentials

        def by_token(session: Session) -> Principal:
            return Principal.of(token_user(session, token=token), "token")

        return await asyncio.to_thread(_read, runtime, by_token)
    if not session_id:
        raise NotAuthenticatedError(
            "log in (POST /api/auth/login) or send 'Authorization: Bearer <API token>'"
        )
    now = runtime.clock.now()

    def by_session(session: Session) -> tuple[Principal, str]:
        user, web = session_user(session, session_id=session_id, now=now)
        return Principal.of(user, "session"), web.csrf_hash

    principal, csrf_hash = await asyncio.to_thread(_read, runtime, by_session)
    if request.method not in SAFE_METHODS:
        sent = await _csrf_token(request)
        if not sent or not hmac.compare_digest(secret_hash(sent), csrf_hash):
            raise CsrfError(
                f"this request needs the session's CSRF token in the {CSRF_HEADER} header "
                f"or the {CSRF_FIELD} form field"
            )
    return principal


def _read(runtime: Runtime, work: Callable[[Session], _T]) -> _T:
    with runtime.sessions() as session:
        return work(session)


def allow(permission: Permission) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the authenticated :class:`Principal`, if their role holds ``permission``.

    Raises:
        NotAuthenticatedError: no valid token or session (401).
        CsrfError: a cookie-authenticated unsafe request without the CSRF token (403).
        RoleRefusedError: the role does not hold ``permission`` (403).
    """

    async def check(principal: Annotated[Principal, Depends(_authenticate)]) -> Principal:
        if principal.role not in GRANTS[permission]:
            raise RoleRefusedError(f"the {principal.role} role may not use this ({permission})")
        return principal

    return check
