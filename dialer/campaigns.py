"""Campaigns: create, edit, look up, start, pause, stop, and progress counts."""

from __future__ import annotations

import dataclasses
import hashlib
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from compliance import PhoneNumberError, normalize_phone
from dialer.audit import record_event
from dialer.errors import InvalidInputError, InvalidStateError, NotFoundError
from dialer.models import Campaign, CampaignStatus, Lead, LeadStatus
from dialer.settings import VOICE_AGENT_NAMES

DEFAULT_SCRIPT = """\
You are {agent_name}, a friendly, concise sales development representative calling on behalf of
{seller_name} about {product}. You are speaking with {first_name} {last_name}, {title} at {company}.

Goal: book a twenty-minute call with a specialist. Offer two specific times in the prospect's own
time zone. When they accept a time, confirm their email and call book_meeting with the time as they
said it and the email. Then log the disposition and end the call politely.

Rules:
- One or two short sentences per turn. No lists, no URLs. Never invent facts, prices or times.
- Never claim to be human. If asked, confirm you are an AI assistant.
- If they ask not to be called again, call honor_dnc immediately, say a brief goodbye, and do not
  try to recover the conversation.
- If they are not interested, call log_disposition with not_interested, thank them and end the call.
- If now is a bad time but they name another time, call mark_callback with that time.
"""

SUBJECT_LIMIT = 200
"""Longest campaign subject (the column's size)."""

_TRANSITIONS: dict[CampaignStatus, set[CampaignStatus]] = {
    CampaignStatus.DRAFT: {CampaignStatus.RUNNING, CampaignStatus.STOPPED},
    CampaignStatus.RUNNING: {CampaignStatus.PAUSED, CampaignStatus.STOPPED, CampaignStatus.COMPLETED},
    CampaignStatus.PAUSED: {CampaignStatus.RUNNING, CampaignStatus.STOPPED},
    CampaignStatus.STOPPED: set(),
    CampaignStatus.COMPLETED: {CampaignStatus.RUNNING},
}


class CampaignFieldError(InvalidStateError):
    """A campaign setting that cannot be used; ``field`` names it (the form shows it there).

    Attributes:
        field: the setting's name, as :class:`CampaignFields` and the REST API spell it.
    """

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def _e164(value: str, what: str, field: str) -> str:
    try:
        return normalize_phone(value).e164
    except PhoneNumberError as exc:
        raise CampaignFieldError(
            f"{what} {value!r} is not a valid phone number: {exc}", field=field
        ) from None


@dataclass(frozen=True)
class CallSettings:
    """A campaign's own call settings; None keeps the process setting.

    Attributes:
        voice_agent: the speech-to-speech backend (one of ``dialer.settings.VOICE_AGENT_NAMES``).
        max_call_seconds: the longest answered call, 60..14,400 s (Twilio's ``TimeLimit``); the
            ``call_time_limit_seconds`` setting still caps it (the live-call leases are sized by it).
        silence_timeout_seconds: hang up after this long with neither side speaking, 5..600 s.
    """

    voice_agent: str | None = None
    max_call_seconds: int | None = None
    silence_timeout_seconds: int | None = None

    def checked(self) -> CallSettings:
        """These settings, after checking them.

        Raises:
            CampaignFieldError: an unknown backend, or a limit out of its range.
        """
        if self.voice_agent is not None and self.voice_agent not in VOICE_AGENT_NAMES:
            raise CampaignFieldError(
                f"unknown voice agent {self.voice_agent!r}; known: {', '.join(VOICE_AGENT_NAMES)}",
                field="voice_agent",
            )
        if self.max_call_seconds is not None and not 60 <= self.max_call_seconds <= 14400:
            raise CampaignFieldError(
                f"max call length {self.max_call_seconds} s is not within 60..14400", field="max_call_seconds"
            )
        if self.silence_timeout_seconds is not None and not 5 <= self.silence_timeout_seconds <= 600:
            raise CampaignFieldError(
                f"silence timeout {self.silence_timeout_seconds} s is not within 5..600",
                field="silence_timeout_seconds",
            )
        return self


@dataclass(frozen=True)
class CampaignFields:
    """A campaign's settings as :func:`create_campaign` and :func:`update_campaign` take them.

    Attributes:
        caller_id: the ``From`` number (any common format; stored E.164).
        callback_number: number callees can call for DNC requests (47 CFR 64.1200(b)(2));
            None or blank: the caller ID.
        max_concurrent_calls: live-call cap (>= 1).
        max_attempts: calls per lead at most (>= 1).
        retry_delay_seconds: wait before retrying a no-answer/busy/machine/failed attempt (>= 0).
        subject: what the calls are about, at most 200 characters; frequency caps count attempts with
            the same subject (FL 501.616(6), OK, MD: "same subject matter", 3 per rolling 24 h, CP-9).
            None or blank: every attempt to the number counts, whatever its subject.
        call_settings: the campaign's voice agent, longest call and silence timeout.
    """

    name: str
    seller_name: str
    caller_id: str
    product: str = ""
    agent_name: str = "Alex"
    callback_number: str | None = None
    script: str = DEFAULT_SCRIPT
    max_concurrent_calls: int = 5
    max_attempts: int = 3
    retry_delay_seconds: int = 3600
    record_calls: bool = False
    subject: str | None = None
    call_settings: CallSettings = CallSettings()


