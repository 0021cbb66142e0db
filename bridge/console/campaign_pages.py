"""Sales ops' campaigns: the list (status, dials, meetings, rates) and one campaign's page.

The detail page shows the settings, the buttons of the status changes allowed from the current
status (:data:`ACTIONS`), and three parts that refresh themselves by htmx polling
(:mod:`bridge.console.campaign_live`): the funnel with costs, the dispositions chart, the live calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from bridge.api._run import in_transaction
from bridge.api.access import GRANTS, Permission, Principal, allow, runtime_of
from bridge.api.schemas import RowId
from bridge.console.paths import CONSOLE
from bridge.console.templating import render
from dialer import campaigns as service
from dialer import listings
from dialer.calls.costs import campaign_costs, dollars
from dialer.calls.funnel import Funnel, campaign_funnel
from dialer.models import Campaign, CampaignStatus
from dialer.settings import Settings

router = APIRouter()

CAMPAIGNS = f"{CONSOLE}/campaigns"
"""The section's root."""

Reader = Annotated[Principal, Depends(allow(Permission.CAMPAIGNS_READ))]


@dataclass(frozen=True)
class Action:
    """A status change offered as a button: its path segment, label and target status."""

    name: str
    label: str
    status: CampaignStatus
    style: str = ""


ACTIONS: tuple[Action, ...] = (
    Action("start", "Start", CampaignStatus.RUNNING),
    Action("resume", "Resume", CampaignStatus.RUNNING),
    Action("pause", "Pause", CampaignStatus.PAUSED, "secondary"),
    Action("stop", "Stop", CampaignStatus.STOPPED, "danger"),
)
"""Every button; :func:`actions_for` picks those legal from a status."""


NOTICES: dict[str, str] = {
    "created": "Campaign created (draft): upload leads, then start it.",
    "updated": "Settings saved.",
    "unchanged": "Nothing changed.",
    "running": "The campaign is running.",
    "paused": "Paused: calls in progress finish, no new calls are placed.",
    "stopped": "Stopped for good.",
}
"""The messages a redirect back to the page may ask for (``?notice=``): fixed texts only."""


def actions_for(status: CampaignStatus) -> list[Action]:
    """The buttons legal from ``status``: ``resume`` only from paused, ``start`` otherwise."""
    allowed = service.allowed_statuses(status)
    return [
        action
        for action in ACTIONS
        if action.status in allowed
        and not (action.name == "start" and status == CampaignStatus.PAUSED)
        and not (action.name == "resume" and status != CampaignStatus.PAUSED)
    ]


def percent(rate: float | None) -> str:
    """``0.4213`` -> ``42.1 %``; ``-`` for None (nothing to divide by yet)."""
    return "-" if rate is None else f"{rate:.1%}".replace("%", " %")


def funnel_view(funnel: Funnel) -> dict[str, Any]:
    """The funnel's counts and its rates formatted for a page."""
    return {
        "dials": funnel.dials,
        "human_answers": funnel.human_answers,
        "conversations": funnel.conversations,
        "meetings": funnel.meetings,
        "connection_rate": percent(funnel.connection_rate),
        "conversation_rate": percent(funnel.conversation_rate),
        "book_rate": percent(funnel.book_rate),
    }


def _row(session: Session, campaign: Campaign) -> dict[str, Any]:
    progress = service.progress(session, campaign_id=campaign.id)
    return {
        "campaign": campaign,
        "leads": progress.total,
        "open": progress.open,
        "funnel": funnel_view(campaign_funnel(session, campaign_id=campaign.id)),
    }


def _progress_context(session: Session, campaign: Campaign, settings: Settings) -> dict[str, Any]:
    spend = campaign_costs(session, campaign_id=campaign.id, settings=settings)
    costs = {
        "per_call": dollars(spend.per_call),
        "per_meeting": dollars(spend.per_meeting),
        "total": dollars(spend.total),
        "unpriced": spend.unpriced,
    }
    return {**_row(session, campaign), "costs": costs}


async def load_progress(request: Request, campaign_id: int) -> dict[str, Any]:
    """What ``campaigns/_progress.html`` shows: the campaign, funnel, lead counts, costs in dollars.

    Raises:
        NotFoundError: no such campaign.
    """
    settings = runtime_of(request).settings

    def work(session: Session, now: datetime) -> dict[str, Any]:
        return _progress_context(session, service.campaign_by_id(session, campaign_id=campaign_id), settings)

    return await in_transaction(request, work)


def can(principal: Principal, permission: Permission) -> bool:
    """Whether ``principal``'s role holds ``permission`` (to show or hide a button)."""
    return principal.role in GRANTS[permission]


@router.get(CAMPAIGNS)
async def campaigns_list(request: Request, principal: Reader) -> HTMLResponse:
    """Every campaign with its status, leads, dials, meetings and rates."""

    def work(session: Session, now: datetime) -> list[dict[str, Any]]:
        return [_row(session, campaign) for campaign in listings.list_campaigns(session)]

    rows = await in_transaction(request, work)
    context = {"rows": rows, "can_write": can(principal, Permission.CAMPAIGNS_WRITE)}
    return render(request, "campaigns/list.html", principal, context)


@router.get(f"{CAMPAIGNS}/{{campaign_id}}")
async def campaign_detail(campaign_id: RowId, request: Request, principal: Reader) -> HTMLResponse:
    """One campaign: settings, status buttons, and the live parts (funnel, chart, live calls)."""
    row = await load_progress(request, campaign_id)
    context = {
        **row,
        "actions": actions_for(row["campaign"].status),
        "can_write": can(principal, Permission.CAMPAIGNS_WRITE),
        "can_import": can(principal, Permission.LEADS_IMPORT),
        "can_see_calls": can(principal, Permission.ATTEMPTS_READ),
        "notice": NOTICES.get(request.query_params.get("notice", "")),
    }
    return render(request, "campaigns/detail.html", principal, context)
