"""``/api/users``: accounts (admin only), the same service functions as ``dialer users`` and the console."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy.orm import Session

from bridge.api._run import in_transaction
from bridge.api.access import Permission, Principal, allow
from bridge.api.schemas import RoleChange, UserCreate, UserPublic
from dialer import accounts

router = APIRouter(prefix="/api/users", tags=["accounts"])
Admin = Annotated[Principal, Depends(allow(Permission.USERS_MANAGE))]
Username = Annotated[str, Path(min_length=1, max_length=80)]
ERRORS: dict[int | str, dict[str, object]] = {401: {}, 403: {}}


@router.get("", response_model=list[UserPublic], responses=ERRORS)
async def list_users(request: Request, _: Admin) -> list[UserPublic]:
    """Every account, by login."""

    def work(session: Session, now: datetime) -> list[UserPublic]:
        return [UserPublic.model_validate(user) for user in accounts.list_users(session)]

    return await in_transaction(request, work)


@router.post("", response_model=UserPublic, status_code=201, responses={**ERRORS, 409: {}, 422: {}})
async def create_user(body: UserCreate, request: Request, principal: Admin) -> UserPublic:
    """Create an active user (audited as ``user.created``); 409 when the login is taken."""

    def work(session: Session, now: datetime) -> UserPublic:
        user = accounts.create_user(
            session,
            username=body.username,
            role=body.role,
            password=body.password,
            now=now,
            actor=principal.actor,
        )
        return UserPublic.model_validate(user)

    return await in_transaction(request, work)


@router.put("/{username}/role", response_model=UserPublic, responses={**ERRORS, 404: {}, 422: {}})
async def set_role(username: Username, body: RoleChange, request: Request, principal: Admin) -> UserPublic:
    """Give a user another role (audited as ``user.role_changed``); it applies from their next request."""

    def work(session: Session, now: datetime) -> UserPublic:
        user = accounts.set_role(session, username=username, role=body.role, now=now, actor=principal.actor)
        return UserPublic.model_validate(user)

    return await in_transaction(request, work)


@router.post("/{username}/disable", response_model=UserPublic, responses={**ERRORS, 404: {}, 409: {}})
async def disable_user(username: Username, request: Request, principal: Admin) -> UserPublic:
    """Disable a user: their sessions and API tokens stop working at once (``user.disabled``)."""

    def work(session: Session, now: datetime) -> UserPublic:
        user = accounts.disable_user(session, username=username, now=now, actor=principal.actor)
        return UserPublic.model_validate(user)

    return await in_transaction(request, work)
