"""What a call cost: each part by its billing rule, a campaign's spend per call and per meeting."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from dialer.calls.costs import CallFacts, call_cost, campaign_costs, openai_cost
from dialer.db import transaction
from dialer.models import AttemptStatus, Meeting
from dialer.prices import PriceTable
from tests.factories import SIGNED, create_attempt, create_campaign, create_lead

PRICES = PriceTable()


def _facts(**overrides: object) -> CallFacts:
    values: dict[str, object] = {
        "answered": True,
        "duration_seconds": 61,
        "recorded": False,
        "stream_seconds": 58.0,
        "voice_agent": "openai",
        "model": "gpt-realtime-2.1",
        "agent_usage": {},
    }
    return CallFacts(**(values | overrides))  # type: ignore[arg-type]


def test_an_unanswered_call_costs_nothing():
    cost = call_cost(_facts(answered=False, duration_seconds=0, stream_seconds=None), PRICES)
    assert cost.total == 0 and cost.unpriced == ()


def test_an_answered_call_pays_started_minutes_and_one_amd():
    cost = call_cost(_facts(duration_seconds=61, stream_seconds=58.0), PRICES)
    assert cost.carrier == Decimal("0.028")  # 61 s is two started minutes at $0.014
    assert cost.amd == Decimal("0.0075")
    assert cost.media_stream == Decimal("0.004")  # 58 s of stream: one minute
    assert cost.recording == 0
    short = call_cost(_facts(duration_seconds=0, stream_seconds=None), PRICES)
    assert short.carrier == Decimal("0.014")  # an answered call bills at least a minute


def test_recording_is_billed_only_on_recorded_campaigns():
    assert call_cost(_facts(recorded=True, duration_seconds=125), PRICES).recording == Decimal("0.0075")


def test_openai_tokens_are_priced_with_cached_input_at_the_cached_rates():
    usage = {
        "input_text_tokens": 1_000_000,
        "input_cached_text_tokens": 400_000,
        "input_audio_tokens": 100_000,
        "input_cached_audio_tokens": 0,
        "output_text_tokens": 10_000,
        "output_audio_tokens": 50_000,
    }
    # 600k text at $4 + 400k cached at $0.40 + 100k audio at $32 + 10k text out at $24 + 50k audio out at $64
    expected = Decimal("2.4") + Decimal("0.16") + Decimal("3.2") + Decimal("0.24") + Decimal("3.2")
    assert openai_cost(usage, "gpt-realtime-2.1", PRICES) == expected
    assert openai_cost(usage, "gpt-realtime-2.1-mini", PRICES) == Decimal("2.408")
    assert call_cost(_facts(agent_usage=usage), PRICES).agent == expected


def test_a_model_without_rates_is_named_not_silently_free():
    cost = call_cost(_facts(model="gpt-future", agent_usage={"output_audio_tokens": 1200}), PRICES)
    assert cost.agent == 0
    assert cost.unpriced == ("OpenAI model 'gpt-future' has no rates in DIALER_PRICES__OPENAI_MODELS",)


def test_assemblyai_is_billed_by_session_time_else_by_the_stream():
    by_session = call_cost(_facts(voice_agent="assemblyai", agent_usage={"session_ms": 120_000}), PRICES)
    assert by_session.agent == Decimal("0.15")  # two minutes at $4.50 an hour
    by_stream = call_cost(_facts(voice_agent="assemblyai", stream_seconds=60.0), PRICES)
    assert by_stream.agent == Decimal("0.075")


def test_rates_come_from_the_environment(monkeypatch):
    from dialer.settings import Settings

    monkeypatch.setenv("DIALER_PRICES__CARRIER_PER_MINUTE", "0.02")
    monkeypatch.setenv("DIALER_PRICES__ASSEMBLYAI_PER_HOUR", "6")
    prices = Settings().prices
    assert prices.carrier_per_minute == Decimal("0.02") and prices.assemblyai_per_hour == 6
    assert prices.amd_per_call == Decimal("0.0075")
    monkeypatch.setenv("DIALER_PRICES__AMD_PER_CALL", "-1")
    with pytest.raises(ValueError, match="amd_per_call"):
        Settings()


def test_a_campaigns_spend_per_call_and_per_meeting(runtime):
    with transaction(runtime.sessions) as session:
        campaign = create_campaign(session)
        for n, (answered, seconds, tokens) in enumerate([(True, 30, 1_200), (True, 90, 0), (False, None, 0)]):
            lead = create_lead(session, campaign, phone=f"+1312555{n:04d}")
            attempt = create_attempt(session, campaign, lead)
            attempt.call_sid = f"CA{n:032x}"
            attempt.status = AttemptStatus.COMPLETED if answered else AttemptStatus.NO_ANSWER
            attempt.answered_at = SIGNED if answered else None
            attempt.ended_at = SIGNED + timedelta(seconds=seconds or 0)
            attempt.stream_started_at = SIGNED if answered else None
            attempt.duration_seconds = seconds
            attempt.agent_usage = {"output_audio_tokens": tokens} if tokens else {}
            if n == 0:
                session.add(
                    Meeting(
                        campaign_id=campaign.id,
                        lead_id=lead.id,
                        attempt_id=attempt.id,
                        starts_at=SIGNED + timedelta(days=2),
                        lead_timezone="America/Chicago",
                        email="ana@example.com",
                        requested_text="Thursday at 10",
                    )
                )
        campaign_id = campaign.id
    with runtime.sessions() as session:
        spend = campaign_costs(session, campaign_id=campaign_id, settings=runtime.settings)
    carrier = Decimal("0.014") * 3  # 30 s: one minute; 90 s: two
    agent = Decimal(1_200) * Decimal(64) / Decimal(1_000_000)
    assert spend.calls == 3 and spend.meetings == 1
    assert spend.parts["carrier"] == carrier and spend.parts["amd"] == Decimal("0.015")
    assert spend.parts["agent"] == agent and spend.parts["media_stream"] == Decimal("0.004") * 3
    assert spend.total == carrier + Decimal("0.015") + agent + Decimal("0.012")
    assert spend.per_call == spend.total / 3 and spend.per_meeting == spend.total
