"""Reconciling live attempts with the carrier when their status callbacks stop (issue 7, item 5).

A lost final callback used to be noticed only after ring time + the call time limit + 5 minutes
(about 20 minutes), while the attempt held a concurrency slot and its lead sat ``in_progress``.
Now any live attempt not heard from for ``reconcile_silent_after_seconds`` is fetched from the
carrier and the answer is applied like a callback.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dialer.calls.reconcile import reconcile_overdue_calls
from dialer.db import transaction
from dialer.dialing import claim_dialable_leads, dial_lead
from dialer.models import AttemptStatus, AuditEvent, CallAttempt, Disposition, Lead, LeadStatus
from tests.factories import create_campaign, create_lead


def _dial(runtime, n, **campaign):
    with transaction(runtime.sessions) as s:
        c = create_campaign(s, **campaign)
        for i in range(n):
            create_lead(s, c, phone=f"+1312555{101 + i:04d}")
    with transaction(runtime.sessions) as s:
        lead_ids = claim_dialable_leads(s, now=runtime.clock.now(), requeue_after=timedelta(minutes=2))
    for lead_id in lead_ids:
        dial_lead(runtime, lead_id=lead_id)
    with runtime.sessions() as s:
        return s.scalars(select(CallAttempt).order_by(CallAttempt.id)).all()


def _silent_for(runtime, seconds, *attempt_ids):
    """As if nothing had been heard about these attempts for ``seconds`` (real time)."""
    with transaction(runtime.sessions) as s:
        for attempt in s.scalars(select(CallAttempt).where(CallAttempt.id.in_(attempt_ids))):
            attempt.updated_at -= timedelta(seconds=seconds)


def test_a_call_whose_final_callback_was_lost_is_closed_within_a_minute_or_two(runtime, carrier):
    lost, live = _dial(runtime, 2, max_concurrent_calls=2)
    carrier.end(lost.call_sid, "no-answer", duration=0)  # its final callback never reaches us
    assert reconcile_overdue_calls(runtime) == 0  # just heard from: nothing to ask
    assert carrier.fetched == []
    _silent_for(runtime, 61, lost.id, live.id)
    assert reconcile_overdue_calls(runtime) == 1  # the other call is still live at the carrier
    assert sorted(carrier.fetched) == sorted([lost.call_sid, live.call_sid])
    with runtime.sessions() as s:
        assert s.get(CallAttempt, lost.id).status == AttemptStatus.NO_ANSWER
        assert s.get(CallAttempt, live.id).status == AttemptStatus.QUEUED
        assert s.scalars(select(Disposition.name)).one() == "no_answer"
        assert s.get(Lead, lost.lead_id).status == LeadStatus.WAITING
        assert "call.reconciled" in s.scalars(select(AuditEvent.kind)).all()
    carrier.fetched.clear()
    assert reconcile_overdue_calls(runtime) == 0
    assert carrier.fetched == []  # the live call counts as heard from: not asked again at once


def test_reconcile_asks_about_a_bounded_batch_per_tick_oldest_first(runtime, carrier):
    attempts = _dial(runtime, 5, max_concurrent_calls=5)
    for age, attempt in enumerate(attempts):
        carrier.end(attempt.call_sid, "completed", duration=3)
        _silent_for(runtime, 100 + age, attempt.id)
    runtime = runtime.__class__(
        **{**runtime.__dict__, "settings": runtime.settings.model_copy(update={"reconcile_batch_size": 2})}
    )
    assert reconcile_overdue_calls(runtime) == 2
    assert carrier.fetched == [attempts[4].call_sid, attempts[3].call_sid]
    assert reconcile_overdue_calls(runtime) == 2
    assert reconcile_overdue_calls(runtime) == 1
    with runtime.sessions() as s:
        assert {a.status for a in s.scalars(select(CallAttempt))} == {AttemptStatus.COMPLETED}


def test_a_call_the_carrier_forgot_is_given_up_as_unknown(runtime, carrier):
    (attempt,) = _dial(runtime, 1)
    carrier.existing.clear()
    _silent_for(runtime, 61, attempt.id)
    assert reconcile_overdue_calls(runtime) == 1
    with runtime.sessions() as s:
        assert s.get(CallAttempt, attempt.id).status == AttemptStatus.UNKNOWN
