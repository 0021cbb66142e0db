"""What the bridge's routes share within one API process."""

from __future__ import annotations

from dataclasses import dataclass, field

from bridge.agent import VoiceAgent
from bridge.agents import build_voice_agent
from bridge.amd import AmdBoard
from bridge.preopen import PreopenedAgents
from bridge.security import TwilioSignatureCheck
from dialer.runtime import Runtime


@dataclass(frozen=True)
class BridgeState:
    """Dependencies of the carrier-facing routes.

    Attributes:
        runtime: settings, database sessions, clock, carrier client.
        signatures: validates ``X-Twilio-Signature`` against the public URL.
        agent: opens voice-agent sessions of the ``voice_agent`` setting's backend.
        amd: in-process delivery of AMD verdicts to bridge sessions.
        preopened: agent sessions opened during the TwiML request, waiting for their streams.
    """

    runtime: Runtime
    signatures: TwilioSignatureCheck
    agent: VoiceAgent
    amd: AmdBoard
    preopened: PreopenedAgents = field(default_factory=PreopenedAgents)
    _others: dict[str, VoiceAgent] = field(default_factory=dict)

    def agent_for(self, name: str | None) -> VoiceAgent:
        """The adapter of backend ``name`` (a campaign's ``voice_agent``; None: the setting's).

        Raises:
            ConfigurationError: no backend of that name.
        """
        if name is None or name == self.runtime.settings.voice_agent:
            return self.agent
        if name not in self._others:
            self._others[name] = build_voice_agent(self.runtime.settings, name)
        return self._others[name]
