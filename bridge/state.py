"""What the bridge's routes share within one API process."""

from __future__ import annotations

from dataclasses import dataclass

from bridge.agent import VoiceAgent
from bridge.amd import AmdBoard
from bridge.security import TwilioSignatureCheck
from dialer.runtime import Runtime


@dataclass(frozen=True)
class BridgeState:
    """Dependencies of the carrier-facing routes.

    Attributes:
        runtime: settings, database sessions, clock, carrier client.
        signatures: validates ``X-Twilio-Signature`` against the public URL.
        agent: opens voice-agent sessions.
        amd: in-process delivery of AMD verdicts to bridge sessions.
    """

    runtime: Runtime
    signatures: TwilioSignatureCheck
    agent: VoiceAgent
    amd: AmdBoard
