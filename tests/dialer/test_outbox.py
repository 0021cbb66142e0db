"""The outbox's state machine on PostgreSQL: publish once per key, claims that never overlap, leases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from dialer.crm_settings import OutboxParams
from dialer.db import session_factory, transaction
from dialer.errors import DeliveryError
from dialer.models import OutboxEvent, OutboxEventType, OutboxStatus
from dialer.outbox import Routed, claim_due, fan_out, publish, settle

NOW = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
PARAMS = OutboxParams(batch_size=3, lease_seconds=60, max_attempts=2)


def _publish(session, n: int) -> None:
    for i in range(n):
        publish(session, event_type=OutboxEventType.DNC_ADDED, key=f"dnc.added:entry-{i}",
                payload={"at": NOW, "i": i}, occurred_at=NOW)  # fmt: skip


def test_a_key_is_published_once(db):
    assert publish(db, event_type=OutboxEventType.DNC_ADDED, key="k", payload={"at": NOW}, occurred_at=NOW)
    assert not publish(db, event_type=OutboxEventType.DNC_ADDED, key="k", payload={"x": 1}, occurred_at=NOW)
    (event,) = db.scalars(select(OutboxEvent)).all()
    assert event.payload == {"at": "2026-12-07T17:00:00Z"}  # the first one, instants as ISO-8601 UTC


def test_two_drains_claim_disjoint_messages_and_a_lost_claim_comes_back_after_its_lease(committed_pg):
    sessions = session_factory(committed_pg)
    with transaction(sessions) as s:
        _publish(s, 5)
        assert fan_out(s, destinations_for=lambda _type: ["webhook:a"], now=NOW) == Routed(
            events=5, messages=5
        )
    with sessions() as first, sessions() as second, first.begin(), second.begin():
        mine = claim_due(first, now=NOW, params=PARAMS)
        theirs = claim_due(second, now=NOW, params=PARAMS)  # first's rows are locked: skipped
    assert len(mine) == 3 and len(theirs) == 2
    assert not {m.message_id for m in mine} & {m.message_id for m in theirs}
    with transaction(sessions) as s:
        assert claim_due(s, now=NOW + timedelta(seconds=59), params=PARAMS) == []  # all leased
        again = claim_due(s, now=NOW + timedelta(seconds=60), params=PARAMS)  # the workers died
    assert len(again) == 3 and {m.attempt for m in again} == {2}
    with transaction(sessions) as s:
        later = NOW + timedelta(seconds=61)
        late = DeliveryError("HTTP 503", retryable=True, http_status=503)
        # The first, older try of a message answers after the second claim: it must not win.
        assert settle(s, claimed=mine[0], started_at=NOW, finished_at=later, params=PARAMS, error=late) == (
            OutboxStatus.PENDING
        )
        status = settle(s, claimed=again[0], started_at=later, finished_at=later, params=PARAMS, error=late)
        assert status == OutboxStatus.DEAD  # the second of max_attempts=2
        assert s.scalar(select(func.count()).select_from(OutboxEvent)) == 5
