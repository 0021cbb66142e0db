"""Settings: defaults run anywhere; production refuses what would be unsafe."""

from __future__ import annotations

import pytest

from dialer.clock import SandboxClock, SystemClock, clock_from_settings
from dialer.errors import ConfigurationError
from dialer.settings import load_settings

PRODUCTION = dict(
    environment="production",
    database_url="postgresql+psycopg://dialer:pw@db/dialer",
    broker_url="redis://redis:6379/0",
    public_url="https://dialer.example.com",
    twilio_account_sid="AC" + "1234567890abcdef" * 2,
    twilio_auth_token="f" * 32,
    twilio_api_base_url=None,
    openai={"api_key": "sk-live-abcdefghijklmnop", "websocket_base_url": None},
)


def _load(**values):
    return load_settings(_env_file=None, **values)


def test_defaults_use_the_embedded_pieces_and_the_sandbox():
    settings = _load()
    assert settings.database_url.startswith("sqlite")
    assert settings.broker_url == "localfs://"
    assert settings.is_sandbox_carrier and settings.openai.websocket_base_url.startswith("ws://127.0.0.1")
    assert settings.media_stream_url == "ws://127.0.0.1:8000/twilio/media"
    assert isinstance(clock_from_settings(settings), SystemClock)


def test_complete_production_settings_are_accepted():
    settings = _load(**PRODUCTION)
    assert settings.media_stream_url == "wss://dialer.example.com/twilio/media"


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ({"twilio_auth_token": "changeme"}, "DIALER_TWILIO_AUTH_TOKEN"),
        ({"twilio_auth_token": ""}, "DIALER_TWILIO_AUTH_TOKEN"),
        ({"twilio_account_sid": "AC" + "5a" * 16}, "DIALER_TWILIO_ACCOUNT_SID"),
        ({"openai": {"api_key": "sandbox-openai-key", "websocket_base_url": None}}, "DIALER_OPENAI__API_KEY"),
        ({"twilio_api_base_url": "http://127.0.0.1:8766"}, "DIALER_TWILIO_API_BASE_URL"),
        ({"openai": {"api_key": "sk-live-abcdefghijklmnop"}}, "DIALER_OPENAI__WEBSOCKET_BASE_URL"),
        ({"public_url": "http://dialer.example.com"}, "https://"),
        ({"database_url": "sqlite:///x.db"}, "SQLite"),
        ({"broker_url": "localfs://"}, "embedded"),
        ({"calendar_feed_token": "short"}, "DIALER_CALENDAR_FEED_TOKEN"),
        (
            {"crm": {"webhooks": [{"name": "ops", "url": "http://h.example", "secret": "s" * 24}]}},
            "'ops' must be https",
        ),
        (
            {
                "crm": {
                    "backend": "hubspot",
                    "hubspot": {"access_token": "pat", "base_url": "http://127.0.0.1:9"},
                }
            },
            "DIALER_CRM__HUBSPOT__BASE_URL",
        ),
    ],
)
def test_production_refuses_unsafe_values(override, complaint):
    with pytest.raises(ConfigurationError, match=complaint):
        _load(**{**PRODUCTION, **override})


def test_production_lists_every_problem_at_once():
    with pytest.raises(ConfigurationError) as refused:
        _load(environment="production")
    message = str(refused.value)
    for name in ("ACCOUNT_SID", "AUTH_TOKEN", "OPENAI__API_KEY", "SQLite", "https://"):
        assert name in message


def test_sandbox_clock_only_with_a_sandbox_carrier_and_both_values():
    settings = _load(
        sandbox_clock_start="2026-11-23T11:00:00-06:00", sandbox_clock_anchor="2026-11-21T00:00:00Z"
    )
    clock = clock_from_settings(settings)
    assert isinstance(clock, SandboxClock)
    with pytest.raises(ConfigurationError, match="together"):
        _load(sandbox_clock_start="2026-11-23T11:00:00-06:00")
    with pytest.raises(ConfigurationError, match="sandbox carrier"):
        _load(
            sandbox_clock_start="2026-11-23T11:00:00-06:00",
            sandbox_clock_anchor="2026-11-21T00:00:00Z",
            twilio_api_base_url="",
        )
    with pytest.raises(ConfigurationError, match="offset"):
        _load(sandbox_clock_start="2026-11-23T11:00:00", sandbox_clock_anchor="2026-11-21T00:00:00Z")


