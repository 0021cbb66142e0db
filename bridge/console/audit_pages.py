"""``/console/audit``: the audit log (filters, keyset pages newest first), its exports, and verification.

Compliance and admin only (``audit:export``). The page, its CSV / JSONL exports
(``/console/audit/export?format=csv&<filters>``) and ``GET /api/audit/export`` read events through
the one :class:`dialer.audit.AuditFilter`; exports seal pending events first and neutralise
spreadsheet formulas in CSV cells (:mod:`dialer.csv_cells`). ``POST /console/audit/verify`` seals,
then runs :func:`dialer.audit.verify_chain` and shows the range checked or the first broken link.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bridge.api._run import in_transaction
from bridge.api.access import Permission, Principal, allow
from bridge.api.audit import export_response
from bridge.console.audit_filters import FilterForm, parse_filters
from bridge.console.paths import CONSOLE
from bridge.console.templating import render
from dialer import audit as service
from dialer.errors import InvalidInputError
from dialer.models import AuditEvent

router = APIRouter()
PAGE_SIZE = 50
Auditor = Annotated[Principal, Depends(allow(Permission.AUDIT_EXPORT))]


@router.get(f"{CONSOLE}/audit")
async def audit_log(request: Request, principal: Auditor) -> HTMLResponse:
    """The audit log, newest first, filtered by the query (see :mod:`bridge.console.audit_filters`)."""
    form = parse_filters(request.query_params)

    def work(session: Session, now: datetime) -> tuple[list[Any], list[str]]:
        kinds = service.event_kinds(session)
        if form.errors:
            return [], kinds
        return service.page_events(session, form.matching, before_id=form.before_id, limit=PAGE_SIZE), kinds

    events, kinds = await in_transaction(request, work)
    older = events[-1].id if len(events) == PAGE_SIZE else None
    context = {"form": form, "events": events, "kinds": kinds, "older": older, "page_size": PAGE_SIZE}
    return render(request, "audit/log.html", principal, context, status_code=422 if form.errors else 200)


@router.get(f"{CONSOLE}/audit/export")
async def audit_export(
    request: Request,
    background: BackgroundTasks,
    principal: Auditor,
    format: Literal["jsonl", "csv"] = "csv",  # noqa: A002 - the query's name
) -> FileResponse:
    """The events the page's filters match, in id order, as CSV or JSON lines (a download).

    Raises:
        InvalidInputError: a filter cannot be used (422 page, naming it).
    """
    form: FilterForm = parse_filters(request.query_params)
    if form.errors:
        raise InvalidInputError("; ".join(form.errors))
    return await export_response(request, background, format, form.matching)


@router.post(f"{CONSOLE}/audit/verify")
async def audit_verify(request: Request, principal: Auditor) -> HTMLResponse:
    """Seal pending events, check every event and seal, and show the outcome."""

    def seal(session: Session, now: datetime) -> None:
        service.seal_pending(session, now=now)

    def verify(session: Session, now: datetime) -> tuple[service.VerifyResult, int | None, int | None]:
        low, high = session.execute(select(func.min(AuditEvent.id), func.max(AuditEvent.id))).one()
        return service.verify_chain(session), low, high

    await in_transaction(request, seal)
    result, low, high = await in_transaction(request, verify)
    context = {"result": result, "first_id": low, "last_id": high}
    return render(request, "audit/verify.html", principal, context)
