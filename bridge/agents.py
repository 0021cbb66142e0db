"""The voice-agent backends by name: ``voice_agent`` in the settings picks one.

Adding a backend is one adapter module (a :class:`bridge.agent.VoiceAgent`), its settings
sub-model in :mod:`dialer.settings` (``DIALER_<NAME>__<FIELD>``), its entry in
:data:`VOICE_AGENTS`, and its sandbox stand-in in :mod:`sandbox.agent`.
"""

from __future__ import annotations

from collections.abc import Callable

from bridge.agent import VoiceAgent
from bridge.assemblyai_agent import AssemblyAIVoiceAgent
from bridge.openai_agent import OpenAIRealtimeAgent
from dialer.errors import ConfigurationError
from dialer.settings import Settings


def _openai(settings: Settings) -> VoiceAgent:
    backend = settings.openai
    return OpenAIRealtimeAgent(
        api_key=backend.api_key.get_secret_value(),
        model=backend.model,
        voice=backend.voice,
        websocket_base_url=backend.websocket_base_url,
    )


def _assemblyai(settings: Settings) -> VoiceAgent:
    backend = settings.assemblyai
    return AssemblyAIVoiceAgent(
        api_key=backend.api_key.get_secret_value(), url=backend.url, voice=backend.voice
    )


VOICE_AGENTS: dict[str, Callable[[Settings], VoiceAgent]] = {"openai": _openai, "assemblyai": _assemblyai}
"""Backend name (the ``voice_agent`` setting) -> the factory building its adapter."""


def build_voice_agent(settings: Settings, name: str | None = None) -> VoiceAgent:
    """The adapter for backend ``name`` (default ``settings.voice_agent``), from its sub-model.

    Raises:
        ConfigurationError: no backend of that name.
    """
    name = name or settings.voice_agent
    try:
        factory = VOICE_AGENTS[name]
    except KeyError:
        known = ", ".join(sorted(VOICE_AGENTS))
        raise ConfigurationError(f"unknown voice_agent {name!r}; known: {known}") from None
    return factory(settings)
