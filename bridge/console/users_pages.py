"""``/console/users``: the admin's accounts screen (create, change role, disable), each change audited.

The same service functions as ``dialer users`` (:mod:`dialer.accounts`): a refused change shows the
list again with what was wrong (422 bad input, 409 a taken name or an already disabled user, 404
an unknown user); a change that worked goes back to the list (post/redirect/get).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from bridge.api._run import in_transaction
from bridge.api.access import Permission, Principal, allow
from bridge.console.paths import CONSOLE
from bridge.console.templating import render
from dialer import accounts
from dialer.errors import PRODUCT_ERRORS, message_of, status_of
from dialer.models import Role

router = APIRouter()
USERS = f"{CONSOLE}/users"
Admin = Annotated[Principal, Depends(allow(Permission.USERS_MANAGE))]


async def _page(
    request: Request, principal: Principal, *, error: str | None = None, status: int = 200
) -> Response:
    def read(session: Session, _: datetime) -> list[dict[str, Any]]:
        return [
            {
                "username": user.username,
                "role": user.role,
                "disabled_at": user.disabled_at,
                "last_login_at": user.last_login_at,
            }
            for user in accounts.list_users(session)
        ]

    context = {"users": await in_transaction(request, read), "roles": list(Role), "error": error}
    return render(request, "users/list.html", principal, context, status_code=status)


async def _change(
    request: Request, principal: Principal, work: Callable[[Session, datetime], object]
) -> Response:
    """Run an account change; back to the list, or the list with the refusal."""
    try:
        await in_transaction(request, work)
    except PRODUCT_ERRORS as refused:
        return await _page(request, principal, error=message_of(refused), status=status_of(refused))
    return RedirectResponse(USERS, status_code=303)


@router.get(USERS)
async def users_list(request: Request, principal: Admin) -> Response:
    """Every account: role, state, last login (UTC)."""
    return await _page(request, principal)


@router.post(USERS)
async def user_create(
    request: Request,
    principal: Admin,
    username: Annotated[str, Form(max_length=200)],
    role: Annotated[str, Form(max_length=40)],
    password: Annotated[str, Form(max_length=1000)],
) -> Response:
    """Create an active user (password rules: :func:`dialer.accounts.passwords.check_password`)."""

    def work(session: Session, now: datetime) -> object:
        return accounts.create_user(
            session, username=username, role=role, password=password, now=now, actor=principal.actor
        )

    return await _change(request, principal, work)


@router.post(USERS + "/{username}/role")
async def user_role(
    request: Request, principal: Admin, username: str, role: Annotated[str, Form(max_length=40)]
) -> Response:
    """Give a user another role (audited as ``user.role_changed``)."""

    def work(session: Session, now: datetime) -> object:
        return accounts.set_role(session, username=username, role=role, now=now, actor=principal.actor)

    return await _change(request, principal, work)


@router.post(USERS + "/{username}/disable")
async def user_disable(request: Request, principal: Admin, username: str) -> Response:
    """Disable a user: their sessions and API tokens stop working at once (``user.disabled``)."""

    def work(session: Session, now: datetime) -> object:
        return accounts.disable_user(session, username=username, now=now, actor=principal.actor)

    return await _change(request, principal, work)
