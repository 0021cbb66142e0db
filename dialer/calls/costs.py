"""What a call cost, estimated from its record and the price table (``Settings.prices``).

A call's cost has five parts, each in US dollars (``Decimal``, not rounded):

- ``carrier``: connectivity, per started minute of the answered call (``CallDuration``; Twilio
  bills whole minutes and no ring time; PROTOCOLS G);
- ``amd``: answering machine detection, once per answered call (every call asks for async AMD);
- ``recording``: per started minute, on campaigns that record;
- ``media_stream``: per started minute of the media stream (stream start to the call's end);
- ``agent``: OpenAI Realtime from the summed ``response.done.usage`` token counts at the model's
  rates (PROTOCOLS D8: cached input tokens are a subset, billed at the cached rates);
  AssemblyAI from the agent session's time (``session_ms``), else the stream's time, at the
  hourly rate.

These are estimates for planning and for comparing campaigns, not an invoice (see
:mod:`dialer.prices`). :func:`call_cost` is pure; :func:`campaign_costs` reads the database.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialer.calls.funnel import meetings_booked
from dialer.models import CallAttempt, Campaign
from dialer.prices import PriceTable
from dialer.settings import Settings

ZERO = Decimal(0)
_PER_MILLION = Decimal(1_000_000)
_MS_PER_HOUR = Decimal(3_600_000)

COMPONENTS = ("carrier", "amd", "recording", "media_stream", "agent")
"""The parts of a call's cost, in the order reports show them."""


@dataclass(frozen=True)
class CallFacts:
    """What a call's cost depends on, read off its attempt.

    Attributes:
        answered: the callee (person or machine) picked up.
        duration_seconds: the answered call's length (Twilio ``CallDuration``), None if unknown.
        recorded: the campaign records its calls.
        stream_seconds: the media stream's length (stream start to the call's end), None if no
            stream ran.
        voice_agent: the backend that spoke, ``"openai"`` or ``"assemblyai"``.
        model: the OpenAI Realtime model (priced by name), unused for AssemblyAI.
        agent_usage: the attempt's summed usage: OpenAI token counts (``input_text_tokens``,
            ``input_cached_text_tokens``, ``output_audio_tokens``, ...) and ``session_ms``.
    """

    answered: bool
    duration_seconds: int | None
    recorded: bool
    stream_seconds: float | None
    voice_agent: str
    model: str
    agent_usage: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CallCost:
    """One call's estimated cost by part, US dollars; ``unpriced`` names what had no rate."""

    carrier: Decimal = ZERO
    amd: Decimal = ZERO
    recording: Decimal = ZERO
    media_stream: Decimal = ZERO
    agent: Decimal = ZERO
    unpriced: tuple[str, ...] = ()

    @property
    def total(self) -> Decimal:
        """The sum of the parts."""
        return self.carrier + self.amd + self.recording + self.media_stream + self.agent

    def parts(self) -> dict[str, Decimal]:
        """``{component: dollars}`` in :data:`COMPONENTS` order."""
        return {name: getattr(self, name) for name in COMPONENTS}


def _started_minutes(seconds: float | None) -> int:
    return math.ceil(seconds / 60) if seconds and seconds > 0 else 0


def openai_cost(usage: Mapping[str, int], model: str, prices: PriceTable) -> Decimal | None:
    """Dollars for summed Realtime token counts at ``model``'s rates; None when it has no rates.

    ``cost = (text_in - cached_text)*p_ti + cached_text*p_tc + (audio_in - cached_audio)*p_ai
    + cached_audio*p_ac + text_out*p_to + audio_out*p_ao`` (PROTOCOLS G), per 1,000,000 tokens.
    """
    rates = prices.openai_models.get(model)
    if rates is None:
        return None
    text_in, audio_in = usage.get("input_text_tokens", 0), usage.get("input_audio_tokens", 0)
    cached_text = min(usage.get("input_cached_text_tokens", 0), text_in)
    cached_audio = min(usage.get("input_cached_audio_tokens", 0), audio_in)
    dollars = (
        (text_in - cached_text) * rates.text_in
        + cached_text * rates.text_cached
        + (audio_in - cached_audio) * rates.audio_in
        + cached_audio * rates.audio_cached
        + usage.get("output_text_tokens", 0) * rates.text_out
        + usage.get("output_audio_tokens", 0) * rates.audio_out
    )
    return dollars / _PER_MILLION


def _agent_cost(facts: CallFacts, prices: PriceTable) -> tuple[Decimal, tuple[str, ...]]:
    if facts.voice_agent == "assemblyai":
        session_ms = facts.agent_usage.get("session_ms")
        if session_ms is None and facts.stream_seconds:
            session_ms = round(facts.stream_seconds * 1000)
        return Decimal(session_ms or 0) * prices.assemblyai_per_hour / _MS_PER_HOUR, ()
    if not any(v for k, v in facts.agent_usage.items() if k.endswith("_tokens")):
        return ZERO, ()
    dollars = openai_cost(facts.agent_usage, facts.model, prices)
    if dollars is None:
        return ZERO, (f"OpenAI model {facts.model!r} has no rates in DIALER_PRICES__OPENAI_MODELS",)
    return dollars, ()


