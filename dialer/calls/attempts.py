"""Call attempts after the dial: carrier status and AMD callbacks, stream tokens, call context.

Every carrier callback is idempotent: a status callback applies only if it moves the attempt
strictly forward (so a replay, with or without ``SequenceNumber``, changes nothing) and never below
the last ``SequenceNumber`` applied; the terminal status is applied once; a repeated AMD verdict
changes nothing. The attempt is always found by the id in the callback URL and the CallSid must
match it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from compliance import Address
from compliance.jurisdiction import resolve_jurisdiction
from dialer.audit import record_attempt_event
from dialer.calls.capacity import release_after_commit
from dialer.calls.outcomes import attempt_dispositions, record_disposition, settle_lead, strongest
from dialer.db import lock_for_update
from dialer.errors import InvalidStateError, NotFoundError
from dialer.models import (
    AttemptStatus,
    CallAttempt,
    Campaign,
    DispositionName,
    DispositionSource,
    Lead,
)
from dialer.outbox import publish_call_completed

MACHINE_VERDICTS = frozenset(
    {"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"}
)
"""``AnsweredBy`` values that mean no human is on the line (PROTOCOLS B3)."""


def _locked_attempt(session: Session, attempt_id: int, call_sid: str | None) -> CallAttempt:
    attempt = session.scalars(
        lock_for_update(select(CallAttempt).where(CallAttempt.id == attempt_id), session)
    ).one_or_none()
    if attempt is None:
        raise NotFoundError(f"call attempt {attempt_id} does not exist")
    if call_sid is not None:
        if attempt.call_sid is None:
            attempt.call_sid = call_sid
        elif attempt.call_sid != call_sid:
            raise InvalidStateError(f"CallSid {call_sid} does not belong to attempt {attempt_id}")
    return attempt


@dataclass(frozen=True)
class CallStatusUpdate:
    """One call-progress callback, parsed.

    Attributes:
        call_sid: the callback's CallSid.
        status: the attempt status it maps to (:meth:`AttemptStatus.from_twilio`).
        sequence_number: Twilio's ``SequenceNumber`` (from 0), or None if absent.
        duration_seconds: ``CallDuration`` on the terminal callback.
        error_code: Twilio ``ErrorCode``, if any.
    """

    call_sid: str
    status: AttemptStatus
    sequence_number: int | None
    duration_seconds: int | None
    error_code: str | None = None


_SYSTEM_DISPOSITION = {
    AttemptStatus.BUSY: DispositionName.BUSY,
    AttemptStatus.NO_ANSWER: DispositionName.NO_ANSWER,
    AttemptStatus.FAILED: DispositionName.FAILED,
    AttemptStatus.CANCELED: DispositionName.CANCELED,
}


def apply_call_status(session: Session, *, attempt_id: int, update_: CallStatusUpdate, now: datetime) -> bool:
    """Apply one status callback; return False when it was stale or a repeat (nothing changed).

    A callback applies only when it moves the attempt strictly forward (``AttemptStatus.rank``):
    a replay, with or without its ``SequenceNumber``, or an older status arriving late is a no-op
    that writes nothing (no audit event, no timestamp). A ``SequenceNumber`` at or below the last
    one applied is refused as well (PROTOCOLS B4: callbacks can arrive out of order).

    Raises:
        NotFoundError: no such attempt.
        InvalidStateError: the CallSid belongs to another attempt.
    """
    attempt = _locked_attempt(session, attempt_id, update_.call_sid)
    if attempt.status.is_final:
        return False
    if (
        update_.sequence_number is not None
        and attempt.last_sequence_number is not None
        and update_.sequence_number <= attempt.last_sequence_number
    ):
        return False
    if update_.status.rank <= attempt.status.rank:
        return False
    if update_.sequence_number is not None:
        attempt.last_sequence_number = update_.sequence_number
    previous = attempt.status
    attempt.status = update_.status
    if update_.status == AttemptStatus.IN_PROGRESS and attempt.answered_at is None:
        attempt.answered_at = now
    record_attempt_event(
        session,
        attempt=attempt,
        kind="call.status",
        occurred_at=now,
        payload={
            "call_sid": attempt.call_sid,
            "from": previous,
            "to": update_.status,
            "sequence_number": update_.sequence_number,
            "duration_seconds": update_.duration_seconds,
            "error_code": update_.error_code,
        },
    )
    if update_.status.is_final:
        release_after_commit(session, campaign_id=attempt.campaign_id, attempt_id=attempt.id)
        attempt.ended_at = now
        attempt.duration_seconds = update_.duration_seconds
        attempt.error_code = update_.error_code or attempt.error_code
        _finish(session, attempt=attempt, now=now)
    return True


def _finish(session: Session, *, attempt: CallAttempt, now: datetime) -> None:
    """Record the system's disposition if the call produced none, settle the lead, publish the event."""
    lead = session.get_one(Lead, attempt.lead_id)
    campaign = session.get_one(Campaign, attempt.campaign_id)
    names = attempt_dispositions(session, attempt_id=attempt.id)
    if not names:
        name, notes = _system_outcome(attempt)
        record_disposition(
            session,
            lead=lead,
            attempt=attempt,
            name=name,
            source=DispositionSource.SYSTEM,
            now=now,
            notes=notes,
        )
        names.append(name)
    decisive = strongest(names)
    assert decisive is not None
    settle_lead(session, lead=lead, campaign=campaign, decisive=decisive, now=now)
    publish_call_completed(session, attempt=attempt, disposition=decisive, now=now)


