"""Creating and editing a campaign from a form, and its start / pause / resume / stop buttons.

The form's fields are the REST API's :class:`bridge.api.schemas.CampaignCreate` (checked by it
first: types and ranges), then the service's own checks (:func:`dialer.campaigns.create_campaign`,
:func:`dialer.campaigns.update_campaign`: a taken name, a bad number...), each error shown next to
its field. The write happens in one transaction: a refused form changes nothing.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from bridge.api._run import in_transaction
from bridge.api.access import Permission, Principal, allow
from bridge.api.campaigns import campaign_fields
from bridge.api.schemas import CampaignCreate, RowId
from bridge.console.campaign_pages import ACTIONS, CAMPAIGNS, actions_for
from bridge.console.templating import render
from dialer import campaigns as service
from dialer.assignment_rules import RuleSpec, parse_rule, rules_of, set_rule
from dialer.errors import InvalidInputError, InvalidStateError
from dialer.models import Campaign
from dialer.settings import VOICE_AGENT_NAMES

router = APIRouter()
Writer = Annotated[Principal, Depends(allow(Permission.CAMPAIGNS_WRITE))]

OPTIONAL_NUMBERS = ("max_call_seconds", "silence_timeout_seconds")
"""Number fields a blank input leaves unset (the process setting applies)."""
OPTIONAL_TEXTS = ("callback_number", "subject", "voice_agent")
FIELDS = tuple(name for name in CampaignCreate.model_fields if name != "assignment")
"""The campaign's own settings; the meeting assignment rule is its own field (:func:`checked_rule`)."""


class FormErrors(InvalidInputError):
    """The form's problems: ``{field: message}``; ``""`` holds those of no one field (422)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k or 'form'}: {v}" for k, v in errors.items()))
        self.errors = errors


def form_values(form: dict[str, Any]) -> dict[str, Any]:
    """The submitted form as :class:`CampaignCreate`'s input: blanks unset, the checkbox a bool."""
    values: dict[str, Any] = {}
    for field in FIELDS:
        raw = form.get(field)
        text = raw.strip() if isinstance(raw, str) else raw
        if field == "record_calls":
            values[field] = text in ("on", "true", "1")
        elif field in (*OPTIONAL_NUMBERS, *OPTIONAL_TEXTS) and not text:
            values[field] = None
        elif field == "script":
            values[field] = raw if isinstance(raw, str) and raw.strip() else None
        elif text is not None:
            values[field] = text
    return values


def checked_fields(form: dict[str, Any]) -> service.CampaignFields:
    """The form checked by the API's schema and the script check, as the service takes it.

    Raises:
        FormErrors: each field's first problem.
    """
    try:
        body = CampaignCreate.model_validate(form_values(form))
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            errors.setdefault(field, error["msg"].removeprefix("Value error, "))
        raise FormErrors(errors) from None
    try:
        return campaign_fields(body)
    except InvalidInputError as exc:
        raise FormErrors({"script": exc.message.removeprefix("script: ")}) from None


def checked_rule(form: dict[str, Any]) -> RuleSpec:
    """The form's meeting assignment rule (blank: ``none``), as ``dialer campaigns --assign`` reads it.

    Raises:
        FormErrors: a malformed rule, on the ``assignment`` field.
    """
    try:
        return parse_rule(str(form.get("assignment") or "none"), where="assignment")
    except InvalidInputError as exc:
        raise FormErrors({"assignment": exc.message}) from None


def apply_rule(session: Session, campaign: Campaign, rule: RuleSpec, *, now: datetime, actor: str) -> None:
    """Give the campaign the form's rule in the form's transaction.

    Raises:
        FormErrors: a login that is not an active rep, on the ``assignment`` field (nothing is saved).
    """
    try:
        set_rule(session, campaign=campaign, rule=rule, now=now, actor=actor)
    except InvalidInputError as exc:
        raise FormErrors({"assignment": exc.message}) from None


def campaign_values(campaign: Campaign, rule: RuleSpec) -> dict[str, Any]:
    """A campaign's settings and assignment rule as the form shows them (None as blank)."""
    return {field: getattr(campaign, field) for field in FIELDS} | {"assignment": str(rule)}


DEFAULTS: dict[str, Any] = {
    **{name: CampaignCreate.model_fields[name].default for name in FIELDS},
    "script": service.DEFAULT_SCRIPT,
    "assignment": str(RuleSpec()),
}


def _form(
    request: Request,
    principal: Principal,
    *,
    values: dict[str, Any],
    campaign: Campaign | None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "values": values,
        "errors": errors or {},
        "campaign": campaign,
        "voice_agents": VOICE_AGENT_NAMES,
    }
    return render(request, "campaigns/form.html", principal, context, status_code=status_code)


