"""``/console/crm``: the CRM sync's outbox per destination and the webhook delivery log (ops, admin).

What ``dialer crm outbox`` prints, read by the same functions (:mod:`dialer.outbox.status`), and
``dialer crm retry``'s re-queueing (:func:`dialer.outbox.requeue`) behind a button per dead
message and one for all of them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from bridge.api._run import in_transaction
from bridge.api.access import Permission, Principal, allow
from bridge.console.paths import CONSOLE
from bridge.console.templating import render
from dialer.errors import InvalidInputError
from dialer.models import OutboxStatus
from dialer.outbox import requeue
from dialer.outbox.status import (
    destination_states,
    last_errors,
    list_messages,
    recent_deliveries,
    unrouted_events,
)

router = APIRouter()
CRM = f"{CONSOLE}/crm"
LATEST = 25
"""Messages, dead messages and webhook deliveries shown, newest first."""


@router.get(CRM, response_class=HTMLResponse)
async def outbox_page(
    request: Request,
    principal: Annotated[Principal, Depends(allow(Permission.CRM_READ))],
    requeued: int | None = None,
) -> HTMLResponse:
    """Per destination: pending, due, delivered, dead; the latest and the dead messages; webhook tries."""

    def work(session: Session, now: datetime) -> dict[str, Any]:
        return {
            "now": now,
            "destinations": destination_states(session, now=now),
            "last_errors": last_errors(session),
            "unrouted": unrouted_events(session),
            "latest": list_messages(session, limit=LATEST),
            "dead": list_messages(session, status=OutboxStatus.DEAD, limit=LATEST),
            "deliveries": recent_deliveries(session, destination_prefix="webhook:", limit=LATEST),
            "requeued": requeued,
        }

    return render(request, "crm/outbox.html", principal, await in_transaction(request, work))


@router.post(f"{CRM}/retry")
async def retry(
    request: Request,
    _principal: Annotated[Principal, Depends(allow(Permission.CRM_WRITE))],
    message_id: Annotated[int | None, Form(ge=1, le=2_147_483_647)] = None,
    all_dead: Annotated[bool, Form()] = False,
) -> RedirectResponse:
    """Re-queue one dead message, or every dead one (``dialer crm retry ID`` / ``--dead``).

    Raises:
        InvalidInputError: neither a message nor all of them named; the message is not dead.
        NotFoundError: no such message.
    """
    if message_id is None and not all_dead:
        raise InvalidInputError("name the dead message to retry, or retry all dead messages")

    def work(session: Session, now: datetime) -> int:
        ids = () if message_id is None else (message_id,)
        return requeue(session, now=now, message_ids=ids, all_dead=all_dead)

    count = await in_transaction(request, work)
    return RedirectResponse(f"{CRM}?requeued={count}", status_code=303)
