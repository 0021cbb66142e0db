"""Read-only listings the CLI and the REST API share: campaigns, attempts, dispositions, DNC entries.

Long listings page by id (keyset pagination: ``after_id`` is the last id of the previous page),
which an index serves at any depth, unlike ``OFFSET``.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from dialer.models import AttemptStatus, CallAttempt, Campaign, Disposition, DncEntry

MAX_PAGE = 1000
"""Most rows one page returns."""

_Row = TypeVar("_Row")


def _page(
    session: Session,
    statement: Select[tuple[_Row]],
    id_column: Any,
    *,
    after_id: int | None,
    limit: int | None,
) -> list[_Row]:
    if after_id is not None:
        statement = statement.where(id_column > after_id)
    statement = statement.order_by(id_column)
    if limit is not None:
        statement = statement.limit(max(1, min(limit, MAX_PAGE)))
    return list(session.scalars(statement))


def list_campaigns(session: Session) -> list[Campaign]:
    """Every campaign, by id."""
    return list(session.scalars(select(Campaign).order_by(Campaign.id)))


def list_attempts(
    session: Session,
    *,
    campaign_id: int | None = None,
    status: AttemptStatus | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> list[CallAttempt]:
    """Call attempts by id, optionally of one campaign and in one status (``limit`` <= 1000)."""
    statement = select(CallAttempt)
    if campaign_id is not None:
        statement = statement.where(CallAttempt.campaign_id == campaign_id)
    if status is not None:
        statement = statement.where(CallAttempt.status == status)
    return _page(session, statement, CallAttempt.id, after_id=after_id, limit=limit)


def list_dispositions(
    session: Session, *, campaign_id: int | None = None, after_id: int | None = None, limit: int = 100
) -> list[Disposition]:
    """Dispositions by id, optionally of one campaign (``limit`` <= 1000)."""
    statement = select(Disposition)
    if campaign_id is not None:
        statement = statement.where(Disposition.campaign_id == campaign_id)
    return _page(session, statement, Disposition.id, after_id=after_id, limit=limit)


def list_internal_dnc(
    session: Session, *, after_id: int | None = None, limit: int | None = MAX_PAGE
) -> list[DncEntry]:
    """Internal DNC entries by id (``limit`` <= 1000; None: all of them)."""
    return _page(session, select(DncEntry), DncEntry.id, after_id=after_id, limit=limit)
