"""API tokens: created for a user (shown once), listed, revoked, and resolved on each request.

Audit events: ``token.created`` {token_id, username, name}, ``token.revoked`` {token_id, username, name}.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialer.accounts.errors import NotAuthenticatedError
from dialer.accounts.tokens import new_secret, secret_hash
from dialer.accounts.users import get_user
from dialer.audit import record_event
from dialer.errors import InvalidInputError, InvalidStateError, NotFoundError
from dialer.models import ApiToken, User

TOKEN_PREFIX = "dlr"


def create_token(
    session: Session, *, username: str, name: str, now: datetime, actor: str
) -> tuple[ApiToken, str]:
    """A new API token for ``username``.

    Returns:
        The stored token row and the token itself (``dlr_...``), which is not stored anywhere.

    Raises:
        NotFoundError: no such user.
        InvalidStateError: the user is disabled.
        InvalidInputError: ``name`` is empty or longer than 100 characters.
    """
    user = get_user(session, username=username)
    if user.disabled_at is not None:
        raise InvalidStateError(f"user {user.username!r} is disabled")
    label = name.strip()
    if not 1 <= len(label) <= 100:
        raise InvalidInputError("a token needs a name of 1-100 characters (what it is for)")
    value, digest = new_secret(TOKEN_PREFIX)
    token = ApiToken(user_id=user.id, name=label, token_hash=digest, created_at=now)
    session.add(token)
    session.flush()
    record_event(
        session,
        kind="token.created",
        occurred_at=now,
        actor=actor,
        payload={"token_id": token.id, "username": user.username, "name": label},
    )
    return token, value


def list_tokens(session: Session, *, username: str) -> list[ApiToken]:
    """The user's tokens, revoked ones included, oldest first.

    Raises:
        NotFoundError: no such user.
    """
    user = get_user(session, username=username)
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))


def revoke_token(session: Session, *, token_id: int, now: datetime, actor: str) -> ApiToken:
    """Revoke a token: it stops working at once.

    Raises:
        NotFoundError: no such token.
        InvalidStateError: it is already revoked.
    """
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFoundError(f"API token {token_id} does not exist")
    if token.revoked_at is not None:
        raise InvalidStateError(f"API token {token_id} is already revoked")
    token.revoked_at = now
    owner = session.get(User, token.user_id)
    record_event(
        session,
        kind="token.revoked",
        occurred_at=now,
        actor=actor,
        payload={"token_id": token.id, "username": owner.username if owner else None, "name": token.name},
    )
    return token


def user_for_token(session: Session, *, token: str) -> User:
    """The active user a bearer token belongs to.

    Raises:
        NotAuthenticatedError: unknown or revoked token, or a disabled user.
    """
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == secret_hash(token))
    ).first()
    if row is None or row[0].revoked_at is not None or row[1].disabled_at is not None:
        raise NotAuthenticatedError("the API token is not valid (unknown, revoked, or its user is disabled)")
    return row[1]