def call_cost(facts: CallFacts, prices: PriceTable) -> CallCost:
    """The estimated cost of one call by part (see the module docstring for each rule).

    An unanswered call costs nothing; an answered one costs at least one minute and the AMD.
    """
    agent, unpriced = _agent_cost(facts, prices)
    if not facts.answered:
        return CallCost(agent=agent, unpriced=unpriced)
    minutes = _started_minutes(facts.duration_seconds) or 1
    return CallCost(
        carrier=minutes * prices.carrier_per_minute,
        amd=prices.amd_per_call,
        recording=minutes * prices.recording_per_minute if facts.recorded else ZERO,
        media_stream=_started_minutes(facts.stream_seconds) * prices.media_stream_per_minute,
        agent=agent,
        unpriced=unpriced,
    )


def _seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max((end - start).total_seconds(), 0.0)


def attempt_facts(attempt: CallAttempt, campaign: Campaign, settings: Settings) -> CallFacts:
    """The cost facts of ``attempt`` (the backend: the campaign's, else the process setting)."""
    return CallFacts(
        answered=attempt.answered_at is not None,
        duration_seconds=attempt.duration_seconds,
        recorded=campaign.record_calls,
        stream_seconds=_seconds_between(attempt.stream_started_at, attempt.ended_at),
        voice_agent=campaign.voice_agent or settings.voice_agent,
        model=settings.openai.model,
        agent_usage=dict(attempt.agent_usage or {}),
    )


@dataclass(frozen=True)
class CampaignCosts:
    """A campaign's estimated spend, US dollars.

    Attributes:
        calls: calls placed (attempts with a CallSid).
        meetings: meetings booked.
        parts: dollars by component (:data:`COMPONENTS`).
        unpriced: notes on usage that had no rate (priced at 0).
    """

    calls: int
    meetings: int
    parts: dict[str, Decimal]
    unpriced: tuple[str, ...] = ()

    @property
    def total(self) -> Decimal:
        """All parts summed."""
        return sum(self.parts.values(), ZERO)

    @property
    def per_call(self) -> Decimal | None:
        """Spend per call placed; None before the first call."""
        return self.total / self.calls if self.calls else None

    @property
    def per_meeting(self) -> Decimal | None:
        """Spend per meeting booked (the whole campaign's spend); None before the first meeting."""
        return self.total / self.meetings if self.meetings else None


def campaign_costs(session: Session, *, campaign_id: int, settings: Settings) -> CampaignCosts:
    """Sum :func:`call_cost` over the campaign's placed calls; count its booked meetings."""
    campaign = session.get_one(Campaign, campaign_id)
    parts = dict.fromkeys(COMPONENTS, ZERO)
    unpriced: set[str] = set()
    calls = 0
    placed = select(CallAttempt).where(
        CallAttempt.campaign_id == campaign_id, CallAttempt.call_sid.is_not(None)
    )
    for attempt in session.scalars(placed):
        calls += 1
        cost = call_cost(attempt_facts(attempt, campaign, settings), settings.prices)
        for name, amount in cost.parts().items():
            parts[name] += amount
        unpriced.update(cost.unpriced)
    meetings = meetings_booked(session, campaign_id=campaign_id)
    return CampaignCosts(calls=calls, meetings=meetings, parts=parts, unpriced=tuple(sorted(unpriced)))


def dollars(value: Decimal | None) -> str:
    """``$0.1234`` (four decimals: per-call costs are cents), or ``-`` for None."""
    return "-" if value is None else f"${value:.4f}"


def usage_cost(session: Session, *, attempt_id: int, usage: Mapping[str, int], settings: Settings) -> Decimal:
    """Dollars of the agent usage ``usage`` on ``attempt_id``'s call (its backend's rates)."""
    attempt = session.get_one(CallAttempt, attempt_id)
    facts = attempt_facts(attempt, session.get_one(Campaign, attempt.campaign_id), settings)
    return _agent_cost(dataclasses.replace(facts, agent_usage=dict(usage)), settings.prices)[0]


def ended_call_cost(session: Session, *, attempt_id: int, settings: Settings) -> CallCost | None:
    """The cost of ``attempt_id``'s call once it has ended (None while it is live), agent excluded.

    The agent's part is counted when the bridge records its usage (:func:`usage_cost`), which
    can come before or after the call's final status callback.
    """
    attempt = session.get_one(CallAttempt, attempt_id)
    if not attempt.status.is_final:
        return None
    facts = attempt_facts(attempt, session.get_one(Campaign, attempt.campaign_id), settings)
    return call_cost(dataclasses.replace(facts, agent_usage={}), settings.prices)
