"""Campaigns: create, look up, start, pause, stop, and progress counts."""

from __future__ import annotations

import dataclasses
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

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


def _e164(value: str, what: str) -> str:
    try:
        return normalize_phone(value).e164
    except PhoneNumberError as exc:
        raise InvalidStateError(f"{what} {value!r} is not a valid phone number: {exc}") from None


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
            InvalidStateError: an unknown backend, or a limit out of its range.
        """
        if self.voice_agent is not None and self.voice_agent not in VOICE_AGENT_NAMES:
            raise InvalidStateError(
                f"unknown voice agent {self.voice_agent!r}; known: {', '.join(VOICE_AGENT_NAMES)}"
            )
        if self.max_call_seconds is not None and not 60 <= self.max_call_seconds <= 14400:
            raise InvalidStateError(f"max call length {self.max_call_seconds} s is not within 60..14400")
        if self.silence_timeout_seconds is not None and not 5 <= self.silence_timeout_seconds <= 600:
            raise InvalidStateError(f"silence timeout {self.silence_timeout_seconds} s is not within 5..600")
        return self


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
    """Create a campaign in ``draft``.

    Args:
        caller_id: the ``From`` number (any common format; stored E.164).
        callback_number: number callees can call for DNC requests (47 CFR 64.1200(b)(2));
            defaults to the caller ID.
        max_concurrent_calls: live-call cap (>= 1).
        max_attempts: calls per lead at most (>= 1).
        retry_delay_seconds: wait before retrying a no-answer/busy/machine/failed attempt.
        subject: what the calls are about, at most 200 characters; frequency caps count attempts with
            the same subject (FL 501.616(6), OK, MD: "same subject matter", 3 per rolling 24 h, CP-9).
            None or blank: every attempt to the number counts, whatever its subject.
        call_settings: the campaign's voice agent, longest call and silence timeout (None: the
            process settings for each).

    Raises:
        InvalidStateError: a campaign with that name exists, a number is invalid, a limit is < 1, or
            the subject is longer than 200 characters.
    """
    if session.scalar(select(Campaign.id).where(Campaign.name == name)) is not None:
        raise InvalidStateError(f"campaign {name!r} already exists")
    if not seller_name.strip():
        raise InvalidStateError("the seller's legal name is required (it is spoken in the disclosure)")
    if max_concurrent_calls < 1 or max_attempts < 1 or retry_delay_seconds < 0:
        raise InvalidStateError("max_concurrent_calls and max_attempts must be >= 1, retry delay >= 0")
    calls = (call_settings or CallSettings()).checked()
    subject = (subject or "").strip() or None
    if subject is not None and len(subject) > SUBJECT_LIMIT:
        raise InvalidStateError(f"the subject is {len(subject)} characters; the limit is {SUBJECT_LIMIT}")
    campaign = Campaign(
        name=name,
        seller_name=seller_name.strip(),
        agent_name=agent_name,
        product=product,
        subject=subject,
        caller_id=_e164(caller_id, "caller ID"),
        callback_number=_e164(callback_number or caller_id, "callback number"),
        script=script,
        status=CampaignStatus.DRAFT,
        max_concurrent_calls=max_concurrent_calls,
        max_attempts=max_attempts,
        retry_delay_seconds=retry_delay_seconds,
        record_calls=record_calls,
        voice_agent=calls.voice_agent,
        max_call_seconds=calls.max_call_seconds,
        silence_timeout_seconds=calls.silence_timeout_seconds,
    )
    session.add(campaign)
    session.flush()
    record_event(
        session,
        kind="campaign.created",
        occurred_at=now,
        actor=actor,
        campaign_id=campaign.id,
        payload={
            "name": name,
            "seller_name": campaign.seller_name,
            "caller_id": campaign.caller_id,
            "max_concurrent_calls": max_concurrent_calls,
            "max_attempts": max_attempts,
            "record_calls": record_calls,
            "subject": subject,
            **dataclasses.asdict(calls),
        },
    )
    return campaign


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