def _system_outcome(attempt: CallAttempt) -> tuple[DispositionName, str]:
    if attempt.status in _SYSTEM_DISPOSITION:
        return _SYSTEM_DISPOSITION[attempt.status], f"carrier status {attempt.status}"
    if attempt.answered_by in MACHINE_VERDICTS:
        return DispositionName.MACHINE, f"AMD: {attempt.answered_by}"
    if attempt.stream_started_at is None:
        return DispositionName.AGENT_ERROR, "answered, but the media stream never connected to the agent"
    return DispositionName.NOT_NOW, "the call ended before an outcome was logged"


def apply_amd(session: Session, *, attempt_id: int, call_sid: str, answered_by: str, now: datetime) -> bool:
    """Store the async AMD verdict; return True when the call must be ended (a machine or fax).

    A machine verdict records the ``machine`` disposition at once; the caller hangs up, so no
    artificial-voice message is left (TUTORIAL_NOTES R6, R12).
    """
    attempt = _locked_attempt(session, attempt_id, call_sid)
    if attempt.answered_by is not None:
        return attempt.answered_by in MACHINE_VERDICTS and not attempt.status.is_final
    attempt.answered_by = answered_by
    record_attempt_event(
        session,
        attempt=attempt,
        kind="call.amd",
        occurred_at=now,
        payload={"call_sid": call_sid, "answered_by": answered_by},
    )
    if answered_by not in MACHINE_VERDICTS:
        return False
    lead = session.get_one(Lead, attempt.lead_id)
    record_disposition(
        session,
        lead=lead,
        attempt=attempt,
        name=DispositionName.MACHINE,
        source=DispositionSource.SYSTEM,
        now=now,
        notes=f"AMD: {answered_by}; hung up, no message",
    )
    return not attempt.status.is_final


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_stream_token(
    session: Session, *, attempt_id: int, call_sid: str, now: datetime, ttl_seconds: int
) -> str:
    """A fresh one-time token for the attempt's media stream (only its sha256 is stored).

    One stream per attempt, ever: once a stream was admitted, a replayed (even correctly signed)
    TwiML request gets no new token, so it cannot open a second bridge for the same call.

    Raises:
        NotFoundError: no such attempt.
        InvalidStateError: the CallSid does not match, the call already ended, or its stream
            already started.
    """
    attempt = _locked_attempt(session, attempt_id, call_sid)
    if attempt.status.is_final:
        raise InvalidStateError(f"attempt {attempt_id} has ended; no stream for it")
    if attempt.stream_started_at is not None:
        raise InvalidStateError(f"attempt {attempt_id} already has its media stream")
    token = secrets.token_urlsafe(32)
    attempt.stream_token_hash = _token_hash(token)
    attempt.stream_token_expires_at = now + timedelta(seconds=ttl_seconds)
    return token


def redeem_stream_token(
    session: Session, *, attempt_id: int, token: str, call_sid: str, stream_sid: str, now: datetime
) -> bool:
    """Consume the attempt's one-time stream token; True only for the first valid use.

    The comparison is constant-time and the token is cleared in the same UPDATE that checks it,
    so a replayed ``start`` message can never open a second bridge.
    """
    attempt = session.get(CallAttempt, attempt_id)
    if attempt is None or attempt.stream_token_hash is None or attempt.call_sid != call_sid:
        return False
    if not hmac.compare_digest(attempt.stream_token_hash, _token_hash(token)):
        return False
    result = session.execute(
        update(CallAttempt)
        .where(
            CallAttempt.id == attempt_id,
            CallAttempt.stream_token_hash == attempt.stream_token_hash,
            CallAttempt.stream_started_at.is_(None),
            CallAttempt.stream_token_expires_at > now,
        )
        .values(stream_token_hash=None, stream_sid=stream_sid, stream_started_at=now)
        .execution_options(synchronize_session=False)
    )
    ok = cast(CursorResult[Any], result).rowcount == 1
    if ok:
        record_attempt_event(
            session,
            attempt=attempt,
            kind="call.stream_started",
            occurred_at=now,
            payload={"call_sid": call_sid, "stream_sid": stream_sid},
        )
    return ok


