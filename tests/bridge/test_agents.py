"""The backend factory: ``voice_agent`` picks the adapter, its sub-model configures it."""

import pytest

from bridge.agents import VOICE_AGENTS, build_voice_agent
from bridge.openai_agent import OpenAIRealtimeAgent
from dialer.errors import ConfigurationError
from dialer.settings import load_settings


def test_openai_backend_is_built_from_its_own_settings():
    settings = load_settings(_env_file=None, openai={"voice": "cedar", "model": "gpt-realtime-mini"})
    agent = build_voice_agent(settings)
    assert isinstance(agent, OpenAIRealtimeAgent)
    assert agent.voice == "cedar" and agent._model == "gpt-realtime-mini"


def test_an_unknown_backend_is_a_configuration_error(monkeypatch):
    settings = load_settings(_env_file=None)
    monkeypatch.setattr(settings, "voice_agent", "nope")  # past validation, e.g. a stale value
    with pytest.raises(ConfigurationError, match="unknown voice_agent 'nope'; known: assemblyai, openai"):
        build_voice_agent(settings)


def test_every_setting_value_has_a_backend():
    from typing import get_args

    from dialer.settings import Settings

    assert set(get_args(Settings.model_fields["voice_agent"].annotation)) == set(VOICE_AGENTS)


def test_assemblyai_backend_is_built_from_its_own_settings():
    from bridge.assemblyai_agent import AssemblyAIVoiceAgent

    settings = load_settings(
        _env_file=None,
        voice_agent="assemblyai",
        assemblyai={"voice": "anna", "url": "wss://agents.assemblyai.com/v1/ws"},
    )
    agent = build_voice_agent(settings)
    assert isinstance(agent, AssemblyAIVoiceAgent)
    assert agent.voice == "anna" and agent._url == "wss://agents.assemblyai.com/v1/ws"
    assert isinstance(build_voice_agent(settings, "openai"), OpenAIRealtimeAgent)  # a campaign's own choice
