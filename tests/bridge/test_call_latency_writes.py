"""A call's latency writes (bridge.call_latency): stored in the order measured, a failed one tried again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from bridge import call_latency
from bridge.call_latency import CallLatency
from dialer.models import CallAttempt
from dialer.runtime import Runtime
from tests.factories import dial_one_lead


@dataclass(frozen=True)
class FlakyRuntime(Runtime):
    """The run's runtime whose first ``failures`` transactions fail as a dropped connection would."""

    failures: list[int] | None = None

    def run_in_transaction(self, work: Any) -> Any:
        assert self.failures is not None
        if self.failures[0] > 0:
            self.failures[0] -= 1
            raise OperationalError("INSERT ...", {}, Exception("server closed the connection unexpectedly"))
        return super().run_in_transaction(work)


def _flaky(runtime: Runtime, failures: int) -> FlakyRuntime:
    fields = {name: getattr(runtime, name) for name in runtime.__dataclass_fields__}
    return FlakyRuntime(**fields, failures=[failures])


@pytest.mark.integration
async def test_turn_latencies_keep_their_order_through_a_failed_write(runtime, monkeypatch) -> None:
    monkeypatch.setattr(call_latency, "WRITE_RETRY_PAUSES_S", (0.01, 0.01))
    attempt = dial_one_lead(runtime)
    flaky = _flaky(runtime, failures=2)  # the first write fails twice, then the database is back
    async with CallLatency(flaky, attempt.id) as clock:
        for ms in (350, 720, 410):
            clock.turn_answered(ms)
    with runtime.sessions() as session:
        assert session.get_one(CallAttempt, attempt.id).turn_latencies_ms == [350, 720, 410]
    assert flaky.failures == [0]


@pytest.mark.integration
async def test_a_write_that_keeps_failing_is_given_up_and_logged(runtime, monkeypatch, caplog) -> None:
    monkeypatch.setattr(call_latency, "WRITE_RETRY_PAUSES_S", (0.01,))
    attempt = dial_one_lead(runtime)
    async with CallLatency(_flaky(runtime, failures=2), attempt.id) as clock:
        clock.turn_answered(350)  # fails, and fails again: given up
        clock.turn_answered(720)
    with runtime.sessions() as session:
        assert session.get_one(CallAttempt, attempt.id).turn_latencies_ms == [720]
    assert any("given up" in record.getMessage() for record in caplog.records)
