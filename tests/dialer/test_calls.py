"""Carrier callbacks applied to attempts: order, idempotency, outcomes, stream tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dialer.calls.attempts import (
    CallStatusUpdate,
    apply_amd,
    apply_call_status,
    issue_stream_token,
    redeem_stream_token,
)
from dialer.db import transaction
from dialer.errors import InvalidStateError
from dialer.models import AttemptStatus, AuditEvent, CallAttempt, Disposition, Lead, LeadStatus
from tests.factories import dial_one_lead


@pytest.fixture
def placed(runtime, carrier):
    """A lead dialed once: returns (attempt_id, call_sid, lead_id)."""
    attempt = dial_one_lead(runtime, max_attempts=2, retry_delay_seconds=300)
    return attempt.id, attempt.call_sid, attempt.lead_id


def _status(runtime, attempt_id, call_sid, status, seq, duration=None):
    with transaction(runtime.sessions) as s:
        return apply_call_status(
            s,
            attempt_id=attempt_id,
            now=runtime.clock.now(),
            update_=CallStatusUpdate(
                call_sid=call_sid,
                status=AttemptStatus.from_twilio(status),
                sequence_number=seq,
                duration_seconds=duration,
            ),
        )


def _dispositions(runtime):
    with runtime.sessions() as s:
        return [(d.name, d.source) for d in s.scalars(select(Disposition).order_by(Disposition.id))]


def test_out_of_order_callbacks_never_move_an_attempt_backwards(runtime, placed):
    attempt_id, sid, _ = placed
    assert _status(runtime, attempt_id, sid, "in-progress", 2)
    assert not _status(runtime, attempt_id, sid, "ringing", 1)  # arrived late
    with runtime.sessions() as s:
        assert s.get(CallAttempt, attempt_id).status == AttemptStatus.IN_PROGRESS


def _attempt_state(runtime, attempt_id):
    with runtime.sessions() as s:
        a = s.get_one(CallAttempt, attempt_id)
        events = s.scalar(select(func.count()).select_from(AuditEvent))
        return (a.status, a.answered_at, a.last_sequence_number, a.updated_at, a.ended_at, events)


def test_status_callback_replayed_without_sequence_number_changes_nothing(runtime, placed):
    """Issue 7: a replay (or a proxy that strips ``SequenceNumber``) must be a no-op.

    Before, an equal-rank status without a sequence number was applied again: a second
    ``call.status`` audit event and a fresh ``updated_at``.
    """
    attempt_id, sid, _ = placed
    assert _status(runtime, attempt_id, sid, "ringing", 1)
    assert _status(runtime, attempt_id, sid, "in-progress", 2)
    before = _attempt_state(runtime, attempt_id)
    for status in ("in-progress", "ringing", "initiated"):
        assert not _status(runtime, attempt_id, sid, status, None)
    assert not _status(runtime, attempt_id, sid, "in-progress", 2)
    assert _attempt_state(runtime, attempt_id) == before
    assert _status(runtime, attempt_id, sid, "completed", None, duration=7)
    ended = _attempt_state(runtime, attempt_id)
    assert not _status(runtime, attempt_id, sid, "completed", None, duration=7)
    assert not _status(runtime, attempt_id, sid, "busy", None)
    assert _attempt_state(runtime, attempt_id) == ended


def test_terminal_status_applies_once_and_records_the_system_outcome(runtime, placed, clock):
    attempt_id, sid, lead_id = placed
    assert _status(runtime, attempt_id, sid, "ringing", 1)
    assert _status(runtime, attempt_id, sid, "no-answer", 2, duration=0)
    assert not _status(runtime, attempt_id, sid, "no-answer", 2, duration=0)  # Twilio retried the webhook
    assert _dispositions(runtime) == [("no_answer", "system")]
    with runtime.sessions() as s:
        lead = s.get(Lead, lead_id)
        assert lead.status == LeadStatus.WAITING
        assert lead.next_attempt_at == clock.now() + timedelta(seconds=300)
        assert s.get(CallAttempt, attempt_id).ended_at is not None


def test_callback_for_another_call_is_refused(runtime, placed):
    attempt_id, _, _ = placed
    with pytest.raises(InvalidStateError):
        _status(runtime, attempt_id, "CA" + "f" * 32, "completed", 5)


def test_machine_verdict_records_machine_and_asks_to_hang_up(runtime, placed):
    attempt_id, sid, lead_id = placed
    with transaction(runtime.sessions) as s:
        assert apply_amd(
            s, attempt_id=attempt_id, call_sid=sid, answered_by="machine_start", now=runtime.clock.now()
        )
    with transaction(runtime.sessions) as s:  # the verdict delivered twice changes nothing new
        assert apply_amd(
            s, attempt_id=attempt_id, call_sid=sid, answered_by="machine_start", now=runtime.clock.now()
        )
    _status(runtime, attempt_id, sid, "completed", 3, duration=4)
    assert _dispositions(runtime) == [("machine", "system")]


def test_answered_call_that_never_reached_the_agent_is_an_agent_error(runtime, placed):
    attempt_id, sid, lead_id = placed
    _status(runtime, attempt_id, sid, "in-progress", 2)
    _status(runtime, attempt_id, sid, "completed", 3, duration=12)
    assert _dispositions(runtime) == [("agent_error", "system")]


def test_last_attempt_exhausts_the_lead(runtime, placed, clock):
    attempt_id, sid, lead_id = placed
    with transaction(runtime.sessions) as s:
        s.get(Lead, lead_id).attempt_count = 2
    _status(runtime, attempt_id, sid, "busy", 2)
    with runtime.sessions() as s:
        assert s.get(Lead, lead_id).status == LeadStatus.EXHAUSTED


def test_stream_token_is_single_use_and_expires(runtime, placed, clock):
    attempt_id, sid, _ = placed
    with transaction(runtime.sessions) as s:
        token = issue_stream_token(s, attempt_id=attempt_id, call_sid=sid, now=clock.now(), ttl_seconds=60)

    def redeem(t, call_sid=sid):
        with transaction(runtime.sessions) as s:
            return redeem_stream_token(
                s, attempt_id=attempt_id, token=t, call_sid=call_sid, stream_sid="MZ1", now=clock.now()
            )

    assert not redeem("wrong-token")
    assert not redeem(token, call_sid="CA" + "0" * 32)
    clock.advance(seconds=61)
    assert not redeem(token)  # expired
    with transaction(runtime.sessions) as s:
        token = issue_stream_token(s, attempt_id=attempt_id, call_sid=sid, now=clock.now(), ttl_seconds=60)
    assert redeem(token)
    assert not redeem(token)  # replayed start message
    with transaction(runtime.sessions) as s, pytest.raises(InvalidStateError, match="already has its media"):
        issue_stream_token(s, attempt_id=attempt_id, call_sid=sid, now=clock.now(), ttl_seconds=60)


def test_no_stream_for_an_ended_call(runtime, placed):
    attempt_id, sid, _ = placed
    _status(runtime, attempt_id, sid, "completed", 3, duration=1)
    with transaction(runtime.sessions) as s, pytest.raises(InvalidStateError):
        issue_stream_token(s, attempt_id=attempt_id, call_sid=sid, now=runtime.clock.now(), ttl_seconds=60)
