"""One settings object for every process (API, worker, beat, CLI).

Values come from ``DIALER_``-prefixed environment variables and an optional ``.env`` file. The
defaults run anywhere with nothing else installed: a SQLite file, Celery's filesystem broker, the
sandbox carrier (a Twilio-compatible stand-in) and the sandbox voice agent; the broker is
Celery's filesystem transport (``localfs://``) (a Realtime-protocol
stand-in). Real Postgres, Redis, Twilio and OpenAI are a matter of configuration::

    DIALER_ENVIRONMENT=production
    DIALER_DATABASE_URL=postgresql+psycopg://dialer@db/dialer
    DIALER_BROKER_URL=redis://redis:6379/0
    DIALER_REDIS_URL=redis://redis:6379/1
    DIALER_PUBLIC_URL=https://dialer.example.com
    DIALER_TWILIO_ACCOUNT_SID=AC...
    DIALER_TWILIO_AUTH_TOKEN=...
    DIALER_OPENAI__API_KEY=sk-...

In production, placeholder or missing secrets, sandbox endpoints, a sandbox clock, SQLite, the
filesystem broker and a non-HTTPS public URL are refused when the settings are built.
"""

from __future__ import annotations

import os
import re
import tempfile
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dialer.crm_settings import CrmSettings
from dialer.errors import ConfigurationError
from dialer.prices import PriceTable

SANDBOX_ACCOUNT_SID = "AC" + "5a" * 16
"""Account SID the sandbox carrier accepts by default (a placeholder: refused in production)."""
SANDBOX_AUTH_TOKEN = "sandbox-auth-token"
"""Auth token shared with the sandbox carrier by default (a placeholder: refused in production)."""
SANDBOX_OPENAI_KEY = "sandbox-openai-key"
"""API key the sandbox agent accepts by default (a placeholder: refused in production)."""
SANDBOX_ASSEMBLYAI_KEY = SANDBOX_OPENAI_KEY
"""The sandbox agent serves both protocols with one key; refused in production like the other."""
ASSEMBLYAI_URL = "wss://agents.assemblyai.com/v1/ws"
"""AssemblyAI's Voice Agent WebSocket (PROTOCOLS E1; its Twilio example uses ``/v1/realtime``, E4)."""

_PLACEHOLDERS = {
    "",
    "changeme",
    "change-me",
    "changethis",
    "secret",
    "placeholder",
    "xxx",
    "todo",
    SANDBOX_ACCOUNT_SID.lower(),
    SANDBOX_AUTH_TOKEN,
    SANDBOX_OPENAI_KEY,
}


class BridgeParams(BaseModel):
    """Tuning for the media bridge (``DIALER_BRIDGE__<FIELD>``).

    Attributes:
        greeting_waits_for_amd: hold the agent's first words until async AMD reports a human (or
            ``unknown``), so that an answering machine never records a message. Turning it off
            lets the agent greet at once: a late machine verdict then finds a message under way.
        amd_wait_max_ms: longest hold for the AMD verdict, in ms. With no verdict by then (and none
            on the carrier's Call resource) the call is hung up without a word (``agent_error``,
            retried); the agent never greets an answerer nobody classified. Keep it above
            ``machine_detection_timeout_seconds`` so that Twilio's own ``unknown`` comes first.
        goodbye_timeout_ms: longest wait for the goodbye's mark echo before hanging up, in ms.
        tool_timeout_ms: budget for one tool call, in ms; past it the model gets an error result.
        vad_threshold: server VAD activation threshold (0-1) sent to the voice agent.
        vad_silence_ms: silence that ends a caller turn, in ms.
        vad_prefix_padding_ms: audio kept before detected speech, in ms.
        idle_hangup_ms: hang up after this long with neither side speaking, in ms.
        agent_send_timeout_ms: longest wait for one send to the voice agent, in ms; a socket
            slower than that (the agent stopped reading) is dropped and the session replaced once
            (:mod:`bridge.reconnect`).
        agent_preopen_timeout_ms: how long an agent session opened during the TwiML request waits
            for the call's media stream before it is closed, in ms (``bridge.preopen``).
    """

    greeting_waits_for_amd: bool = True
    amd_wait_max_ms: int = Field(default=33000, ge=0, le=65000)
    goodbye_timeout_ms: int = Field(default=15000, ge=500)
    tool_timeout_ms: int = Field(default=3000, ge=100)
    vad_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    vad_silence_ms: int = Field(default=500, ge=100)
    vad_prefix_padding_ms: int = Field(default=300, ge=0)
    idle_hangup_ms: int = Field(default=30000, ge=1000)
    agent_send_timeout_ms: int = Field(default=2000, ge=50)
    agent_preopen_timeout_ms: int = Field(default=15000, ge=1000)


