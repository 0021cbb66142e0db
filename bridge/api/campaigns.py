"""``/api/campaigns``: list, show, create, edit, start, pause, stop (as ``dialer campaigns`` does)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from bridge.api._run import in_transaction
from bridge.api.access import Permission, Principal, allow
from bridge.api.schemas import (
    AssignmentRuleIn,
    AssignmentRulePublic,
    CampaignCreate,
    CampaignPublic,
    CampaignUpdate,
    LeadCounts,
    RowId,
)
from dialer import campaigns as service
from dialer import listings
from dialer.assignment_rules import RuleSpec, rules_of, set_rule
from dialer.models import Campaign, CampaignStatus

router = APIRouter(prefix="/api/campaigns", tags=["campaigns"])
ERRORS: dict[int | str, dict[str, object]] = {401: {}, 403: {}}
Reader = Annotated[Principal, Depends(allow(Permission.CAMPAIGNS_READ))]
Writer = Annotated[Principal, Depends(allow(Permission.CAMPAIGNS_WRITE))]


def _publics(session: Session, campaigns: list[Campaign]) -> list[CampaignPublic]:
    """The campaigns with their lead counts and rules: two grouped queries, whatever their number."""
    ids = [c.id for c in campaigns]
    counts, rules = service.progress_of(session, campaign_ids=ids), rules_of(session, campaign_ids=ids)
    return [
        CampaignPublic.model_validate(campaign).model_copy(
            update={
                "leads": LeadCounts(**dataclasses.asdict(counts[campaign.id])),
                "assignment": AssignmentRulePublic(
                    rule=rules[campaign.id].kind, reps=list(rules[campaign.id].reps)
                ),
            }
        )
        for campaign in campaigns
    ]


def _public(session: Session, campaign: Campaign) -> CampaignPublic:
    return _publics(session, [campaign])[0]


def _rule(body: AssignmentRuleIn) -> RuleSpec:
    return RuleSpec(body.rule, tuple(body.reps)).checked("assignment")


@router.get("", response_model=list[CampaignPublic], responses=ERRORS)
async def list_campaigns(request: Request, _: Reader) -> list[CampaignPublic]:
    """Every campaign with its lead counts and assignment rule, by id."""

    def work(session: Session, now: datetime) -> list[CampaignPublic]:
        return _publics(session, listings.list_campaigns(session))

    return await in_transaction(request, work)


@router.get("/{campaign_id}", response_model=CampaignPublic, responses={**ERRORS, 404: {}})
async def show_campaign(campaign_id: RowId, request: Request, _: Reader) -> CampaignPublic:
    """One campaign's settings and lead counts."""

    def work(session: Session, now: datetime) -> CampaignPublic:
        return _public(session, service.campaign_by_id(session, campaign_id=campaign_id))

    return await in_transaction(request, work)


def campaign_fields(body: CampaignCreate) -> service.CampaignFields:
    """A create body's settings as the service takes them (the script checked; none: the default).

    Raises:
        InvalidInputError: the script cannot be used (the message starts with ``script:``).
    """
    script = service.check_script(body.script, where="script") if body.script else service.DEFAULT_SCRIPT
    return service.CampaignFields(
        name=body.name,
        seller_name=body.seller_name,
        caller_id=body.caller_id,
        product=body.product,
        agent_name=body.agent_name,
        callback_number=body.callback_number,
        script=script,
        max_concurrent_calls=body.max_concurrent_calls,
        max_attempts=body.max_attempts,
        retry_delay_seconds=body.retry_delay_seconds,
        record_calls=body.record_calls,
        subject=body.subject,
        call_settings=service.CallSettings(
            body.voice_agent, body.max_call_seconds, body.silence_timeout_seconds
        ),
    )


@router.post("", response_model=CampaignPublic, status_code=201, responses={**ERRORS, 409: {}, 422: {}})
async def create_campaign(body: CampaignCreate, request: Request, principal: Writer) -> CampaignPublic:
    """Create a campaign in ``draft`` (audited as ``campaign.created``)."""
    fields = campaign_fields(body)
    rule = _rule(body.assignment) if body.assignment is not None else RuleSpec()

    def work(session: Session, now: datetime) -> CampaignPublic:
        values = {f.name: getattr(fields, f.name) for f in dataclasses.fields(fields)}
        campaign = service.create_campaign(session, now=now, actor=principal.actor, **values)
        set_rule(session, campaign=campaign, rule=rule, now=now, actor=principal.actor)
        return _public(session, campaign)

    return await in_transaction(request, work)


@router.patch("/{campaign_id}", response_model=CampaignPublic, responses={**ERRORS, 404: {}, 422: {}})
async def update_campaign(
    campaign_id: RowId, body: CampaignUpdate, request: Request, principal: Writer
) -> CampaignPublic:
    """Change a campaign's assignment rule (audited as ``campaign.assignment_rule``).

    A login that is not an active rep is a 422 naming it; meetings booked from now on follow the
    new rule (a round robin starts over), earlier ones keep their rep.
    """
    rule = _rule(body.assignment)

    def work(session: Session, now: datetime) -> CampaignPublic:
        campaign = service.campaign_by_id(session, campaign_id=campaign_id)
        set_rule(session, campaign=campaign, rule=rule, now=now, actor=principal.actor)
        return _public(session, campaign)

    return await in_transaction(request, work)


async def _set_status(
    request: Request, principal: Principal, campaign_id: int, status: CampaignStatus
) -> CampaignPublic:
    def work(session: Session, now: datetime) -> CampaignPublic:
        campaign = service.campaign_by_id(session, campaign_id=campaign_id)
        service.set_status(session, campaign=campaign, status=status, now=now, actor=principal.actor)
        return _public(session, campaign)

    return await in_transaction(request, work)


STATUS_ERRORS: dict[int | str, dict[str, object]] = {
    **ERRORS,
    404: {},
    409: {"description": "not allowed from the campaign's current status"},
}


@router.post("/{campaign_id}/start", response_model=CampaignPublic, responses=STATUS_ERRORS)
async def start_campaign(campaign_id: RowId, request: Request, principal: Writer) -> CampaignPublic:
    """Start (or resume) dialing a campaign."""
    return await _set_status(request, principal, campaign_id, CampaignStatus.RUNNING)


@router.post("/{campaign_id}/pause", response_model=CampaignPublic, responses=STATUS_ERRORS)
async def pause_campaign(campaign_id: RowId, request: Request, principal: Writer) -> CampaignPublic:
    """Pause a campaign: calls in progress finish, no new calls are placed."""
    return await _set_status(request, principal, campaign_id, CampaignStatus.PAUSED)


@router.post("/{campaign_id}/stop", response_model=CampaignPublic, responses=STATUS_ERRORS)
async def stop_campaign(campaign_id: RowId, request: Request, principal: Writer) -> CampaignPublic:
    """Stop a campaign for good."""
    return await _set_status(request, principal, campaign_id, CampaignStatus.STOPPED)