def _column_values(session: Session, fields: CampaignFields, *, campaign_id: int | None) -> dict[str, Any]:
    """The campaign's column values from ``fields``, checked (the one validation of create and update).

    Raises:
        CampaignFieldError: another campaign has the name, a number is invalid, a limit is out of
            range, the seller is blank or the subject is longer than 200 characters.
    """
    name = fields.name.strip()
    if not name:
        raise CampaignFieldError("the campaign needs a name", field="name")
    clash = session.scalar(select(Campaign.id).where(Campaign.name == name))
    if clash is not None and clash != campaign_id:
        raise CampaignFieldError(f"campaign {name!r} already exists", field="name")
    if not fields.seller_name.strip():
        raise CampaignFieldError(
            "the seller's legal name is required (it is spoken in the disclosure)", field="seller_name"
        )
    for field, least in (("max_concurrent_calls", 1), ("max_attempts", 1), ("retry_delay_seconds", 0)):
        if getattr(fields, field) < least:
            raise CampaignFieldError(f"{field} must be >= {least}", field=field)
    calls = fields.call_settings.checked()
    subject = (fields.subject or "").strip() or None
    if subject is not None and len(subject) > SUBJECT_LIMIT:
        raise CampaignFieldError(
            f"the subject is {len(subject)} characters; the limit is {SUBJECT_LIMIT}", field="subject"
        )
    caller_id = _e164(fields.caller_id, "caller ID", "caller_id")
    callback = (fields.callback_number or "").strip()
    return {
        "name": name,
        "seller_name": fields.seller_name.strip(),
        "agent_name": fields.agent_name,
        "product": fields.product,
        "subject": subject,
        "caller_id": caller_id,
        "callback_number": _e164(callback, "callback number", "callback_number") if callback else caller_id,
        "script": fields.script,
        "max_concurrent_calls": fields.max_concurrent_calls,
        "max_attempts": fields.max_attempts,
        "retry_delay_seconds": fields.retry_delay_seconds,
        "record_calls": fields.record_calls,
        **dataclasses.asdict(calls),
    }


def create_campaign(
    session: Session,
    *,
    name: str,
    seller_name: str,
    caller_id: str,
    now: datetime,
    actor: str,
    product: str = "",
    agent_name: str = "Alex",
    callback_number: str | None = None,
    script: str = DEFAULT_SCRIPT,
    max_concurrent_calls: int = 5,
    max_attempts: int = 3,
    retry_delay_seconds: int = 3600,
    record_calls: bool = False,
    subject: str | None = None,
    call_settings: CallSettings | None = None,
) -> Campaign:
    """Create a campaign in ``draft`` (audited as ``campaign.created``).

    The arguments are :class:`CampaignFields`'s (see there for each); ``call_settings`` None
    keeps the process settings for each.

    Raises:
        CampaignFieldError: (an :class:`InvalidStateError`) a campaign with that name exists, a
            number is invalid, a limit is out of range, or the subject is longer than 200 characters.
    """
    fields = CampaignFields(
        name=name,
        seller_name=seller_name,
        caller_id=caller_id,
        product=product,
        agent_name=agent_name,
        callback_number=callback_number,
        script=script,
        max_concurrent_calls=max_concurrent_calls,
        max_attempts=max_attempts,
        retry_delay_seconds=retry_delay_seconds,
        record_calls=record_calls,
        subject=subject,
        call_settings=call_settings or CallSettings(),
    )
    values = _column_values(session, fields, campaign_id=None)
    campaign = Campaign(status=CampaignStatus.DRAFT, **values)
    session.add(campaign)
    session.flush()
    audited = ("name", "seller_name", "caller_id", "max_concurrent_calls", "max_attempts", "record_calls")
    record_event(
        session,
        kind="campaign.created",
        occurred_at=now,
        actor=actor,
        campaign_id=campaign.id,
        payload={
            **{key: values[key] for key in (*audited, "subject")},
            **dataclasses.asdict(fields.call_settings),
        },
    )
    return campaign


def _audited_value(key: str, value: Any) -> Any:
    """A setting as the audit log keeps it: the script by its sha256 (it can be long)."""
    if key == "script":
        return {"sha256": hashlib.sha256(value.encode("utf-8")).hexdigest(), "characters": len(value)}
    return value


