"""The parts of a campaign's page that refresh themselves (htmx ``hx-trigger="every 2s"``).

- ``GET .../progress``: the funnel (:mod:`dialer.calls.funnel`), lead counts and estimated
  costs (:func:`dialer.calls.costs.campaign_costs`, as ``dialer campaigns show`` prints them;
  :func:`bridge.console.campaign_pages.load_progress`);
- ``GET .../dispositions.json``: dispositions over time for the Chart.js chart
  (``static/campaigns.js``): ``{"bucket_seconds", "labels": [ISO-8601 UTC], "series": {name: [n]}}``;
- ``GET .../live``: calls in progress with their transcripts so far (:mod:`dialer.calls.live`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.orm import Session

from bridge.api._run import in_transaction
from bridge.api.access import Permission, Principal, allow
from bridge.api.schemas import RowId
from bridge.console.campaign_pages import CAMPAIGNS, load_progress
from bridge.console.templating import render
from dialer import campaigns as service
from dialer.calls.funnel import disposition_series
from dialer.calls.live import live_calls

router = APIRouter()
Reader = Annotated[Principal, Depends(allow(Permission.CAMPAIGNS_READ))]
CallsReader = Annotated[Principal, Depends(allow(Permission.ATTEMPTS_READ))]


@router.get(f"{CAMPAIGNS}/{{campaign_id}}/progress")
async def campaign_progress(campaign_id: RowId, request: Request, principal: Reader) -> HTMLResponse:
    """The funnel and costs fragment."""
    return render(request, "campaigns/_progress.html", principal, await load_progress(request, campaign_id))


@router.get(f"{CAMPAIGNS}/{{campaign_id}}/dispositions.json")
async def campaign_dispositions(campaign_id: RowId, request: Request, _: Reader) -> JSONResponse:
    """The dispositions chart's data."""

    def work(session: Session, now: datetime) -> dict[str, Any]:
        service.campaign_by_id(session, campaign_id=campaign_id)
        series = disposition_series(session, campaign_id=campaign_id)
        return {
            "bucket_seconds": series.bucket_seconds,
            "labels": [start.isoformat() for start in series.starts],
            "series": series.counts,
        }

    return JSONResponse(await in_transaction(request, work))


@router.get(f"{CAMPAIGNS}/{{campaign_id}}/live")
async def campaign_live_calls(campaign_id: RowId, request: Request, principal: CallsReader) -> HTMLResponse:
    """The calls in progress with their transcripts so far."""

    def work(session: Session, now: datetime) -> dict[str, Any]:
        service.campaign_by_id(session, campaign_id=campaign_id)
        return {"calls": live_calls(session, campaign_id=campaign_id)}

    return render(request, "campaigns/_live_calls.html", principal, await in_transaction(request, work))
