"""A call's transcript for reps, behind a signed link (what the CRM and the webhooks point to).

Reps open transcripts from HubSpot or another tool that has no login to the dialer, so the link
is a capability, as the calendar feed is: ``/crm/calls/<attempt id>/transcript?sig=<hex>``, where
``sig`` is HMAC-SHA256 with ``DIALER_CRM__LINK_SECRET`` over ``"transcript:<attempt id>"``. A link
opens one call's transcript and no other; changing the secret revokes every link given out. The
``sig`` parameter never reaches the access log (:mod:`bridge.access_log`).
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialer.errors import NotFoundError
from dialer.models import CallAttempt, Campaign, Disposition, Lead, TranscriptTurn


def transcript_signature(secret: str, attempt_id: int) -> str:
    """The ``sig`` of attempt ``attempt_id``'s transcript link (hex HMAC-SHA256)."""
    return hmac.new(secret.encode(), f"transcript:{attempt_id}".encode(), hashlib.sha256).hexdigest()


def signature_matches(secret: str, attempt_id: int, sig: str) -> bool:
    """Whether ``sig`` is this attempt's link signature (compared in constant time)."""
    return hmac.compare_digest(transcript_signature(secret, attempt_id).encode(), sig.encode())


def render_transcript(session: Session, *, attempt_id: int) -> str:
    """The call as plain text: who and when, the dispositions, then every turn (``agent:``/``caller:``).

    Raises:
        NotFoundError: there is no such attempt.
    """
    attempt = session.get(CallAttempt, attempt_id)
    if attempt is None:
        raise NotFoundError(f"there is no call {attempt_id}")
    lead = session.get_one(Lead, attempt.lead_id)
    campaign = session.get_one(Campaign, attempt.campaign_id)
    name = " ".join(p for p in (lead.first_name, lead.last_name) if p) or lead.phone_e164
    dispositions = session.scalars(select(Disposition).where(Disposition.attempt_id == attempt_id)).all()
    turns = session.scalars(
        select(TranscriptTurn).where(TranscriptTurn.attempt_id == attempt_id).order_by(TranscriptTurn.id)
    ).all()
    said = ", ".join(f"{d.name} ({d.notes})" if d.notes else d.name for d in dispositions) or "-"
    answered, ended = attempt.answered_at or "-", attempt.ended_at or "-"
    lines = [
        f"Call {attempt_id} ({campaign.name}) to {name}, {attempt.to_e164}",
        f"Status: {attempt.status}; answered {answered}; ended {ended} (UTC)",
        f"Dispositions: {said}",
        "",
    ]
    for turn in turns:
        flag = " [interrupted]" if turn.interrupted else ""
        lines.append(f"{turn.occurred_at:%H:%M:%S} {turn.speaker}: {turn.text}{flag}")
    if not turns:
        lines.append("(nothing was said on this call)")
    return "\n".join(lines) + "\n"


AFTER_BOOKING = 2
"""Turns an excerpt keeps after the booking: the agent's confirmation, and a caller turn whose
transcription arrived after the tool call (speech-to-speech agents transcribe asynchronously)."""
