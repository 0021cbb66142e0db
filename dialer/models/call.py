"""Gate decisions, call attempts and what was said on them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from dialer.db import Base, StrEnumColumn
from dialer.models._columns import Timestamped, utcnow
from dialer.models.enums import AttemptStatus, Speaker

# Attempts the carrier may still report on (ACTIVE_ATTEMPT_STATUSES less ``requesting``, which has
# no CallSid yet): the partial index the reconciler scans (migration 0006 spells the same list).
LIVE_ATTEMPTS_SQL = "status IN ('queued', 'ringing', 'in_progress')"


class GateDecisionRecord(Base):
    """A stored compliance decision: enough to replay it.

    Attributes:
        decided_at: the ``now`` the gate was evaluated at (UTC).
        allowed: whether the call could be placed.
        reasons: reason codes (``compliance.reasons.ReasonCode``), empty when allowed.
        warnings: warning codes that did not block, e.g. ``CONSENT_OLDER_THAN_18_MONTHS``.
        rule_data_version: ``Policy.version``: the policy, rule table and holiday data applied.
        trace: every rule checked, with its inputs, result and citation (``RuleCheck.to_dict``).
        facts: the facts the gate decided on (``CallFacts.to_dict``), so ``compliance.replay`` can
            reproduce the decision.
        next_allowed_at: earliest UTC instant the same facts pass, when only time rules or caps block.
    """

    __tablename__ = "gate_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    decided_at: Mapped[datetime]
    allowed: Mapped[bool]
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    warnings: Mapped[list[Any]] = mapped_column(default=list)
    rule_data_version: Mapped[str] = mapped_column(String(300), default="")
    trace: Mapped[list[Any]] = mapped_column(default=list)
    facts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    next_allowed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CallAttempt(Timestamped, Base):
    """One call placed (or being placed) to a lead. At most one carrier call per attempt.

    Attributes:
        attempt_number: 1 for the first call to the lead, 2 for the first retry, ...
        call_sid: the carrier's CallSid once known.
        answered_by: async AMD verdict (``human``, ``machine_start``, ``fax``, ``unknown``...).
        last_sequence_number: highest status-callback ``SequenceNumber`` applied (callbacks can
            arrive out of order).
        stream_token_hash: sha256 of the one-time media-stream token; cleared when used.
        disclosure_played_at: when Twilio echoed the mark after the disclosure audio (UTC).
        agent_usage: token counts reported by the voice agent (sums of ``response.done.usage``).
        agent_reconnects: times the voice-agent session was replaced after a fault mid-call.
        answer_to_first_audio_ms: the answer (the TwiML request) -> the agent's first audio, ms.
        greeting_to_first_audio_ms: the callee's completed greeting -> the agent's first audio,
            ms (the TSR 2-second rule's measure; definitions in :mod:`bridge.latency`).
        turn_latencies_ms: each answered caller turn's end -> the agent's first audio, ms, in order.
        tsr_abandoned: True when a live answer heard no agent audio within 2 s of the completed
            greeting (47 CFR 64.1200(a)(7)(i)); counted in the abandonment rate the gate reads.
            None until the bridge decided (no stream, or a call still before its deadline).
    """

    __tablename__ = "call_attempts"
    __table_args__ = (
        UniqueConstraint("lead_id", "attempt_number"),
        Index("ix_call_attempts_campaign_status", "campaign_id", "status"),
        # The gate's call history per number (dialer.dialing.gate._history) and abandonment rate.
        Index("ix_call_attempts_to_requested", "to_e164", "requested_at"),
        Index(
            "ix_call_attempts_campaign_answered",
            "campaign_id",
            "answered_at",
            postgresql_include=["answered_by", "ended_at", "stream_started_at", "tsr_abandoned"],
            postgresql_where=text("answered_at IS NOT NULL"),
            sqlite_where=text("answered_at IS NOT NULL"),
        ),
        # The reconciler's live calls gone silent, oldest first (dialer.calls.reconcile); migration 0006.
        Index(
            "ix_call_attempts_live_updated",
            "updated_at",
            postgresql_where=text(LIVE_ATTEMPTS_SQL),
            sqlite_where=text(LIVE_ATTEMPTS_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    gate_decision_id: Mapped[int] = mapped_column(ForeignKey("gate_decisions.id"))
    attempt_number: Mapped[int]
    status: Mapped[AttemptStatus] = mapped_column(
        StrEnumColumn(AttemptStatus, 20), default=AttemptStatus.REQUESTING
    )
    to_e164: Mapped[str] = mapped_column(String(20))
    from_e164: Mapped[str] = mapped_column(String(20))
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    answered_by: Mapped[str | None] = mapped_column(String(32))
    last_sequence_number: Mapped[int | None]
    stream_token_hash: Mapped[str | None] = mapped_column(String(64))
    stream_token_expires_at: Mapped[datetime | None]
    stream_sid: Mapped[str | None] = mapped_column(String(64))
    stream_started_at: Mapped[datetime | None]
    disclosure_played_at: Mapped[datetime | None]
    requested_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    duration_seconds: Mapped[int | None]
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    agent_usage: Mapped[dict[str, Any]] = mapped_column(default=dict)
    agent_reconnects: Mapped[int] = mapped_column(default=0, server_default="0")
    answer_to_first_audio_ms: Mapped[int | None]
    greeting_to_first_audio_ms: Mapped[int | None]
    turn_latencies_ms: Mapped[list[Any]] = mapped_column(default=list)
    tsr_abandoned: Mapped[bool | None]


class TranscriptTurn(Base):
    """One utterance on a call, as transcribed by the voice agent.

    ``text`` is the whole transcript; for an agent turn, ``heard_text`` is the part of it the
    caller heard (all of it unless ``interrupted``: a barge-in, an opt-out or the call's end cut
    its audio short; whole words, from the played position the Twilio marks gave). None for the
    caller's own turns and for turns recorded before it was kept (migration 0012).
    """

    __tablename__ = "transcript_turns"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("call_attempts.id", ondelete="CASCADE"), index=True)
    speaker: Mapped[Speaker] = mapped_column(StrEnumColumn(Speaker, 10))
    text: Mapped[str] = mapped_column(Text)
    interrupted: Mapped[bool] = mapped_column(default=False)
    heard_text: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime]