def _absolute_url(value: str | None) -> str | None:
    """An absolute URL without its trailing slash; None for an empty value ("not set")."""
    if value is None or not value.strip():
        return None  # an empty variable means "not set" (e.g. no sandbox in production)
    parts = urlsplit(value)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"{value!r} is not an absolute URL")
    return value.rstrip("/")


VoiceAgentName = Literal["openai", "assemblyai"]
"""The speech-to-speech backends there are (``bridge.agents.VOICE_AGENTS`` builds each)."""
VOICE_AGENT_NAMES: tuple[str, ...] = get_args(VoiceAgentName)


class OpenAISettings(BaseModel):
    """The OpenAI Realtime GA backend (``voice_agent = "openai"``), ``DIALER_OPENAI__<FIELD>``.

    Attributes:
        api_key: the OpenAI API key (``DIALER_OPENAI__API_KEY``).
        model: the Realtime model, e.g. ``gpt-realtime-2.1``.
        voice: the voice every session speaks with, e.g. ``marin``.
        websocket_base_url: the sandbox agent's ``ws://host:port/v1``; unset (empty) for OpenAI.
    """

    api_key: SecretStr = SecretStr(SANDBOX_OPENAI_KEY)
    model: str = "gpt-realtime-2.1"
    voice: str = "marin"
    websocket_base_url: str | None = "ws://127.0.0.1:8765/v1"

    @field_validator("websocket_base_url")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        return _absolute_url(value)

    def production_problems(self) -> list[str]:
        """What production refuses in these settings (placeholder key, sandbox endpoint)."""
        problems: list[str] = []
        if _is_placeholder(self.api_key.get_secret_value()):
            problems.append("DIALER_OPENAI__API_KEY is missing or a placeholder")
        if self.websocket_base_url is not None:
            problems.append("DIALER_OPENAI__WEBSOCKET_BASE_URL points at a sandbox; unset it in production")
        return problems


class AssemblyAISettings(BaseModel):
    """The AssemblyAI Voice Agent backend (``voice_agent = "assemblyai"``), ``DIALER_ASSEMBLYAI__<FIELD>``.

    Attributes:
        api_key: the AssemblyAI API key, sent as ``Authorization: Bearer`` (``DIALER_ASSEMBLYAI__API_KEY``).
        url: the Voice Agent WebSocket: the sandbox agent's ``ws://host:port/v1/ws`` by default,
            :data:`ASSEMBLYAI_URL` in production.
        voice: a catalog voice id, lowercase (``ivy``, ``anna``...; lists change, PROTOCOLS E4).
    """

    api_key: SecretStr = SecretStr(SANDBOX_ASSEMBLYAI_KEY)
    url: str = "ws://127.0.0.1:8765/v1/ws"
    voice: str = "ivy"

    @field_validator("url")
    @classmethod
    def _websocket_url(cls, value: str) -> str:
        url = _absolute_url(value)
        if url is None or urlsplit(url).scheme not in ("ws", "wss"):
            raise ValueError(f"{value!r} is not a ws:// or wss:// URL")
        return url

    @field_validator("voice")
    @classmethod
    def _voice_id(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9_-]*", value):
            raise ValueError(f"{value!r} is not a voice id (lowercase, case-sensitive, e.g. 'ivy')")
        return value

    def production_problems(self) -> list[str]:
        """What production refuses in these settings (placeholder key, plain-text or local endpoint)."""
        problems: list[str] = []
        if _is_placeholder(self.api_key.get_secret_value()):
            problems.append("DIALER_ASSEMBLYAI__API_KEY is missing or a placeholder")
        parts = urlsplit(self.url)
        if parts.scheme != "wss" or parts.hostname in ("127.0.0.1", "localhost", "::1"):
            problems.append(f"DIALER_ASSEMBLYAI__URL points at a sandbox; use {ASSEMBLYAI_URL} in production")
        return problems


