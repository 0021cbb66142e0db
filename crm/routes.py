"""HTTP routes for reps: the calendar feed of booked meetings.

Calendar applications cannot log in, so the feed is protected the way calendar feeds usually are:
by a long secret in its URL (``DIALER_CALENDAR_FEED_TOKEN``), compared in constant time. Without
a configured token the feed does not exist (404).
"""

from __future__ import annotations

import asyncio
import hmac
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from crm.calendar import calendar_feed
from crm.meetings import meetings_for_reps
from dialer.errors import AccessDeniedError, NotFoundError
from dialer.runtime import Runtime

router = APIRouter(prefix="/crm")
LOOKBACK_DAYS = 7


@router.get("/calendar.ics")
async def calendar(request: Request, token: Annotated[str, Query()] = "") -> Response:
    """Booked meetings from a week ago on, as ``text/calendar``."""
    runtime: Runtime = request.app.state.runtime
    expected = runtime.settings.calendar_feed_token
    if expected is None:
        raise NotFoundError("the calendar feed is not enabled")
    if not hmac.compare_digest(token.encode(), expected.get_secret_value().encode()):
        raise AccessDeniedError("invalid feed token")

    def build(session: Session, now: datetime) -> bytes:
        meetings = meetings_for_reps(session, since=now - timedelta(days=LOOKBACK_DAYS))
        return calendar_feed(meetings, generated_at=now)

    body = await asyncio.to_thread(runtime.run_in_transaction, build)
    return Response(body, media_type="text/calendar; charset=utf-8")
