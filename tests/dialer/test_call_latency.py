"""Latency on the attempt (dialer.calls.latency): idempotent records, the gate's rate, campaigns show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from dialer.calls import latency as records
from dialer.calls.attempts import CallStatusUpdate, apply_amd, apply_call_status
from dialer.calls.outcomes import record_attempt_disposition
from dialer.db import engine_for, session_factory, transaction
from dialer.dialing.gate import abandonment_rate
from dialer.models import AttemptStatus, AuditEvent, CallAttempt, Campaign, DispositionName, DispositionSource
from tests.factories import create_attempt, create_lead, dial_one_lead


def _answer_and_end(
    runtime, attempt: CallAttempt, *, answered_by: str = "human", stream: bool = True
) -> None:
    """The carrier's side of a call that was answered (by ``answered_by``) and ended."""
    now = runtime.clock.now()
    with transaction(runtime.sessions) as s:
        update = CallStatusUpdate(attempt.call_sid, AttemptStatus.IN_PROGRESS, None, None)
        apply_call_status(s, attempt_id=attempt.id, update_=update, now=now)
        apply_amd(s, attempt_id=attempt.id, call_sid=attempt.call_sid, answered_by=answered_by, now=now)
        if stream:
            s.get_one(CallAttempt, attempt.id).stream_started_at = now
    with transaction(runtime.sessions) as s:
        update = CallStatusUpdate(attempt.call_sid, AttemptStatus.COMPLETED, None, 30)
        apply_call_status(s, attempt_id=attempt.id, update_=update, now=now + timedelta(seconds=30))


def _rate(runtime, campaign_id: int) -> float:
    with runtime.sessions() as s:
        return abandonment_rate(s, campaign_id=campaign_id, now=runtime.clock.now())


def test_an_abandonment_at_the_deadline_stays_when_the_agent_speaks_later(runtime):
    attempt = dial_one_lead(runtime)
    _answer_and_end(runtime, attempt)
    assert _rate(runtime, attempt.campaign_id) == 0.0  # the stream reached the agent
    now = runtime.clock.now()
    with transaction(runtime.sessions) as s:
        records.record_abandoned(s, attempt_id=attempt.id, now=now)
    assert _rate(runtime, attempt.campaign_id) == 1.0
    with transaction(runtime.sessions) as s:  # the agent's first audio, 2.6 s after the greeting
        records.record_first_audio(
            s, attempt_id=attempt.id, answer_ms=2900, greeting_ms=2600, abandoned=True, now=now
        )
        records.record_abandoned(s, attempt_id=attempt.id, now=now)  # replayed: nothing new
        records.record_call_end(s, attempt_id=attempt.id, abandoned=False, now=now)
    with runtime.sessions() as s:
        row = s.get_one(CallAttempt, attempt.id)
        events = s.scalars(select(AuditEvent).where(AuditEvent.kind == "call.abandoned")).all()
    assert (row.tsr_abandoned, row.answer_to_first_audio_ms, row.greeting_to_first_audio_ms) == (
        True,
        2900,
        2600,
    )
    assert len(events) == 1 and events[0].attempt_id == attempt.id
    assert _rate(runtime, attempt.campaign_id) == 1.0


def test_a_prompt_agent_is_not_abandoned_and_machines_never_count(runtime):
    attempt = dial_one_lead(runtime)
    _answer_and_end(runtime, attempt)
    now = runtime.clock.now()
    with transaction(runtime.sessions) as s:
        records.record_first_audio(
            s, attempt_id=attempt.id, answer_ms=640, greeting_ms=410, abandoned=False, now=now
        )
        for ms in (350, 720):
            records.record_turn_latency(s, attempt_id=attempt.id, latency_ms=ms)
        records.record_call_end(s, attempt_id=attempt.id, abandoned=True, now=now)  # decided already
    with runtime.sessions() as s:
        row = s.get_one(CallAttempt, attempt.id)
        assert (row.tsr_abandoned, row.turn_latencies_ms) == (False, [350, 720])
        summary = records.campaign_latency(s, campaign_id=attempt.campaign_id)
    assert (summary.first_audio.median_ms, summary.turns.count, summary.turns.max_ms) == (640, 2, 720)
    assert _rate(runtime, attempt.campaign_id) == 0.0

    with transaction(runtime.sessions) as s:
        campaign = s.get_one(Campaign, attempt.campaign_id)
        machine = create_attempt(s, campaign, create_lead(s, campaign, "+13125550142"))
        machine.call_sid = "CA" + "7" * 32
        late = create_attempt(s, campaign, create_lead(s, campaign, "+13125550143"))
        late.call_sid = "CA" + "8" * 32
    with transaction(runtime.sessions) as s:  # the deadline passes before AMD has decided
        records.record_abandoned(s, attempt_id=late.id, now=now)
    _answer_and_end(runtime, late, answered_by="machine_end_beep")
    _answer_and_end(runtime, machine, answered_by="machine_start")
    with transaction(runtime.sessions) as s:  # a deadline after a machine verdict
        records.record_abandoned(s, attempt_id=machine.id, now=now)
    assert _rate(runtime, attempt.campaign_id) == 0.0  # machines are no live answers
    with runtime.sessions() as s:
        assert s.get_one(CallAttempt, machine.id).tsr_abandoned is False
        kinds = s.scalars(select(AuditEvent.attempt_id).where(AuditEvent.kind == "call.abandoned")).all()
    assert kinds == [late.id]


