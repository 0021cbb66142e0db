"""Cost of sending one caller audio frame to the Realtime API: SDK typed send vs raw JSON.

Every call forwards ~50 frames a second; this is the bridge's hottest path. Reports the ratio
against the raw-JSON baseline measured in the same run (absolute times are noisy here).

    .venv/bin/python bench/realtime_send.py
"""

from __future__ import annotations

import asyncio
import base64
import json
import time

from openai._utils import async_maybe_transform
from openai.types.realtime import RealtimeClientEventParam

from bridge.openai_events import append_audio

FRAME = base64.b64encode(b"\xff" * 160).decode()  # one 20 ms μ-law frame
N = 5000


async def main() -> None:
    event = append_audio(FRAME)
    start = time.perf_counter()
    for _ in range(N):
        json.dumps(await async_maybe_transform(event, RealtimeClientEventParam))
    sdk = (time.perf_counter() - start) / N
    start = time.perf_counter()
    for _ in range(N):
        json.dumps(event)
    raw = (time.perf_counter() - start) / N
    calls_per_core = 1 / (sdk * 50)
    print(f"SDK typed send: {sdk * 1e6:.1f} us/frame; raw JSON: {raw * 1e6:.1f} us/frame")
    print(f"ratio: {sdk / raw:.0f}x")
    print(f"typed send alone would saturate one core at about {calls_per_core:.0f} concurrent calls")


if __name__ == "__main__":
    asyncio.run(main())
