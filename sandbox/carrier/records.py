"""What the carrier knows about one call: the request, its state, and a log a user can inspect."""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandbox.carrier.cast import Casting
from sandbox.carrier.prospect import Prospect
from sandbox.carrier.rest_models import CallRequest

TERMINAL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
"""Call statuses after which nothing more happens on a call."""
UNANSWERED_STATUSES = frozenset({"queued", "ringing"})
"""Call statuses of a call nobody has answered yet (``Status=canceled`` ends only these)."""


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


@dataclass
class StreamStats:
    """The call's Media Stream as the carrier saw it.

    Attributes:
        stream_sid: ``MZ`` + 32 hex digits once the stream started, else None.
        url: the WebSocket URL dialled: as written in the TwiML, made absolute if it was relative.
        custom_parameters: the ``<Parameter>`` name/value pairs sent in ``start``.
        media_frames_sent: inbound ``media`` messages sent to the app (one per 20 ms).
        marks_echoed: ``mark`` messages echoed back to the app.
        clears_received: ``clear`` messages received from the app.
        stopped_by: ``"carrier"`` (a ``stop`` was sent), ``"app"`` (the app closed the socket),
            ``"rejected"`` (handshake refused) or None while running or never started.
    """

    stream_sid: str | None = None
    url: str | None = None
    custom_parameters: dict[str, str] = field(default_factory=dict)
    media_frames_sent: int = 0
    marks_echoed: int = 0
    clears_received: int = 0
    stopped_by: str | None = None


class CallRecord:
    """One call placed through the REST API, from ``queued`` to its terminal status."""

    def __init__(
        self, *, sid: str, account_sid: str, request: CallRequest, casting: Casting, prospect: Prospect
    ):
        """Register a new, queued call.

        Args:
            sid: ``CA`` + 32 hex digits.
            account_sid: the account that placed the call.
            request: the validated create request.
            casting: who answers the dialled number.
            prospect: the persona runtime that will speak on the call's Media Stream.
        """
        self.sid = sid
        self.account_sid = account_sid
        self.request = request
        self.casting = casting
        self.prospect = prospect
        self.status = "queued"
        self.answered_by: str | None = None
        self.created_at = utc_now()
        self.updated_at = self.created_at
        self.started_at: datetime | None = None
        self.answered_at: datetime | None = None
        self.ended_at: datetime | None = None
        self.end_reason: str | None = None
        self.stream = StreamStats()
        self.stream_url_query_violation = False
        self.violations: list[str] = []
        self.webhook_failures = 0
        self.webhook_responses: Counter[str] = Counter()
        self.events: list[dict[str, Any]] = []
        self._created_monotonic = time.monotonic()
        self._ended = asyncio.Event()

    @property
    def is_ended(self) -> bool:
        """True once the call reached a terminal status."""
        return self.status in TERMINAL_STATUSES

    @property
    def duration_seconds(self) -> int | None:
        """Whole seconds from answer to hang-up (rounded up); None if unanswered or still live."""
        if self.answered_at is None or self.ended_at is None:
            return None
        return max(1, math.ceil((self.ended_at - self.answered_at).total_seconds()))

    @property
    def voicemail_message_left(self) -> bool:
        """True when the agent's audio played to an answering machine."""
        return self.casting.persona.is_machine and self.prospect.agent_audio_ms > 0

    def log(self, kind: str, **details: Any) -> None:
        """Append to the call's event log, stamped with ms since the call was created."""
        elapsed_ms = round((time.monotonic() - self._created_monotonic) * 1000)
        self.events.append({"t_ms": elapsed_ms, "kind": kind, **details})

    def violation(self, detail: str) -> None:
        """Record that the app broke the Twilio protocol on this call."""
        self.violations.append(detail)
        self.log("protocol_violation", detail=detail)

    def ring(self) -> None:
        """The carrier dialled the number and it is ringing."""
        self.started_at = utc_now()
        self._set_status("ringing")

    def answer(self) -> None:
        """The far end picked up."""
        self.answered_at = utc_now()
        self._set_status("in-progress")

    def end(self, status: str, reason: str) -> bool:
        """Move the call to a terminal status, once; later calls change nothing.

        Args:
            status: one of :data:`TERMINAL_STATUSES`.
            reason: a short human-readable cause, e.g. ``"hung up via REST"``.

        Returns:
            True if this call ended the call, False if it had already ended.
        """
        if self.is_ended:
            return False
        self.ended_at = utc_now()
        self.end_reason = reason
        self._set_status(status)
        self.log("ended", status=status, reason=reason)
        self._ended.set()
        return True

    async def wait_ended(self, seconds: float | None = None) -> bool:
        """Wait up to ``seconds`` (forever if None) for the call to end; True if it has ended."""
        try:
            await asyncio.wait_for(self._ended.wait(), seconds)
        except TimeoutError:
            return False
        return True

    def as_admin_dict(self) -> dict[str, Any]:
        """The sandbox's JSON view of the call (``GET /sandbox/calls/{sid}``)."""
        return {
            "sid": self.sid,
            "to": self.request.to,
            "from": self.request.from_,
            "url": self.request.url,
            "persona": self.casting.persona.name,
            "unexpected": self.casting.unexpected,
            "status": self.status,
            "answered_by": self.answered_by,
            "created_at": self.created_at.isoformat(),
            "answered_at": self.answered_at.isoformat() if self.answered_at else None,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "duration_seconds": self.duration_seconds,
            "end_reason": self.end_reason,
            **self.prospect.as_dict(),
            "voicemail_message_left": self.voicemail_message_left,
            "stream_sid": self.stream.stream_sid,
            "stream_url": self.stream.url,
            "custom_parameters": self.stream.custom_parameters,
            "media_frames_sent": self.stream.media_frames_sent,
            "marks_echoed": self.stream.marks_echoed,
            "clears_received": self.stream.clears_received,
            "stream_stopped_by": self.stream.stopped_by,
            "violations": list(self.violations),
            "webhook_failures": self.webhook_failures,
            "webhook_responses": dict(self.webhook_responses),
            "events": list(self.events),
        }

    def _set_status(self, status: str) -> None:
        self.status = status
        self.updated_at = utc_now()
