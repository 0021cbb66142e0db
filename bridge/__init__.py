"""The carrier-facing bridge: TwiML and callback webhooks, the media WebSocket, voice-agent adapters.

Nothing outside this package speaks WebSocket to the carrier or the agent.
"""
