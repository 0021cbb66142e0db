"""``GET /api/audit/export``: the audit log as JSON lines or CSV (compliance and admin), filtered.

The same export as ``dialer audit export``: pending events are sealed first, then written in id
order to a temporary file that is streamed back and removed. The inclusion proofs of a sealed
range are left to the CLI (``--proof``) for now.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from fastapi.responses import FileResponse

from bridge.api.access import Permission, Principal, allow, runtime_of
from bridge.api.params import aware, phone_e164, text_value
from bridge.api.schemas import MAX_ID
from dialer import audit as service
from dialer.audit import AuditFilter
from dialer.campaigns import campaign_by_id
from dialer.db import transaction

router = APIRouter(prefix="/api/audit", tags=["audit"])
Id = Annotated[int | None, Query(ge=1, le=MAX_ID)]
MEDIA = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}


@router.get(
    "/export",
    response_class=FileResponse,
    responses={
        200: {"content": {m: {} for m in MEDIA.values()}},
        401: {},
        403: {},
        404: {},
        409: {},
        422: {},
    },
)
async def export_audit(
    request: Request,
    background: BackgroundTasks,
    principal: Annotated[Principal, Depends(allow(Permission.AUDIT_EXPORT))],
    format: Literal["jsonl", "csv"] = "jsonl",
    campaign_id: Id = None,
    from_id: Id = None,
    to_id: Id = None,
    lead_id: Id = None,
    attempt_id: Id = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    phone: Annotated[str | None, Query(max_length=64, description="any common format")] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> FileResponse:
    """Audit events in id order, of one campaign or all, in an id range or all, as filtered.

    ``kind`` ending in a dot is a family (``dnc.``); ``since``/``until`` bound ``occurred_at``
    (ISO-8601 with an offset; ``until`` exclusive); ``phone`` matches the number's leads' events
    and events naming it (see :class:`dialer.audit.AuditFilter`).
    """
    matching = AuditFilter(
        phone_e164=None if phone is None else phone_e164(phone, "phone"),
        lead_id=lead_id,
        campaign_id=campaign_id,
        attempt_id=attempt_id,
        kind=(text_value(kind, "kind") or None) if kind else None,
        since=aware(since, "since"),
        until=aware(until, "until"),
    )
    return await export_response(request, background, format, matching, from_id=from_id, to_id=to_id)


async def export_response(
    request: Request,
    background: BackgroundTasks,
    fmt: Literal["jsonl", "csv"],
    matching: AuditFilter,
    *,
    from_id: int | None = None,
    to_id: int | None = None,
) -> FileResponse:
    """Seal pending events, export the matching ones to a temporary file and stream it back.

    The REST API's export and the console's share it. The file is removed once sent; its count
    is in the ``X-Audit-Event-Count`` header.

    Raises:
        NotFoundError: ``matching.campaign_id`` names no campaign (404).
    """
    runtime = runtime_of(request)
    folder = Path(tempfile.mkdtemp(prefix="dialer-audit-"))
    out = folder / f"audit.{fmt}"

    def work() -> int:
        with transaction(runtime.sessions) as session:
            service.seal_pending(session, now=runtime.clock.now())
        with runtime.sessions() as session:
            if matching.campaign_id is not None:
                campaign_by_id(session, campaign_id=matching.campaign_id)
            return service.export_events(
                session, out, fmt=fmt, from_id=from_id, to_id=to_id, matching=matching
            )

    try:
        count = await asyncio.to_thread(work)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    background.add_task(shutil.rmtree, folder, True)
    return FileResponse(
        out, media_type=MEDIA[fmt], filename=out.name, headers={"X-Audit-Event-Count": str(count)}
    )