async def _submitted(request: Request) -> dict[str, Any]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


@router.get(f"{CAMPAIGNS}/new")
async def new_campaign_form(request: Request, principal: Writer) -> HTMLResponse:
    """The empty form, with the defaults filled in."""
    return _form(request, principal, values=DEFAULTS, campaign=None)


@router.post(CAMPAIGNS)
async def create_campaign(request: Request, principal: Writer) -> Response:
    """Create the campaign (draft) and open its page; the form again (422) with the errors."""
    form = await _submitted(request)
    try:
        fields, rule = checked_fields(form), checked_rule(form)

        def work(session: Session, now: datetime) -> int:
            values = {f.name: getattr(fields, f.name) for f in dataclasses.fields(fields)}
            campaign = service.create_campaign(session, now=now, actor=principal.actor, **values)
            apply_rule(session, campaign, rule, now=now, actor=principal.actor)
            return campaign.id

        campaign_id = await in_transaction(request, work)
    except FormErrors as exc:
        return _form(request, principal, values=form, campaign=None, errors=exc.errors, status_code=422)
    except service.CampaignFieldError as exc:
        return _form(
            request, principal, values=form, campaign=None, errors={exc.field: exc.message}, status_code=422
        )
    return RedirectResponse(f"{CAMPAIGNS}/{campaign_id}?notice=created", status_code=303)


@router.get(f"{CAMPAIGNS}/{{campaign_id}}/edit")
async def edit_campaign_form(campaign_id: RowId, request: Request, principal: Writer) -> HTMLResponse:
    """The form with the campaign's current settings."""

    def work(session: Session, now: datetime) -> tuple[Campaign, RuleSpec]:
        campaign = service.campaign_by_id(session, campaign_id=campaign_id)
        return campaign, rules_of(session, campaign_ids=[campaign_id])[campaign_id]

    campaign, rule = await in_transaction(request, work)
    return _form(request, principal, values=campaign_values(campaign, rule), campaign=campaign)


@router.post(f"{CAMPAIGNS}/{{campaign_id}}/edit")
async def update_campaign(campaign_id: RowId, request: Request, principal: Writer) -> Response:
    """Save the settings (audited as ``campaign.updated``); the form again (422) with the errors."""
    form = await _submitted(request)

    def campaign_only(session: Session, now: datetime) -> Campaign:
        return service.campaign_by_id(session, campaign_id=campaign_id)

    try:
        fields, rule = checked_fields(form), checked_rule(form)

        def work(session: Session, now: datetime) -> bool:
            campaign = service.campaign_by_id(session, campaign_id=campaign_id)
            changed = service.update_campaign(
                session, campaign=campaign, fields=fields, now=now, actor=principal.actor
            )
            before = rules_of(session, campaign_ids=[campaign_id])[campaign_id]
            apply_rule(session, campaign, rule, now=now, actor=principal.actor)
            return bool(changed) or before != rule

        changed = await in_transaction(request, work)
    except (FormErrors, service.CampaignFieldError) as exc:
        errors = exc.errors if isinstance(exc, FormErrors) else {exc.field: exc.message}
        campaign = await in_transaction(request, campaign_only)
        return _form(request, principal, values=form, campaign=campaign, errors=errors, status_code=422)
    notice = "updated" if changed else "unchanged"
    return RedirectResponse(f"{CAMPAIGNS}/{campaign_id}?notice={notice}", status_code=303)


def _status_route(name: str) -> None:
    action = next(a for a in ACTIONS if a.name == name)

    async def change(campaign_id: RowId, request: Request, principal: Writer) -> Response:
        def work(session: Session, now: datetime) -> str:
            campaign = service.campaign_by_id(session, campaign_id=campaign_id)
            if action not in actions_for(campaign.status):
                raise InvalidStateError(f"campaign {campaign.name!r} is {campaign.status}: it cannot {name}")
            service.set_status(
                session, campaign=campaign, status=action.status, now=now, actor=principal.actor
            )
            return str(campaign.status)

        status = await in_transaction(request, work)
        return RedirectResponse(f"{CAMPAIGNS}/{campaign_id}?notice={status}", status_code=303)

    change.__name__ = f"{name}_campaign"
    change.__doc__ = f"{action.label} the campaign (a refused change shows the error page, 409)."
    router.add_api_route(f"{CAMPAIGNS}/{{campaign_id}}/{name}", change, methods=["POST"])


for _action in ACTIONS:
    _status_route(_action.name)
