"""HTTP routes for reps: the calendar feed of booked meetings, and calls' transcripts by signed link.

Calendar applications cannot log in, so the feed is protected the way calendar feeds usually are:
by a long secret in its URL, compared in constant time: ``DIALER_CALENDAR_FEED_TOKEN`` itself opens
the team feed (every meeting), a rep's own token (:mod:`crm.feeds`) the meetings assigned to that
rep. Without a configured ``DIALER_CALENDAR_FEED_TOKEN`` no feed exists (404).
"""

from __future__ import annotations

import asyncio
import hmac
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from crm.calendar import calendar_feed
from crm.feeds import feed_owner
from crm.meetings import meetings_for_reps
from crm.transcripts import render_transcript, signature_matches
from dialer.errors import AccessDeniedError, NotFoundError
from dialer.runtime import Runtime

router = APIRouter(prefix="/crm")
LOOKBACK_DAYS = 7


@router.get("/calls/{attempt_id}/transcript")
async def transcript(request: Request, attempt_id: int, sig: Annotated[str, Query()] = "") -> Response:
    """One call's transcript as ``text/plain``, for the holder of its signed link (:mod:`crm.transcripts`)."""
    runtime: Runtime = request.app.state.runtime
    secret = runtime.settings.crm.link_secret
    if secret is None:
        raise NotFoundError("transcript links are not enabled (DIALER_CRM__LINK_SECRET)")
    if not signature_matches(secret.get_secret_value(), attempt_id, sig):
        raise AccessDeniedError("invalid transcript link")
    body = await asyncio.to_thread(
        runtime.run_in_transaction, lambda session, _now: render_transcript(session, attempt_id=attempt_id)
    )
    return Response(body, media_type="text/plain; charset=utf-8")


@router.get("/calendar.ics")
async def calendar(request: Request, token: Annotated[str, Query()] = "") -> Response:
    """Booked meetings from a week ago on, as ``text/calendar``: all of them, or one rep's."""
    runtime: Runtime = request.app.state.runtime
    expected = runtime.settings.calendar_feed_token
    if expected is None:
        raise NotFoundError("the calendar feed is not enabled")
    master = expected.get_secret_value()
    team = hmac.compare_digest(token.encode(), master.encode())

    def build(session: Session, now: datetime) -> bytes:
        rep = None if team else feed_owner(session, master=master, token=token).id
        meetings = meetings_for_reps(session, since=now - timedelta(days=LOOKBACK_DAYS), rep_user_id=rep)
        return calendar_feed(meetings, generated_at=now)

    body = await asyncio.to_thread(runtime.run_in_transaction, build)
    return Response(body, media_type="text/calendar; charset=utf-8")
