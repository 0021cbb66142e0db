"""What one dial writes: the refused lead's next state, or the attempt and its carrier request.

The dial step (:mod:`dialer.dialing.dial`) calls these inside its transaction, with the lead row
locked and the gate's decision made at that instant (DESIGN rule 2).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from compliance import Decision
from dialer.audit import record_attempt_event
from dialer.calls.carrier import PlaceCallRequest
from dialer.calls.outcomes import lead_state_after, record_disposition
from dialer.models import (
    AttemptStatus,
    CallAttempt,
    Campaign,
    DispositionName,
    DispositionSource,
    Lead,
    LeadStatus,
)

if TYPE_CHECKING:
    from dialer.runtime import Runtime  # which builds the dial's capacity: imported for types only


def skip_blocked(
    session: Session, lead: Lead, campaign: Campaign, decision: Decision, decision_id: int, now: datetime
) -> None:
    """The gate refused: record ``skipped_compliance`` and move the lead to its next state."""
    record_disposition(
        session,
        lead=lead,
        name=DispositionName.SKIPPED_COMPLIANCE,
        source=DispositionSource.SYSTEM,
        now=now,
        notes=", ".join(str(r) for r in decision.reason_codes),
        gate_decision_id=decision_id,
    )
    lead.status, lead.next_attempt_at = lead_state_after(
        DispositionName.SKIPPED_COMPLIANCE,
        attempt_count=lead.attempt_count,
        max_attempts=campaign.max_attempts,
        retry_delay_seconds=campaign.retry_delay_seconds,
        now=now,
        next_allowed_at=decision.next_allowed_at,
    )
    lead.queued_at = None


def create_attempt(
    session: Session, lead: Lead, campaign: Campaign, decision_id: int, now: datetime
) -> CallAttempt:
    """The lead's next attempt, ``requesting``, with its audit event; the lead is ``in_progress``."""
    attempt = CallAttempt(
        campaign_id=campaign.id,
        lead_id=lead.id,
        gate_decision_id=decision_id,
        attempt_number=lead.attempt_count + 1,
        status=AttemptStatus.REQUESTING,
        to_e164=lead.phone_e164,
        from_e164=campaign.caller_id,
        requested_at=now,
    )
    session.add(attempt)
    # Only the attempt (for its id): the decision's audit event waits to be inserted in one
    # statement with the attempt's at commit.
    session.flush([attempt])
    lead.attempt_count += 1
    lead.status = LeadStatus.IN_PROGRESS
    lead.queued_at = None
    record_attempt_event(
        session,
        attempt=attempt,
        kind="call.attempt_created",
        occurred_at=now,
        payload={
            "attempt_number": attempt.attempt_number,
            "gate_decision_id": decision_id,
            "to": attempt.to_e164,
            "from": attempt.from_e164,
        },
    )
    return attempt


def call_request(runtime: Runtime, attempt: CallAttempt, campaign: Campaign) -> PlaceCallRequest:
    """The carrier request for ``attempt``: webhooks naming it, async AMD, the campaign's limits."""
    settings = runtime.settings
    return PlaceCallRequest(
        to=attempt.to_e164,
        from_=attempt.from_e164,
        twiml_url=runtime.webhook_url("/twilio/voice", attempt=attempt.id),
        status_callback_url=runtime.webhook_url("/twilio/status", attempt=attempt.id),
        amd_callback_url=runtime.webhook_url("/twilio/amd", attempt=attempt.id),
        record=campaign.record_calls,
        ring_timeout_seconds=settings.ring_timeout_seconds,
        machine_detection_timeout_seconds=settings.machine_detection_timeout_seconds,
        # The campaign's own limit, capped by the setting the live-call leases are sized for.
        time_limit_seconds=min(
            campaign.max_call_seconds or settings.call_time_limit_seconds, settings.call_time_limit_seconds
        ),
    )
