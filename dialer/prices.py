"""The price table per-call costs are estimated from (``DIALER_PRICES__<FIELD>``), in US dollars.

The defaults are the list prices in ``shared/reference/PROTOCOLS.md`` G (Twilio US outbound,
AMD, recording and Media Streams; OpenAI Realtime per million tokens; AssemblyAI's Voice Agent
per hour). They are estimates, not an invoice: Twilio's ``Call.price`` covers connectivity only
and comes late, and an account's negotiated rates differ. Set your own rates in the environment,
e.g. ``DIALER_PRICES__CARRIER_PER_MINUTE=0.013`` or
``DIALER_PRICES__OPENAI_MODELS='{"gpt-realtime-2.1": {"text_in": 4, ...}}'``.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field


class TokenPrices(BaseModel):
    """One Realtime model's prices, US dollars per 1,000,000 tokens (PROTOCOLS D8, G).

    Cached input tokens are a subset of the input tokens and are billed at the cached rates.
    """

    text_in: Decimal = Field(ge=0)
    text_cached: Decimal = Field(ge=0)
    text_out: Decimal = Field(ge=0)
    audio_in: Decimal = Field(ge=0)
    audio_cached: Decimal = Field(ge=0)
    audio_out: Decimal = Field(ge=0)


def _rates(*values: str) -> TokenPrices:
    names = ("text_in", "text_cached", "text_out", "audio_in", "audio_cached", "audio_out")
    return TokenPrices(**{name: Decimal(v) for name, v in zip(names, values, strict=True)})


_GPT_REALTIME_2 = _rates("4.00", "0.40", "24.00", "32.00", "0.40", "64.00")
_GPT_REALTIME_1_5 = _rates("4.00", "0.40", "16.00", "32.00", "0.40", "64.00")
_GPT_REALTIME_MINI = _rates("0.60", "0.06", "2.40", "10.00", "0.30", "20.00")

DEFAULT_OPENAI_MODELS: dict[str, TokenPrices] = {
    "gpt-realtime-2.1": _GPT_REALTIME_2,
    "gpt-realtime-2": _GPT_REALTIME_2,
    "gpt-realtime-1.5": _GPT_REALTIME_1_5,
    "gpt-realtime": _GPT_REALTIME_1_5,
    "gpt-realtime-2.1-mini": _GPT_REALTIME_MINI,
    "gpt-realtime-mini": _GPT_REALTIME_MINI,
}
"""The OpenAI Realtime models with list prices (PROTOCOLS G), by model name."""


class PriceTable(BaseModel):
    """Rates for estimating what a call cost, US dollars (``Settings.prices``).

    Attributes:
        carrier_per_minute: outbound connectivity to a US number, per started minute of the
            answered call (Twilio bills whole minutes; ring time is not billed).
        amd_per_call: answering machine detection, per answered call it ran on.
        recording_per_minute: call recording, per started minute of the recorded call.
        media_stream_per_minute: Media Streams, per started minute of the stream.
        openai_models: Realtime token prices by model name; a model missing here is priced at 0
            and named in the cost's ``unpriced`` note.
        assemblyai_per_hour: the Voice Agent API's all-in rate, billed by session time.
    """

    carrier_per_minute: Decimal = Field(default=Decimal("0.014"), ge=0)
    amd_per_call: Decimal = Field(default=Decimal("0.0075"), ge=0)
    recording_per_minute: Decimal = Field(default=Decimal("0.0025"), ge=0)
    media_stream_per_minute: Decimal = Field(default=Decimal("0.004"), ge=0)
    openai_models: dict[str, TokenPrices] = Field(default_factory=lambda: dict(DEFAULT_OPENAI_MODELS))
    assemblyai_per_hour: Decimal = Field(default=Decimal("4.50"), ge=0)