def update_campaign(
    session: Session, *, campaign: Campaign, fields: CampaignFields, now: datetime, actor: str
) -> dict[str, Any]:
    """Change a campaign's settings to ``fields`` (checked as :func:`create_campaign` checks them).

    Audited as ``campaign.updated`` with ``{"changed": {setting: {"from", "to"}}}`` (the script by
    its sha256 and length); nothing changed, nothing recorded. A running campaign takes the new
    settings on its next dial.

    Returns:
        The changed settings, ``{setting: {"from": old, "to": new}}`` (empty when nothing changed).

    Raises:
        CampaignFieldError: a setting that cannot be used (nothing is changed).
        InvalidStateError: the campaign is stopped (for good).
    """
    if campaign.status == CampaignStatus.STOPPED:
        raise InvalidStateError(f"campaign {campaign.name!r} is stopped; its settings can no longer change")
    values = _column_values(session, fields, campaign_id=campaign.id)
    changed = {
        key: {"from": _audited_value(key, getattr(campaign, key)), "to": _audited_value(key, value)}
        for key, value in values.items()
        if getattr(campaign, key) != value
    }
    if not changed:
        return changed
    for key, value in values.items():
        setattr(campaign, key, value)
    record_event(
        session,
        kind="campaign.updated",
        occurred_at=now,
        actor=actor,
        campaign_id=campaign.id,
        payload={"changed": changed},
    )
    return changed


def check_script(text: str, *, where: str) -> str:
    """``text`` if its ``{placeholders}`` are well formed (they are filled in per call).

    Raises:
        InvalidInputError: a malformed placeholder; the message names ``where`` (a file, a field).
    """
    try:
        list(string.Formatter().parse(text))
    except ValueError as exc:
        raise InvalidInputError(f"{where}: malformed placeholder in script ({exc})") from None
    return text


def campaign_by_id(session: Session, *, campaign_id: int) -> Campaign:
    """The campaign with that id.

    Raises:
        NotFoundError: no such campaign.
    """
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFoundError(f"campaign {campaign_id} does not exist")
    return campaign


def get_campaign(session: Session, *, name: str) -> Campaign:
    """The campaign called ``name``.

    Raises:
        NotFoundError: no such campaign.
    """
    campaign = session.scalar(select(Campaign).where(Campaign.name == name))
    if campaign is None:
        raise NotFoundError(
            f"campaign {name!r} does not exist; create it first with `dialer campaigns create`"
        )
    return campaign


def allowed_statuses(status: CampaignStatus) -> frozenset[CampaignStatus]:
    """The statuses a campaign in ``status`` may move to (what :func:`set_status` accepts)."""
    return frozenset(_TRANSITIONS[status])


def set_status(
    session: Session, *, campaign: Campaign, status: CampaignStatus, now: datetime, actor: str
) -> Campaign:
    """Move a campaign to ``status`` (start = running, pause, stop) and audit the change.

    Raises:
        InvalidStateError: the transition is not allowed (e.g. restarting a stopped campaign).
    """
    if status == campaign.status:
        return campaign
    if status not in _TRANSITIONS[campaign.status]:
        raise InvalidStateError(f"campaign {campaign.name!r} cannot go from {campaign.status} to {status}")
    previous = campaign.status
    campaign.status = status
    record_event(
        session,
        kind="campaign.status",
        occurred_at=now,
        actor=actor,
        campaign_id=campaign.id,
        payload={"from": previous, "to": status},
    )
    return campaign


@dataclass(frozen=True)
class CampaignProgress:
    """Lead counts of a campaign by status; ``open`` counts leads not yet final."""

    by_status: dict[str, int]
    total: int
    open: int


def _progress(by_status: dict[str, int]) -> CampaignProgress:
    total = sum(by_status.values())
    open_count = sum(n for s, n in by_status.items() if not LeadStatus(s).is_final)
    return CampaignProgress(by_status=by_status, total=total, open=open_count)


def progress_of(session: Session, *, campaign_ids: Iterable[int]) -> dict[int, CampaignProgress]:
    """Lead counts by status of these campaigns, in one grouped query (id -> counts)."""
    ids = list(campaign_ids)
    found: dict[int, dict[str, int]] = {i: {} for i in ids}
    rows = session.execute(
        select(Lead.campaign_id, Lead.status, func.count())
        .where(Lead.campaign_id.in_(ids))
        .group_by(Lead.campaign_id, Lead.status)
    )
    for campaign_id, status, count in rows:
        found[campaign_id][str(status)] = count
    return {i: _progress(by_status) for i, by_status in found.items()}


def progress(session: Session, *, campaign_id: int) -> CampaignProgress:
    """Lead counts by status for one campaign."""
    return progress_of(session, campaign_ids=[campaign_id])[campaign_id]
