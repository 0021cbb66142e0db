"""A campaign's own call settings: voice agent, longest call, silence timeout (issue 9 items 1, 5)."""

from __future__ import annotations

import pytest

from bridge.state import BridgeState
from dialer.campaigns import CallSettings
from dialer.db import transaction
from dialer.dialing import DialResult, claim_dialable_leads, dial_lead
from dialer.errors import ConfigurationError, InvalidStateError
from tests.dialer.test_dialing import REQUEUE
from tests.factories import create_campaign, create_lead
from tests.fakes.agent import FakeVoiceAgent


def _dial(runtime, **campaign) -> int:
    with transaction(runtime.sessions) as s:
        lead = create_lead(s, create_campaign(s, **campaign), phone="+13125550101")
    with transaction(runtime.sessions) as s:
        claim_dialable_leads(s, now=runtime.clock.now(), requeue_after=REQUEUE)
    assert dial_lead(runtime, lead_id=lead.id) == DialResult.PLACED
    return lead.id


@pytest.mark.parametrize(("campaign_limit", "sent"), [(None, 900), (300, 300), (3600, 900)])
def test_the_longest_call_is_the_campaigns_capped_by_the_setting(runtime, carrier, campaign_limit, sent):
    _dial(runtime, max_call_seconds=campaign_limit)
    assert runtime.settings.call_time_limit_seconds == 900
    assert [r.time_limit_seconds for r in carrier.placed] == [sent]


@pytest.mark.parametrize(
    ("settings", "complaint"),
    [
        (CallSettings(voice_agent="skype"), "unknown voice agent 'skype'; known: openai, assemblyai"),
        (CallSettings(max_call_seconds=30), "max call length 30 s is not within 60..14400"),
        (CallSettings(silence_timeout_seconds=0), "silence timeout 0 s is not within 5..600"),
    ],
)
def test_bad_call_settings_are_refused_naming_the_value(settings, complaint):
    with pytest.raises(InvalidStateError, match=complaint):
        settings.checked()


def test_the_cli_creates_and_shows_a_campaigns_call_settings(run):
    created = run(
        "campaigns", "create", "spring", "--seller", "Northwind Analytics", "--caller-id", "+13125550199",
        "--voice-agent", "openai", "--max-call-seconds", "300", "--silence-timeout", "20",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    shown = run("campaigns", "show", "spring").stdout
    assert "voice_agent" in shown and "openai" in shown
    assert "max_call_seconds" in shown and "300" in shown and "silence_timeout_seconds" in shown
    assert "cost total (estimate, DIALER_PRICES__*)" in shown and "$0.0000" in shown
    assert "cost per meeting booked" in shown  # "-" before the first meeting
    refused = run(
        "campaigns", "create", "autumn", "--seller", "Northwind", "--caller-id", "+13125550199",
        "--max-call-seconds", "5",
    )  # fmt: skip
    assert refused.returncode == 2 and "max call length 5 s is not within 60..14400" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


def test_a_campaigns_backend_is_built_by_name_and_the_setting_is_the_default(runtime):
    default = FakeVoiceAgent()
    state = BridgeState(runtime=runtime, signatures=None, agent=default, amd=None)  # type: ignore[arg-type]
    assert state.agent_for(None) is default and state.agent_for(runtime.settings.voice_agent) is default
    with pytest.raises(ConfigurationError, match="unknown voice_agent 'skype'"):
        state.agent_for("skype")
