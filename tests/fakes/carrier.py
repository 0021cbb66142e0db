"""A recording fake of :class:`dialer.calls.carrier.CarrierClient`."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime

from dialer.calls.carrier import CarrierClient, PlaceCallRequest, PlacedCall
from dialer.errors import CarrierError


class FakeCarrier(CarrierClient):
    """Records every request; ``fail_with`` makes ``place_call`` raise instead of placing."""

    def __init__(self) -> None:
        self.placed: list[PlaceCallRequest] = []
        self.hung_up: list[str] = []
        self.existing: list[PlacedCall] = []
        self.fail_with: CarrierError | None = None
        self.fetched: list[str] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def place_call(self, request: PlaceCallRequest) -> PlacedCall:
        with self._lock:
            self.placed.append(request)
            if self.fail_with is not None:
                raise self.fail_with
            call = PlacedCall(
                sid=f"CA{next(self._ids):032x}", status="queued", to=request.to, created_at=datetime.now(UTC)
            )
            self.existing.append(call)
            return call

    def hang_up(self, call_sid: str) -> None:
        with self._lock:
            self.hung_up.append(call_sid)

    def fetch_call(self, call_sid: str) -> PlacedCall | None:
        self.fetched.append(call_sid)
        return next((c for c in self.existing if c.sid == call_sid), None)

    def end(self, call_sid: str, status: str, duration: int | None = None) -> None:
        """Make the carrier report ``call_sid`` as ended (as if its callbacks were lost)."""
        self.existing = [
            PlacedCall(c.sid, status, c.to, c.created_at, duration) if c.sid == call_sid else c
            for c in self.existing
        ]

    def calls_to(self, to: str, *, since: datetime) -> list[PlacedCall]:
        return [c for c in self.existing if c.to == to and (c.created_at is None or c.created_at >= since)]


class NoPacing:
    """A pacer that never waits."""

    def wait_for_slot(self) -> float:
        return 0.0
