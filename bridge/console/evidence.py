"""``/console/attempts/<id>``: the evidence page of one call attempt (compliance and admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from bridge.api._run import in_transaction
from bridge.api.access import Permission, Principal, allow
from bridge.api.schemas import MAX_ID
from bridge.console.evidence_data import AttemptEvidence, attempt_evidence
from bridge.console.paths import CONSOLE
from bridge.console.templating import render

router = APIRouter()


@router.get(f"{CONSOLE}/attempts/{{attempt_id}}")
async def evidence_page(
    request: Request,
    attempt_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    principal: Annotated[Principal, Depends(allow(Permission.AUDIT_EXPORT))],
) -> HTMLResponse:
    """The gate decision, consent, disclosure, transcript, disposition and DNC entry of one call."""

    def work(session: Session, now: datetime) -> AttemptEvidence:
        return attempt_evidence(session, attempt_id=attempt_id)

    evidence = await in_transaction(request, work)
    return render(request, "evidence/attempt.html", principal, {"e": evidence})
