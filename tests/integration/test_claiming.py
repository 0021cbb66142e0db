"""Claiming under concurrency on the machine's PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from dialer.db import transaction
from dialer.dialing import claim_dialable_leads
from dialer.models import Callback, Lead, LeadStatus
from tests.factories import create_campaign, create_lead
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
REQUEUE = timedelta(minutes=2)


def _campaign(runtime, leads=10, cap=3):
    with transaction(runtime.sessions) as s:
        c = create_campaign(s, max_concurrent_calls=cap)
        return [create_lead(s, c, phone=f"+1312555{101 + i:04d}").id for i in range(leads)]


def _lock_waiters(runtime) -> int:
    """How many sessions on the test database wait for a lock (a row's, a table's) right now."""
    with runtime.sessions() as s:
        return s.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )


def test_overlapping_ticks_never_claim_past_the_cap(runtime):
    """Tick A holds its claims uncommitted while tick B runs: B must count them, not add its own."""
    _campaign(runtime, leads=10, cap=3)
    a_claimed, b_claimed = [], []
    a_has_claimed, b_started = threading.Event(), threading.Event()

    def tick_a() -> None:
        with transaction(runtime.sessions) as s:
            a_claimed.extend(claim_dialable_leads(s, now=runtime.clock.now(), requeue_after=REQUEUE))
            a_has_claimed.set()
            b_started.wait(5)
            wait_until(lambda: _lock_waiters(runtime), timeout=8, what="tick B to block on the campaign row")

    def tick_b() -> None:
        a_has_claimed.wait(5)
        b_started.set()
        with transaction(runtime.sessions) as s:
            b_claimed.extend(claim_dialable_leads(s, now=runtime.clock.now(), requeue_after=REQUEUE))

    threads = [threading.Thread(target=tick_a), threading.Thread(target=tick_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(a_claimed) == 3 and b_claimed == []
    with runtime.sessions() as s:
        assert len(s.scalars(select(Lead).where(Lead.status == LeadStatus.QUEUED)).all()) == 3


def test_a_lead_locked_elsewhere_is_skipped_not_waited_for(runtime):
    lead_ids = _campaign(runtime, leads=4, cap=10)
    locked = threading.Event()
    release = threading.Event()

    def hold_first_lead() -> None:
        with transaction(runtime.sessions) as s:
            s.execute(select(Lead).where(Lead.id == lead_ids[0]).with_for_update()).scalar_one()
            locked.set()
            release.wait(10)

    holder = threading.Thread(target=hold_first_lead)
    holder.start()
    locked.wait(5)
    started = time.monotonic()
    with transaction(runtime.sessions) as s:
        claimed = claim_dialable_leads(s, now=runtime.clock.now(), requeue_after=REQUEUE)
    elapsed = time.monotonic() - started
    release.set()
    holder.join(10)
    assert sorted(claimed) == sorted(lead_ids[1:])
    assert elapsed < 8.0  # waiting for the lock would take until the holder's 10 s are up
    with transaction(runtime.sessions) as s:
        assert claim_dialable_leads(s, now=runtime.clock.now(), requeue_after=REQUEUE) == [lead_ids[0]]


def test_hopper_order_callbacks_then_retries_then_new_leads_each_by_priority(runtime):
    """VICIdial's hopper order: due callbacks, then due retries, then new leads; higher priority first."""
    now = runtime.clock.now()
    with transaction(runtime.sessions) as s:
        c = create_campaign(s, max_concurrent_calls=100)
        phone = iter(f"+1312555{101 + i:04d}" for i in range(100))

        def lead(**kw):
            return create_lead(s, c, phone=next(phone), **kw)

        new_low = lead(priority=0)
        new_high = lead(priority=5)
        retry_old = lead(status=LeadStatus.WAITING, attempt_count=1, next_attempt_at=now - timedelta(hours=2))
        retry_new = lead(
            status=LeadStatus.WAITING, attempt_count=1, next_attempt_at=now - timedelta(minutes=1)
        )
        retry_high = lead(
            status=LeadStatus.WAITING, attempt_count=1, next_attempt_at=now - timedelta(minutes=1), priority=3
        )
        deferred = lead(status=LeadStatus.WAITING, attempt_count=0, next_attempt_at=now + timedelta(hours=3))
        callback_lead = lead(
            status=LeadStatus.WAITING, attempt_count=1, next_attempt_at=now - timedelta(minutes=5)
        )
        s.add(
            Callback(
                campaign_id=c.id,
                lead_id=callback_lead.id,
                phone_e164=callback_lead.phone_e164,
                due_at=now - timedelta(minutes=5),
                requested_text="in an hour",
                lead_timezone="America/Chicago",
            )
        )
        expected = [callback_lead.id, retry_high.id, retry_old.id, retry_new.id, new_high.id, new_low.id]
        deferred_id = deferred.id
    with transaction(runtime.sessions) as s:
        claimed = claim_dialable_leads(s, now=now, requeue_after=REQUEUE)
    assert claimed == expected
    assert deferred_id not in claimed  # the gate deferred it to its next_allowed_at: not looked at


def test_hopper_batch_follows_free_capacity_and_the_batch_limit(runtime):
    _campaign(runtime, leads=10, cap=4)
    with transaction(runtime.sessions) as s:
        assert (
            len(claim_dialable_leads(s, now=runtime.clock.now(), requeue_after=REQUEUE, batch_limit=3)) == 3
        )
    with transaction(runtime.sessions) as s:  # 3 queued count against the cap of 4
        assert len(claim_dialable_leads(s, now=runtime.clock.now(), requeue_after=REQUEUE)) == 1
