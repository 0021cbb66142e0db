"""Status and vocabulary enums, stored as strings, with explicit vendor mappers."""

from __future__ import annotations

from enum import StrEnum


class CampaignStatus(StrEnum):
    """Lifecycle of a campaign. Only ``running`` campaigns are dialed."""

    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    COMPLETED = "completed"


class LeadStatus(StrEnum):
    """Where a lead is in the dialing flow.

    ``pending`` leads are dialable once ``next_attempt_at`` has passed; ``waiting`` leads have a
    callback or retry due at ``next_attempt_at``; the last four are final.
    """

    PENDING = "pending"
    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    COMPLETED = "completed"
    BLOCKED = "blocked"
    DNC = "dnc"
    EXHAUSTED = "exhausted"

    @property
    def is_final(self) -> bool:
        """True when no further call will be placed to this lead in this campaign."""
        return self in FINAL_LEAD_STATUSES


FINAL_LEAD_STATUSES = frozenset(
    {LeadStatus.COMPLETED, LeadStatus.BLOCKED, LeadStatus.DNC, LeadStatus.EXHAUSTED}
)


class AttemptStatus(StrEnum):
    """State of one call attempt, following Twilio's call statuses.

    ``requesting`` is ours: the attempt exists and the REST request is being (or was) sent but no
    CallSid is known yet. ``unknown`` marks an attempt whose REST request may or may not have
    reached the carrier and for which reconciliation found no call: it is never re-sent.
    """

    REQUESTING = "requesting"
    QUEUED = "queued"
    RINGING = "ringing"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    CANCELED = "canceled"
    UNKNOWN = "unknown"

    @classmethod
    def from_twilio(cls, status: str) -> AttemptStatus:
        """Map a Twilio ``CallStatus`` (callback or Call resource) to an attempt status.

        ``initiated`` (callbacks only) maps to ``queued``.

        Raises:
            ValueError: for a status Twilio does not define.
        """
        mapping = {
            "queued": cls.QUEUED,
            "initiated": cls.QUEUED,
            "ringing": cls.RINGING,
            "in-progress": cls.IN_PROGRESS,
            "completed": cls.COMPLETED,
            "busy": cls.BUSY,
            "no-answer": cls.NO_ANSWER,
            "failed": cls.FAILED,
            "canceled": cls.CANCELED,
        }
        try:
            return mapping[status]
        except KeyError:
            raise ValueError(f"unknown Twilio call status {status!r}") from None

    @property
    def is_final(self) -> bool:
        """True once the call has ended (or can no longer be known to exist)."""
        return self in FINAL_ATTEMPT_STATUSES

    @property
    def rank(self) -> int:
        """Order of progress, so a late callback never moves an attempt backwards."""
        return _ATTEMPT_RANK[self]


FINAL_ATTEMPT_STATUSES = frozenset(
    {
        AttemptStatus.COMPLETED,
        AttemptStatus.BUSY,
        AttemptStatus.NO_ANSWER,
        AttemptStatus.FAILED,
        AttemptStatus.CANCELED,
        AttemptStatus.UNKNOWN,
    }
)
ACTIVE_ATTEMPT_STATUSES = frozenset(set(AttemptStatus) - FINAL_ATTEMPT_STATUSES)
_ATTEMPT_RANK = {
    AttemptStatus.REQUESTING: 0,
    AttemptStatus.QUEUED: 1,
    AttemptStatus.RINGING: 2,
    AttemptStatus.IN_PROGRESS: 3,
    **{status: 4 for status in FINAL_ATTEMPT_STATUSES},
}


class DispositionName(StrEnum):
    """The outcome vocabulary (DESIGN.md). ``AGENT_SETTABLE`` lists what the voice agent may log."""

    BOOKED = "booked"
    CALLBACK = "callback"
    NOT_INTERESTED = "not_interested"
    NOT_NOW = "not_now"
    WRONG_PERSON = "wrong_person"
    DNC = "dnc"
    MACHINE = "machine"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"
    CANCELED = "canceled"
    AGENT_ERROR = "agent_error"
    SKIPPED_COMPLIANCE = "skipped_compliance"


AGENT_SETTABLE_DISPOSITIONS = frozenset(
    {
        DispositionName.BOOKED,
        DispositionName.CALLBACK,
        DispositionName.NOT_INTERESTED,
        DispositionName.NOT_NOW,
        DispositionName.WRONG_PERSON,
        DispositionName.DNC,
    }
)


class DispositionSource(StrEnum):
    """Who recorded a disposition."""

    AGENT = "agent"
    SYSTEM = "system"


class ConsentType(StrEnum):
    """The kind of consent a record evidences. Only ``pewc`` permits an AI-voice sales call."""

    PEWC = "pewc"
    ORAL = "oral"
    EBR = "ebr"
    NONE = "none"


class ConsentMethod(StrEnum):
    """How a consent record came to be."""

    CSV_COLUMNS = "csv_columns"
    ATTESTATION = "attestation"


class CallbackStatus(StrEnum):
    """State of a requested callback."""

    PENDING = "pending"
    DONE = "done"
    CANCELED = "canceled"


class MeetingStatus(StrEnum):
    """State of a booked meeting."""

    BOOKED = "booked"
    CANCELED = "canceled"


class Speaker(StrEnum):
    """Who said a transcript turn."""

    AGENT = "agent"
    CALLER = "caller"
