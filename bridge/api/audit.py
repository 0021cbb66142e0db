"""``GET /api/audit/export``: the audit log as JSON lines or CSV (compliance and admin).

The same export as ``dialer audit export``: pending events are sealed first, then written in id
order to a temporary file that is streamed back and removed. The inclusion proofs of a sealed
range are left to the CLI (``--proof``) for now.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from bridge.api.access import Permission, Principal, allow, runtime_of
from bridge.api.schemas import MAX_ID
from dialer import audit as service
from dialer.campaigns import campaign_by_id
from dialer.db import transaction

router = APIRouter(prefix="/api/audit", tags=["audit"])
Id = Annotated[int | None, Query(ge=1, le=MAX_ID)]
MEDIA = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}


@router.get(
    "/export",
    response_class=FileResponse,
    responses={200: {"content": {m: {} for m in MEDIA.values()}}, 401: {}, 403: {}, 404: {}, 409: {}},
)
async def export_audit(
    request: Request,
    background: BackgroundTasks,
    principal: Annotated[Principal, Depends(allow(Permission.AUDIT_EXPORT))],
    format: Literal["jsonl", "csv"] = "jsonl",
    campaign_id: Id = None,
    from_id: Id = None,
    to_id: Id = None,
) -> FileResponse:
    """Audit events in id order, of one campaign or all, in a sealed id range or all of them."""
    runtime = runtime_of(request)
    folder = Path(tempfile.mkdtemp(prefix="dialer-audit-"))
    out = folder / f"audit.{format}"

    def work() -> int:
        with transaction(runtime.sessions) as session:
            service.seal_pending(session, now=runtime.clock.now())
        with runtime.sessions() as session:
            return _export(session, out, format, campaign_id, from_id, to_id)

    try:
        count = await asyncio.to_thread(work)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    background.add_task(shutil.rmtree, folder, True)
    return FileResponse(
        out, media_type=MEDIA[format], filename=out.name, headers={"X-Audit-Event-Count": str(count)}
    )


def _export(
    session: Session,
    out: Path,
    fmt: Literal["jsonl", "csv"],
    campaign_id: int | None,
    from_id: int | None,
    to_id: int | None,
) -> int:
    if campaign_id is not None:
        campaign_by_id(session, campaign_id=campaign_id)
    return service.export_events(session, out, fmt=fmt, campaign_id=campaign_id, from_id=from_id, to_id=to_id)