class Settings(BaseSettings):
    """Every setting of the product. See the module docstring for the production checklist.

    Units: durations in seconds unless the name ends in ``_ms``; URLs absolute; E.164 numbers.
    """

    model_config = SettingsConfigDict(
        env_prefix="DIALER_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="__",
        extra="ignore",
    )

    environment: Literal["development", "production"] = "development"

    # Storage and queues.
    database_url: str = "sqlite:///./.dialer/dialer.db"
    broker_url: str = "localfs://"
    broker_dir: Path = Path("./.dialer/broker")
    # Celery beat's schedule state (last run of the tick); see beat_schedule_path.
    beat_schedule_file: Path | None = None
    dnc_dir: Path = Path("./.dialer/dnc")  # national/state DNC registry files (dialer.registry.store)
    redis_url: str | None = None
    tick_interval_seconds: float = Field(default=2.0, gt=0)
    requeue_after_seconds: float = Field(default=120.0, gt=0)
    # Reconciliation with the carrier (dialer.calls.reconcile), run by every tick.
    reconcile_requesting_after_seconds: float = Field(
        default=60.0, gt=0, description="a REST request with no outcome after this long is looked up"
    )
    reconcile_silent_after_seconds: float = Field(
        default=60.0, gt=0, description="a live call not heard from for this long is fetched from the carrier"
    )
    reconcile_batch_size: int = Field(default=50, ge=1, description="carrier look-ups per tick, at most")

    # Where the carrier reaches us (webhooks and the media stream are built from it).
    public_url: str = "http://127.0.0.1:8000"
    api_host: str = "127.0.0.1"
    api_port: int = 8000

    # Carrier (Twilio REST).
    twilio_account_sid: str = SANDBOX_ACCOUNT_SID
    twilio_auth_token: SecretStr = SecretStr(SANDBOX_AUTH_TOKEN)
    twilio_api_base_url: str | None = "http://127.0.0.1:8766"
    dial_cps: float = Field(default=1.0, gt=0, description="outbound calls per second for the account")
    # Dial capacity (dialer.calls.capacity); per-campaign concurrency is Campaign.max_concurrent_calls.
    caller_id_cps: float | None = Field(default=None, gt=0, description="calls per second per caller ID")
    max_concurrent_calls_total: int | None = Field(
        default=None, ge=1, description="live calls, all campaigns"
    )
    pacing_margin_ms: int = Field(default=50, ge=0, le=1000)  # added to the 1 s CPS window (request jitter)
    slot_wait_seconds: float = Field(default=10.0, gt=0)  # longest wait for a slot; then the lead goes back
    slot_hold_seconds: float = Field(default=30.0, gt=0)  # longest time from slot to request; then not sent
    dial_batch_size: int = Field(default=50, ge=1, le=1000)  # most leads one dial_batch task decides at once
    lease_seconds: int | None = Field(default=None, ge=10)  # a live call's lease; default ring + limit + 60 s
    capacity_key_prefix: str = "dialer"  # Redis namespace of the CPS windows and leases
    ring_timeout_seconds: int = Field(default=30, ge=15, le=600)
    machine_detection_timeout_seconds: int = Field(default=30, ge=3, le=59)
    call_time_limit_seconds: int = Field(default=900, ge=60, le=14400)

    # Voice agent: the backend (bridge.agents builds it) and each backend's own settings.
    voice_agent: VoiceAgentName = "openai"
    openai: OpenAISettings = OpenAISettings()
    assemblyai: AssemblyAISettings = AssemblyAISettings()

    bridge: BridgeParams = BridgeParams()
    # What calls cost (dialer.calls.costs estimates each call from these rates), DIALER_PRICES__*.
    prices: PriceTable = PriceTable()
    stream_token_ttl_seconds: int = Field(default=120, ge=10)

    # CRM sync and webhooks through the outbox (dialer.crm_settings), DIALER_CRM__*.
    crm: CrmSettings = CrmSettings()

    # Reps' calendar feed (GET /crm/calendar.ics?token=...); disabled while unset.
    calendar_feed_token: SecretStr | None = None

    # Sandbox clock: only for rehearsals against the sandbox carrier, never in production.
    sandbox_clock_start: datetime | None = None
    sandbox_clock_anchor: datetime | None = None

    @field_validator("public_url", "twilio_api_base_url")
    @classmethod
    def _absolute_urls(cls, value: str | None) -> str | None:
        return _absolute_url(value)

    @field_validator("sandbox_clock_start", "sandbox_clock_anchor")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a UTC offset, e.g. 2026-11-23T11:00:00-06:00")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if (self.sandbox_clock_start is None) != (self.sandbox_clock_anchor is None):
            raise ValueError("sandbox_clock_start and sandbox_clock_anchor are set together")
        if self.sandbox_clock_start is not None and self.twilio_api_base_url is None:
            raise ValueError("a sandbox clock is only allowed against the sandbox carrier")
        if self.environment == "production":
            self._refuse_unsafe_production()
        return self

    def _refuse_unsafe_production(self) -> None:
        problems: list[str] = []
        if not re.fullmatch(r"AC[0-9a-f]{32}", self.twilio_account_sid) or _is_placeholder(
            self.twilio_account_sid
        ):
            problems.append("DIALER_TWILIO_ACCOUNT_SID is missing or a placeholder")
        if _is_placeholder(self.twilio_auth_token.get_secret_value()):
            problems.append("DIALER_TWILIO_AUTH_TOKEN is missing or a placeholder")
        if self.twilio_api_base_url is not None:
            problems.append("DIALER_TWILIO_API_BASE_URL points at a sandbox; unset it in production")
        problems.extend(self.voice_agent_settings().production_problems())
        problems.extend(self.crm.production_problems())
        if self.sandbox_clock_start is not None:
            problems.append("a sandbox clock is set; production uses the system clock")
        feed = self.calendar_feed_token
        if feed is not None and (
            len(feed.get_secret_value()) < 24 or _is_placeholder(feed.get_secret_value())
        ):
            problems.append("DIALER_CALENDAR_FEED_TOKEN must be a random secret of 24+ characters")
        if urlsplit(self.public_url).scheme != "https":
            problems.append("DIALER_PUBLIC_URL must be https:// (Twilio requires TLS for wss streams)")
        if self.database_url.startswith("sqlite"):
            problems.append("DIALER_DATABASE_URL is SQLite; production needs PostgreSQL")
        if self.broker_url.startswith(("localfs", "filesystem")):
            problems.append("DIALER_BROKER_URL is the embedded filesystem broker; production needs Redis")
        if problems:
            raise ValueError("refused in production: " + "; ".join(problems))

    def voice_agent_settings(self) -> OpenAISettings | AssemblyAISettings:
        """The settings of the chosen backend (``voice_agent``): ``openai`` -> :attr:`openai`, ..."""
        backends: dict[str, OpenAISettings | AssemblyAISettings] = {
            "openai": self.openai,
            "assemblyai": self.assemblyai,
        }
        return backends[self.voice_agent]

    @property
    def beat_schedule_path(self) -> Path:
        """Where ``celery beat`` keeps its schedule (a shelve file; beat also writes ``<path>.*`` files).

        ``DIALER_BEAT_SCHEDULE_FILE`` when set; else beside the embedded broker's folder (which must be
        writable anyway) for ``localfs://``; else a per-user file in the system temp folder, so that
        beat never writes into its working directory (in the image, ``/app`` is read-only to it).
        Losing it only means the 2 s tick fires once at start.
        """
        if self.beat_schedule_file is not None:
            return self.beat_schedule_file.resolve()
        if self.broker_url.startswith(("localfs", "filesystem")):
            return self.broker_dir.resolve() / "celerybeat-schedule"
        return Path(tempfile.gettempdir()) / f"dialer-celerybeat-schedule-{os.getuid()}"

    @property
    def is_sandbox_carrier(self) -> bool:
        """True when REST calls go to a sandbox carrier instead of api.twilio.com."""
        return self.twilio_api_base_url is not None

    @property
    def media_stream_url(self) -> str:
        """The ``wss://`` (or ``ws://`` for a local sandbox) URL of the media WebSocket."""
        parts = urlsplit(self.public_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return f"{scheme}://{parts.netloc}{parts.path}/twilio/media"


def _is_placeholder(value: str) -> bool:
    return value.strip().lower() in _PLACEHOLDERS or value.strip().lower().startswith("sandbox")


RENAMED_VARIABLES = {
    "DIALER_OPENAI_API_KEY": "DIALER_OPENAI__API_KEY",
    "DIALER_OPENAI_REALTIME_MODEL": "DIALER_OPENAI__MODEL",
    "DIALER_OPENAI_VOICE": "DIALER_OPENAI__VOICE",
    "DIALER_OPENAI_WEBSOCKET_BASE_URL": "DIALER_OPENAI__WEBSOCKET_BASE_URL",
}
"""Old variable -> its new name: set, it is refused rather than silently ignored."""


def _renamed_in_use(env_file: object) -> list[str]:
    names = set(os.environ)
    if isinstance(env_file, str | Path) and Path(env_file).is_file():
        names |= set(dotenv_values(env_file))
    return [f"{old} is now {new}" for old, new in RENAMED_VARIABLES.items() if old in names]


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment (and ``.env``), applying ``overrides`` last.

    Raises:
        ConfigurationError: the settings are invalid or unsafe for their environment, or a
            renamed variable (:data:`RENAMED_VARIABLES`) is set; the message lists every problem.
    """
    renamed = _renamed_in_use(overrides.get("_env_file", ".env"))
    if renamed:
        raise ConfigurationError(f"invalid settings: {'; '.join(renamed)}")
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigurationError(f"invalid settings: {problems}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, built once on first use (see :func:`load_settings`)."""
    return load_settings()
