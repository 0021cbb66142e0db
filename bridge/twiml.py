"""TwiML documents the bridge returns, built with twilio's TwiML classes (pure functions)."""

from __future__ import annotations

from twilio.twiml.voice_response import Connect, VoiceResponse


def connect_stream(*, stream_url: str, parameters: dict[str, str]) -> str:
    """``<Connect><Stream>`` to the media WebSocket, per-call data as ``<Parameter>``s.

    Twilio forbids a query string on the Stream URL (PROTOCOLS A1, TUTORIAL_NOTES R13): the attempt
    id and one-time token travel as parameters and arrive in ``start.customParameters``. Nothing
    follows ``</Connect>``, so closing the socket ends the call.

    Raises:
        ValueError: the URL carries a query string, or a parameter is 500 characters or longer
            (name + value, Twilio's limit).
    """
    if "?" in stream_url:
        raise ValueError("the Stream URL must not carry a query string; use <Parameter>")
    response = VoiceResponse()
    connect = Connect()
    stream = connect.stream(url=stream_url)
    for name, value in parameters.items():
        if len(name) + len(value) >= 500:
            raise ValueError(f"stream parameter {name!r} is too long for Twilio (name+value < 500)")
        stream.parameter(name=name, value=value)
    response.append(connect)
    return str(response)


def hang_up() -> str:
    """``<Hangup/>``: end the call without playing anything."""
    response = VoiceResponse()
    response.hangup()
    return str(response)
