"""The bridge's Prometheus metrics (``GET /metrics``), and one call's latency clock.

Process-wide collectors (``prometheus-client``; one registry per process, scraped per API process):

- ``dialer_bridge_active_calls``: calls bridged right now;
- ``dialer_bridge_first_audio_seconds``: stream start -> the agent's first audio sent to Twilio
  (the AMD wait included: the agent says nothing before a verdict);
- ``dialer_bridge_turn_latency_seconds``: the caller's turn ended (VAD) -> the agent's first audio
  of its answer;
- ``dialer_bridge_barge_ins_total``: speech over the agent's (unprotected) audio;
- ``dialer_bridge_tool_calls_total{tool, outcome}``: ``ok`` or ``refused``;
- ``dialer_bridge_agent_errors_total``: calls ended as ``agent_error``;
- ``dialer_bridge_agent_reconnects_total{outcome}``: agent sessions replaced after a drop, an
  error or a stalled send (:mod:`bridge.reconnect`): ``resumed``, ``fresh``, or ``failed``;
- ``dialer_call_cost_usd_total{component}``: estimated spend (:mod:`dialer.calls.costs`): the
  carrier's parts when a call's final status arrives, the agent's when the bridge records its usage.
"""

from __future__ import annotations

import time
from decimal import Decimal

from prometheus_client import Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0)

ACTIVE_CALLS = Gauge("dialer_bridge_active_calls", "Calls bridged right now")
FIRST_AUDIO = Histogram(
    "dialer_bridge_first_audio_seconds", "Stream start to the agent's first audio", buckets=_LATENCY_BUCKETS
)
TURN_LATENCY = Histogram(
    "dialer_bridge_turn_latency_seconds",
    "Caller turn end to the agent's first audio of its answer",
    buckets=_LATENCY_BUCKETS,
)
BARGE_INS = Counter("dialer_bridge_barge_ins_total", "Caller speech over unprotected agent audio")
TOOL_CALLS = Counter("dialer_bridge_tool_calls_total", "Agent tool calls", ["tool", "outcome"])
AGENT_ERRORS = Counter("dialer_bridge_agent_errors_total", "Calls ended as agent_error")
AGENT_RECONNECTS = Counter(
    "dialer_bridge_agent_reconnects_total", "Agent sessions replaced after a fault", ["outcome"]
)
CALL_COST = Counter("dialer_call_cost_usd_total", "Estimated spend on calls, US dollars", ["component"])


def count_cost(parts: dict[str, Decimal]) -> None:
    """Add a call's cost parts (``{component: dollars}``) to ``dialer_call_cost_usd_total``."""
    for component, amount in parts.items():
        if amount:
            CALL_COST.labels(component=component).inc(float(amount))


class CallClock:
    """One call's latencies: first audio after the stream starts, and after each caller turn.

    Times are ``time.monotonic()`` seconds; each latency is observed once, on the first agent
    audio chunk after its starting point.
    """

    def __init__(self) -> None:
        self._started = time.monotonic()
        self._first_audio_seen = False
        self._turn_ended: float | None = None

    def turn_ended(self) -> None:
        """The caller's turn ended: the next agent audio closes a turn latency."""
        self._turn_ended = time.monotonic()

    def agent_audio(self) -> None:
        """An agent audio chunk went to Twilio."""
        now = time.monotonic()
        if not self._first_audio_seen:
            self._first_audio_seen = True
            FIRST_AUDIO.observe(now - self._started)
        if self._turn_ended is not None:
            TURN_LATENCY.observe(now - self._turn_ended)
            self._turn_ended = None