def test_a_live_answer_the_dialer_hung_up_on_unheard_is_abandoned_however_soon(runtime):
    attempt = dial_one_lead(runtime)
    _answer_and_end(runtime, attempt)
    now = runtime.clock.now()
    with transaction(runtime.sessions) as s:  # the agent could not be reached: agent_error at once
        record_attempt_disposition(
            s,
            attempt_id=attempt.id,
            name=DispositionName.AGENT_ERROR,
            source=DispositionSource.SYSTEM,
            now=now,
            notes="voice agent unavailable",
        )
        records.record_call_end(s, attempt_id=attempt.id, abandoned=False, now=now)  # within 2 s
    with runtime.sessions() as s:
        assert s.get_one(CallAttempt, attempt.id).tsr_abandoned is True
    assert _rate(runtime, attempt.campaign_id) == 1.0


def test_latency_stats_are_the_median_the_nearest_rank_p95_and_the_max():
    stats = records.latency_stats(list(range(1, 21)))  # 1..20 ms
    assert (stats.count, stats.median_ms, stats.p95_ms, stats.max_ms) == (20, 10, 19, 20)
    assert records.latency_stats([]).describe() == "(none measured)"
    assert records.latency_stats([500]).describe() == "median 500 ms, p95 500 ms, max 500 ms (1)"


def test_campaigns_show_gives_the_latencies_and_the_rate_the_gate_reads(run, tmp_path):
    created = run("campaigns", "create", "spring", "--seller", "Northwind", "--caller-id", "+13125550199")
    assert created.returncode == 0, created.stderr
    engine = engine_for(f"sqlite:///{tmp_path / 'cli.db'}")
    with transaction(session_factory(engine)) as s:
        campaign = s.scalars(select(Campaign)).one()
        for number, (first, greeting, turns, abandoned) in enumerate(
            [(600, 600, [300, 900], False), (3100, 2700, [], True), (800, 500, [400], False)]
        ):
            attempt = create_attempt(s, campaign, create_lead(s, campaign, f"+1312555014{number}"))
            attempt.answered_at = attempt.ended_at = attempt.stream_started_at = datetime.now(UTC)
            attempt.answered_by = "human"
            attempt.answer_to_first_audio_ms, attempt.greeting_to_first_audio_ms = first, greeting
            attempt.turn_latencies_ms, attempt.tsr_abandoned = turns, abandoned
    shown = run("campaigns", "show", "spring")
    assert shown.returncode == 0, shown.stderr
    cells = [line.split("│") for line in shown.stdout.splitlines() if line.count("│") >= 3]
    lines = {row[1].strip(): row[2].strip() for row in cells}
    assert lines["answer to first agent audio"] == "median 800 ms, p95 3100 ms, max 3100 ms (3)"
    assert lines["greeting to first agent audio (TSR: 2 s)"] == "median 600 ms, p95 2700 ms, max 2700 ms (3)"
    assert lines["turn latency"] == "median 400 ms, p95 900 ms, max 900 ms (3)"
    assert lines["abandoned by the 2-second rule"] == "1"
    assert lines["abandonment rate, 30 days (gate: above 3 % blocks)"] == "33.3% (1 of 3 live answers)"


def test_a_late_first_audio_on_a_machine_is_not_an_abandonment(runtime):
    attempt = dial_one_lead(runtime)
    _answer_and_end(runtime, attempt, answered_by="machine_end_other")
    now = runtime.clock.now()
    with transaction(runtime.sessions) as s:  # async AMD decided; the agent had spoken 2.6 s late
        records.record_first_audio(
            s, attempt_id=attempt.id, answer_ms=2900, greeting_ms=2600, abandoned=True, now=now
        )
    with runtime.sessions() as s:
        row = s.get_one(CallAttempt, attempt.id)
        events = s.scalars(select(AuditEvent).where(AuditEvent.kind == "call.abandoned")).all()
    assert (row.tsr_abandoned, row.greeting_to_first_audio_ms, events) == (False, 2600, [])