@dataclass(frozen=True)
class CallContext:
    """What the bridge needs to run one call, read once when the stream starts.

    Attributes:
        lead_fields: the lead's script fields (first_name, company, title, ... and imported extras).
        lead_timezone: IANA zone used to interpret times the prospect says (the address's zone when
            it names exactly one, else the number's first).
        candidate_zones: every zone the lead may be in (CP-3).
        address: the lead's address, for checking callback times against the gate's time rules.
        voice_agent: the campaign's speech-to-speech backend; None: the ``voice_agent`` setting.
        silence_timeout_seconds: the campaign's silence timeout; None: the bridge's setting.
    """

    attempt_id: int
    lead_id: int
    campaign_id: int
    call_sid: str
    phone_e164: str
    seller_name: str
    agent_name: str
    product: str
    callback_number: str
    script: str
    record_calls: bool
    lead_fields: dict[str, Any]
    lead_timezone: str
    candidate_zones: tuple[str, ...]
    answered_by: str | None
    address: Address | None = None
    voice_agent: str | None = None
    silence_timeout_seconds: int | None = None


def load_call_context(session: Session, *, attempt_id: int) -> CallContext:
    """Read the attempt, its lead and campaign into a :class:`CallContext`.

    Raises:
        NotFoundError: no such attempt, or it has no CallSid yet.
        InvalidStateError: the lead's time zone cannot be resolved (the gate would have blocked).
    """
    attempt = session.get(CallAttempt, attempt_id)
    if attempt is None or attempt.call_sid is None:
        raise NotFoundError(f"call attempt {attempt_id} does not exist or has no CallSid yet")
    lead = session.get_one(Lead, attempt.lead_id)
    campaign = session.get_one(Campaign, attempt.campaign_id)
    fields = {k: v for k, v in (lead.fields or {}).items() if isinstance(v, str)}
    fields.update(
        {
            k: v
            for k, v in {
                "first_name": lead.first_name,
                "last_name": lead.last_name,
                "company": lead.company,
                "title": lead.title,
                "email": lead.email,
                "state": lead.state,
            }.items()
            if v
        }
    )
    address = Address(state=lead.state, zip=lead.zip) if lead.state or lead.zip else None
    jurisdiction = resolve_jurisdiction(lead.phone_e164, address)
    zones = jurisdiction.zones
    if not zones:
        raise InvalidStateError(f"lead {lead.id}: time zone unresolved")
    address_zones = list(jurisdiction.address_zones)
    return CallContext(
        attempt_id=attempt.id,
        lead_id=lead.id,
        campaign_id=campaign.id,
        call_sid=attempt.call_sid,
        phone_e164=lead.phone_e164,
        seller_name=campaign.seller_name,
        agent_name=campaign.agent_name,
        product=campaign.product,
        callback_number=campaign.callback_number,
        script=campaign.script,
        record_calls=campaign.record_calls,
        lead_fields=fields,
        lead_timezone=address_zones[0] if len(address_zones) == 1 else zones[0],
        candidate_zones=zones,
        answered_by=attempt.answered_by,
        address=address,
        voice_agent=campaign.voice_agent,
        silence_timeout_seconds=campaign.silence_timeout_seconds,
    )


def record_disclosure_played(session: Session, *, attempt_id: int, text: str, now: datetime) -> None:
    """Store that the disclosure finished playing (Twilio echoed the mark after it), with its text."""
    attempt = session.get_one(CallAttempt, attempt_id)
    if attempt.disclosure_played_at is not None:
        return
    attempt.disclosure_played_at = now
    record_attempt_event(
        session,
        attempt=attempt,
        kind="call.disclosure_played",
        occurred_at=now,
        payload={"text": text},
    )


def record_agent_usage(session: Session, *, attempt_id: int, usage: dict[str, int]) -> None:
    """Add token counts from the voice agent to the attempt's running totals."""
    attempt = session.get_one(CallAttempt, attempt_id)
    totals = dict(attempt.agent_usage or {})
    for key, value in usage.items():
        totals[key] = int(totals.get(key, 0)) + int(value)
    attempt.agent_usage = totals
