"""``/api/attempts``, ``/api/meetings``, ``/api/dispositions``: what the calls did.

A rep sees only the meetings assigned to them (``PUT /api/meetings/{id}/rep``, ops and admin);
the other roles that may read meetings see every one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from bridge.api._run import in_transaction
from bridge.api.access import Permission, Principal, allow
from bridge.api.schemas import (
    AfterId,
    AttemptPublic,
    DispositionPublic,
    Limit,
    MeetingAssign,
    RowId,
)
from crm.assignments import assign_meeting
from crm.meetings import MeetingForRep, meetings_for_reps
from dialer import listings
from dialer.errors import InvalidInputError
from dialer.models import AttemptStatus, Role

router = APIRouter(prefix="/api", tags=["outcomes"])
ERRORS: dict[int | str, dict[str, object]] = {401: {}, 403: {}}
CampaignFilter = Annotated[int | None, Query(ge=1, le=2_147_483_647, description="Only this campaign's.")]


@router.get("/attempts", response_model=list[AttemptPublic], responses=ERRORS)
async def list_attempts(
    request: Request,
    _: Annotated[Principal, Depends(allow(Permission.ATTEMPTS_READ))],
    campaign_id: CampaignFilter = None,
    status: AttemptStatus | None = None,
    after_id: AfterId = None,
    limit: Limit = 100,
) -> list[AttemptPublic]:
    """Call attempts by id (page with ``after_id``)."""

    def work(session: Session, now: datetime) -> list[AttemptPublic]:
        rows = listings.list_attempts(
            session, campaign_id=campaign_id, status=status, after_id=after_id, limit=limit
        )
        return [AttemptPublic.model_validate(row) for row in rows]

    return await in_transaction(request, work)


@router.get("/dispositions", response_model=list[DispositionPublic], responses=ERRORS)
async def list_dispositions(
    request: Request,
    _: Annotated[Principal, Depends(allow(Permission.DISPOSITIONS_READ))],
    campaign_id: CampaignFilter = None,
    after_id: AfterId = None,
    limit: Limit = 100,
) -> list[DispositionPublic]:
    """Dispositions by id, with their source and time (page with ``after_id``)."""

    def work(session: Session, now: datetime) -> list[DispositionPublic]:
        rows = listings.list_dispositions(session, campaign_id=campaign_id, after_id=after_id, limit=limit)
        return [DispositionPublic.model_validate(row) for row in rows]

    return await in_transaction(request, work)


@router.get("/meetings", response_model=list[MeetingForRep], responses=ERRORS)
async def list_meetings(
    request: Request,
    principal: Annotated[Principal, Depends(allow(Permission.MEETINGS_READ))],
    campaign_id: CampaignFilter = None,
    since: Annotated[datetime | None, Query(description="ISO-8601; default: a week ago.")] = None,
    after_id: Annotated[
        int | None, Query(ge=1, le=2_147_483_647, description="Last meeting_id of the previous page.")
    ] = None,
    limit: Limit = 100,
) -> list[MeetingForRep]:
    """Booked meetings from ``since`` on, soonest first, with their rep; a rep gets only their own.

    Pages of ``limit`` (default 100): pass the last ``meeting_id`` as ``after_id`` for the next.
    """
    own = principal.user_id if principal.role == Role.REP else None
    if since is not None and since.tzinfo is None:
        raise InvalidInputError(f"since={since.isoformat()} needs a UTC offset (e.g. ...Z or +00:00)")

    def work(session: Session, now: datetime) -> list[MeetingForRep]:
        start = since if since is not None else now - timedelta(days=7)
        return meetings_for_reps(
            session, since=start, campaign_id=campaign_id, rep_user_id=own, after_id=after_id, limit=limit
        )

    return await in_transaction(request, work)


@router.put("/meetings/{meeting_id}/rep", status_code=204, responses={**ERRORS, 404: {}, 409: {}})
async def assign_meeting_rep(
    meeting_id: RowId,
    body: MeetingAssign,
    request: Request,
    principal: Annotated[Principal, Depends(allow(Permission.MEETINGS_ASSIGN))],
) -> None:
    """Give a meeting to a rep (audited as ``meeting.assigned``)."""

    def work(session: Session, now: datetime) -> None:
        assign_meeting(session, meeting_id=meeting_id, username=body.username, now=now, actor=principal.actor)

    await in_transaction(request, work)