def test_environment_variables_and_nested_bridge_params(monkeypatch):
    monkeypatch.setenv("DIALER_DIAL_CPS", "3")
    monkeypatch.setenv("DIALER_BRIDGE__AMD_WAIT_MAX_MS", "1500")
    monkeypatch.setenv("DIALER_TWILIO_API_BASE_URL", "")
    settings = _load()
    assert settings.dial_cps == 3 and settings.bridge.amd_wait_max_ms == 1500
    assert settings.twilio_api_base_url is None and not settings.is_sandbox_carrier


def test_relative_urls_are_refused():
    with pytest.raises(ConfigurationError, match="public_url"):
        _load(public_url="dialer.example.com")


def test_a_renamed_variable_is_refused_with_its_new_name(monkeypatch, tmp_path):
    monkeypatch.setenv("DIALER_OPENAI_API_KEY", "sk-live-abcdefghijklmnop")
    with pytest.raises(ConfigurationError, match="DIALER_OPENAI_API_KEY is now DIALER_OPENAI__API_KEY"):
        _load()
    monkeypatch.delenv("DIALER_OPENAI_API_KEY")
    env_file = tmp_path / ".env"
    env_file.write_text("DIALER_OPENAI_VOICE=alloy\n")
    with pytest.raises(ConfigurationError, match="DIALER_OPENAI_VOICE is now DIALER_OPENAI__VOICE"):
        load_settings(_env_file=str(env_file))


def test_backend_settings_come_from_their_nested_variables(monkeypatch):
    monkeypatch.setenv("DIALER_OPENAI__VOICE", "cedar")
    monkeypatch.setenv("DIALER_OPENAI__WEBSOCKET_BASE_URL", "")
    settings = _load()
    assert settings.openai.voice == "cedar" and settings.openai.websocket_base_url is None
    assert settings.voice_agent_settings() is settings.openai


AAI_PRODUCTION = {
    **PRODUCTION,
    "voice_agent": "assemblyai",
    "assemblyai": {"api_key": "aai-live-abcdefghijklmnop", "url": "wss://agents.assemblyai.com/v1/ws"},
}


def test_assemblyai_settings_come_from_their_nested_variables(monkeypatch):
    monkeypatch.setenv("DIALER_VOICE_AGENT", "assemblyai")
    monkeypatch.setenv("DIALER_ASSEMBLYAI__API_KEY", "aai-key")
    monkeypatch.setenv("DIALER_ASSEMBLYAI__VOICE", "anna")
    settings = _load()
    assert settings.assemblyai.api_key.get_secret_value() == "aai-key" and settings.assemblyai.voice == "anna"
    assert settings.assemblyai.url == "ws://127.0.0.1:8765/v1/ws"  # the sandbox agent's AssemblyAI route
    assert settings.voice_agent_settings() is settings.assemblyai


def test_assemblyai_production_settings_are_accepted_and_only_the_chosen_backend_is_checked():
    settings = _load(**{**AAI_PRODUCTION, "openai": {"api_key": "sandbox-openai-key"}})
    assert settings.voice_agent == "assemblyai"


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ({"api_key": "sandbox-openai-key"}, "DIALER_ASSEMBLYAI__API_KEY"),
        ({"api_key": ""}, "DIALER_ASSEMBLYAI__API_KEY"),
        ({"url": "ws://127.0.0.1:8765/v1/ws"}, "DIALER_ASSEMBLYAI__URL"),
        ({"url": "ws://agents.assemblyai.com/v1/ws"}, "DIALER_ASSEMBLYAI__URL"),
    ],
)
def test_production_refuses_unsafe_assemblyai_values(override, complaint):
    backend = {**AAI_PRODUCTION["assemblyai"], **override}
    with pytest.raises(ConfigurationError, match=complaint):
        _load(**{**AAI_PRODUCTION, "assemblyai": backend})


@pytest.mark.parametrize(
    ("field", "value"), [("url", "https://agents.assemblyai.com/v1/ws"), ("voice", "Ivy")]
)
def test_malformed_assemblyai_values_are_refused(field, value):
    with pytest.raises(ConfigurationError, match=field):
        _load(assemblyai={field: value})
