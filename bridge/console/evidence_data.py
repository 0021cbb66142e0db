"""What the evidence page of one call attempt shows, gathered from where each fact is stored.

- the gate decision and its trace: ``gate_decisions`` (the row the attempt was dialed on);
- consent records with their evidence, revocations and DNC entries of the number: the consent
  ledger (:func:`dialer.consent.consent_ledger`, the same view as ``dialer consent show``);
- the disclosure-played instant, answer and end, latencies and TSR abandonment: ``call_attempts``;
- the transcript and what the caller heard of each agent turn: ``transcript_turns``
  (:func:`dialer.calls.transcripts.transcript_of`);
- dispositions: ``dispositions``; the attempt's audit events: ``audit_events`` by ``attempt_id``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from dialer.audit import AuditFilter, iter_events
from dialer.calls.transcripts import transcript_of
from dialer.consent import consent_ledger
from dialer.consent.ledger import ConsentLedger
from dialer.errors import NotFoundError
from dialer.models import (
    CallAttempt,
    Campaign,
    Disposition,
    DncEntry,
    GateDecisionRecord,
    Lead,
    TranscriptTurn,
)

MAX_EVENTS = 200
"""Most audit events listed on the page (the audit log, filtered by attempt, has them all)."""


@dataclass(frozen=True)
class AttemptEvidence:
    """Everything an auditor checks about one call.

    Attributes:
        dnc_entries: internal DNC entries this call recorded (an opt-out on the call).
        events: the attempt's audit events in id order, at most :data:`MAX_EVENTS`.
        more_events: True when the attempt has more events than listed.
    """

    attempt: CallAttempt
    lead: Lead
    campaign: Campaign
    decision: GateDecisionRecord
    ledger: ConsentLedger
    turns: list[TranscriptTurn]
    dispositions: list[Disposition]
    dnc_entries: list[DncEntry]
    events: list[Row[Any]]
    more_events: bool


def attempt_evidence(session: Session, *, attempt_id: int) -> AttemptEvidence:
    """The evidence of attempt ``attempt_id``, read in the caller's session.

    Raises:
        NotFoundError: there is no such attempt (404).
    """
    attempt = session.get(CallAttempt, attempt_id)
    if attempt is None:
        raise NotFoundError(f"there is no call attempt {attempt_id}")
    events: list[Row[Any]] = []
    for event in iter_events(session, matching=AuditFilter(attempt_id=attempt_id)):
        events.append(event)
        if len(events) > MAX_EVENTS:
            break
    return AttemptEvidence(
        attempt=attempt,
        lead=session.get_one(Lead, attempt.lead_id),
        campaign=session.get_one(Campaign, attempt.campaign_id),
        decision=session.get_one(GateDecisionRecord, attempt.gate_decision_id),
        ledger=consent_ledger(session, attempt.to_e164),
        turns=transcript_of(session, attempt_id=attempt_id),
        dispositions=list(
            session.scalars(
                select(Disposition).where(Disposition.attempt_id == attempt_id).order_by(Disposition.id)
            )
        ),
        dnc_entries=list(
            session.scalars(select(DncEntry).where(DncEntry.attempt_id == attempt_id).order_by(DncEntry.id))
        ),
        events=events[:MAX_EVENTS],
        more_events=len(events) > MAX_EVENTS,
    )
