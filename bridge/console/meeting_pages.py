"""The "My meetings" page: a rep's booked meetings (ops, admin and compliance see all), assignment, the feed.

A rep sees only the meetings assigned to them, on the list and by URL (another rep's meeting is
a 404, as if it did not exist); the ``rep`` filter is ignored for them. Ops and admin give a
meeting to a rep (``crm.assignments.assign_meeting``, audited). A rep's private calendar feed
(:mod:`crm.feeds`) is shown as a subscribe URL with a "new link" button (audited).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from bridge.api._run import in_transaction
from bridge.api.access import GRANTS, Permission, Principal, allow, runtime_of
from bridge.api.auth_routes import secure_cookies
from bridge.api.schemas import RowId
from bridge.console.meeting_view import (
    DEFAULT_ZONE,
    PAST_DAYS,
    ZONE_COOKIE,
    split,
    valid_zone,
    view,
    zone_choices,
)
from bridge.console.paths import CONSOLE
from bridge.console.templating import render
from crm.assignments import assign_meeting
from crm.feeds import current_feed_token, renew_feed
from crm.meetings import MeetingForRep, meetings_for_reps
from crm.transcripts import transcript_signature
from dialer.accounts import get_user, list_users
from dialer.errors import InvalidInputError, NotFoundError
from dialer.models import Role

router = APIRouter()
MEETINGS = f"{CONSOLE}/meetings"
Reader = Annotated[Principal, Depends(allow(Permission.MEETINGS_READ))]
Assigner = Annotated[Principal, Depends(allow(Permission.MEETINGS_ASSIGN))]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class _Page:
    meetings: list[MeetingForRep]
    reps: list[str]
    feed_token: str | None


def _rep_zone(request: Request) -> str:
    return valid_zone(request.cookies.get(ZONE_COOKIE)) or DEFAULT_ZONE


async def _load(
    request: Request, principal: Principal, *, rep: str | None, meeting_id: int | None
) -> tuple[_Page, datetime]:
    """The meetings ``principal`` may see (a rep: only their own), the reps to filter by, the feed."""
    master = runtime_of(request).settings.calendar_feed_token

    def work(session: Session, now: datetime) -> tuple[_Page, datetime]:
        if principal.role == Role.REP:
            owner: int | None = principal.user_id
        else:
            owner = get_user(session, username=rep).id if rep else None
        since = _EPOCH if meeting_id is not None else now - timedelta(days=PAST_DAYS)
        meetings = meetings_for_reps(session, since=since, rep_user_id=owner, meeting_id=meeting_id)
        reps = [u.username for u in list_users(session) if u.role == Role.REP and u.disabled_at is None]
        token = None
        if master is not None and principal.role == Role.REP:
            token = current_feed_token(session, master=master.get_secret_value(), user_id=principal.user_id)
        return _Page(meetings, reps if principal.role != Role.REP else [], token), now

    return await in_transaction(request, work)


def _context(request: Request, principal: Principal, page: _Page) -> dict[str, Any]:
    settings = runtime_of(request).settings
    zone = _rep_zone(request)
    secret = settings.crm.link_secret
    links = {}
    if secret is not None:
        for m in page.meetings:
            if m.attempt_id is not None:
                sig = transcript_signature(secret.get_secret_value(), m.attempt_id)
                links[m.meeting_id] = f"/crm/calls/{m.attempt_id}/transcript?sig={sig}"
    feed_url = f"{settings.public_url}/crm/calendar.ics?token={page.feed_token}" if page.feed_token else None
    return {
        "rep_zone": zone,
        "zones": zone_choices(zone),
        "reps": page.reps,
        "can_assign": principal.role in GRANTS[Permission.MEETINGS_ASSIGN],
        "transcript_links": links,
        "feed_url": feed_url,
        "feeds_enabled": settings.calendar_feed_token is not None,
        "is_rep": principal.role == Role.REP,
    }


@router.get(MEETINGS, response_class=HTMLResponse)
async def meetings_page(request: Request, principal: Reader, rep: str | None = None) -> HTMLResponse:
    """Upcoming and past meetings (the last :data:`PAST_DAYS` days), filtered by rep for ops."""
    page, now = await _load(request, principal, rep=rep, meeting_id=None)
    zone = _rep_zone(request)
    upcoming, past = split(page.meetings, now=now, rep_zone=zone)
    context = _context(request, principal, page) | {
        "upcoming": upcoming,
        "past": past,
        "rep_filter": rep if principal.role != Role.REP else None,
    }
    return render(request, "meetings/list.html", principal, context)


@router.get(f"{MEETINGS}/{{meeting_id}}", response_class=HTMLResponse)
async def meeting_page(request: Request, principal: Reader, meeting_id: RowId) -> HTMLResponse:
    """One meeting; another rep's is not found (404) for a rep."""
    page, _now = await _load(request, principal, rep=None, meeting_id=meeting_id)
    if not page.meetings:
        raise NotFoundError(f"meeting {meeting_id} is not one of your meetings")
    context = _context(request, principal, page) | {
        "item": view(page.meetings[0], rep_zone=_rep_zone(request))
    }
    return render(request, "meetings/detail.html", principal, context)


@router.post(f"{MEETINGS}/zone")
async def choose_zone(
    request: Request, _principal: Reader, zone: Annotated[str, Form(max_length=64)]
) -> RedirectResponse:
    """Keep the rep's display zone in a cookie (a year) and show the list again.

    Raises:
        InvalidInputError: ``zone`` is not an IANA time zone.
    """
    if valid_zone(zone) is None:
        raise InvalidInputError(f"zone {zone!r} is not an IANA time zone (e.g. America/Chicago)")
    response = RedirectResponse(MEETINGS, status_code=303)
    response.set_cookie(
        ZONE_COOKIE, zone, max_age=365 * 86400, httponly=True, samesite="lax", secure=secure_cookies(request)
    )
    return response


@router.post(f"{MEETINGS}/feed")
async def new_feed_link(request: Request, principal: Reader) -> RedirectResponse:
    """Give the user's calendar feed a new link; the old one stops working (audited).

    Raises:
        NotFoundError: calendar feeds are off (``DIALER_CALENDAR_FEED_TOKEN`` unset).
    """
    master = runtime_of(request).settings.calendar_feed_token
    if master is None:
        raise NotFoundError("calendar feeds are not enabled (DIALER_CALENDAR_FEED_TOKEN)")

    def work(session: Session, now: datetime) -> None:
        renew_feed(
            session,
            master=master.get_secret_value(),
            user_id=principal.user_id,
            now=now,
            actor=principal.actor,
        )

    await in_transaction(request, work)
    return RedirectResponse(f"{MEETINGS}?renewed=1#feed", status_code=303)


@router.post(f"{MEETINGS}/{{meeting_id}}/rep")
async def reassign(
    request: Request, principal: Assigner, meeting_id: RowId, username: Annotated[str, Form(max_length=80)]
) -> RedirectResponse:
    """Give the meeting to a rep (``crm.assignments.assign_meeting``: audited as ``meeting.assigned``)."""

    def work(session: Session, now: datetime) -> None:
        assign_meeting(session, meeting_id=meeting_id, username=username, now=now, actor=principal.actor)

    await in_transaction(request, work)
    return RedirectResponse(f"{MEETINGS}#meeting-{meeting_id}", status_code=303)
