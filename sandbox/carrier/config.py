"""Settings of the sandbox carrier: credentials and the timing of the simulated telephone network."""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.speech_codec import DEFAULT_MS_PER_CHAR

SANDBOX_ACCOUNT_SID = "AC" + "5a" * 16
"""The account SID the sandbox accepts unless told otherwise (``AC`` + 32 hex digits)."""
SANDBOX_AUTH_TOKEN = "sandbox-auth-token"
"""The auth token the sandbox accepts, and signs webhooks with, unless told otherwise."""


@dataclass(frozen=True)
class CarrierConfig:
    """How the sandbox carrier authenticates, signs and times calls.

    Attributes:
        account_sid: the only account the REST API accepts (``AC`` + 32 hex digits); HTTP Basic user.
        auth_token: the HTTP Basic password, and the key every webhook and stream handshake is
            signed with (``X-Twilio-Signature``, HMAC-SHA1).
        ring_seconds: seconds a call rings before it is answered, or before it ends ``no-answer``.
        busy_seconds: seconds a busy line rings before it ends ``busy``.
        ms_per_char: speaking pace of prospects, in ms of audio per character of text.
        reply_delay_ms: ms a human prospect waits after the agent finishes before answering.
        amd_human_ms: ms after answer at which answering-machine detection reports ``human``.
        amd_machine_ms: ms after answer at which answering-machine detection reports ``machine_start``.
        max_call_seconds: seconds after answer at which the carrier hangs up any call.
        prospect_patience_seconds: seconds of silence from the agent after which an answered
            prospect (or a voicemail box) hangs up on its own.
        barge_in_clear_window_ms: a ``clear`` that arrives within this many ms of a prospect's
            barge-in counts as the app stopping its speech in time.
        webhook_timeout_seconds: timeout of every webhook request, in seconds.
        stream_open_timeout_seconds: timeout of the Media Streams WebSocket handshake, in seconds.
    """

    account_sid: str = SANDBOX_ACCOUNT_SID
    auth_token: str = SANDBOX_AUTH_TOKEN
    ring_seconds: float = 1.0
    busy_seconds: float = 0.2
    ms_per_char: float = DEFAULT_MS_PER_CHAR
    reply_delay_ms: int = 250
    amd_human_ms: int = 400
    amd_machine_ms: int = 900
    max_call_seconds: float = 180.0
    prospect_patience_seconds: float = 15.0
    barge_in_clear_window_ms: int = 1500
    webhook_timeout_seconds: float = 10.0
    stream_open_timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        """Reject settings that cannot describe a telephone network.

        Raises:
            ValueError: for an empty credential or a negative or zero duration.
        """
        if not self.account_sid or not self.auth_token:
            raise ValueError("account_sid and auth_token are required")
        if self.ms_per_char <= 0:
            raise ValueError("ms_per_char must be positive")
        non_negative = {
            "ring_seconds": self.ring_seconds,
            "busy_seconds": self.busy_seconds,
            "reply_delay_ms": self.reply_delay_ms,
            "amd_human_ms": self.amd_human_ms,
            "amd_machine_ms": self.amd_machine_ms,
            "barge_in_clear_window_ms": self.barge_in_clear_window_ms,
        }
        positive = {
            "max_call_seconds": self.max_call_seconds,
            "prospect_patience_seconds": self.prospect_patience_seconds,
            "webhook_timeout_seconds": self.webhook_timeout_seconds,
            "stream_open_timeout_seconds": self.stream_open_timeout_seconds,
        }
        for name, value in non_negative.items():
            if value < 0:
                raise ValueError(f"{name} must not be negative")
        for name, value in positive.items():
            if value <= 0:
                raise ValueError(f"{name} must be positive")
