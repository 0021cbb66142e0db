"""One call per attempt, proved under faults (issue 7, item 5).

Each test runs a small campaign on the real stack (Celery worker subprocesses, Redis, PostgreSQL,
the FastAPI bridge, the sandbox carrier counting calls per attempt) while one fault is injected,
then checks the invariants of :meth:`FaultStack.check_campaign`: no attempt reached the carrier
twice, no call after an opt-out, no lead lost or stuck, the campaign finished. Each fault runs
``REPEATS`` times, each time on a fresh campaign, and is made to happen at a known point (a
request held at the carrier, progress counted in the database), not by timing luck.

Run them alone with ``pytest -m faults``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import redis
from sqlalchemy import select, text

from dialer.consent import add_internal_dnc
from dialer.db import transaction
from dialer.dialing import claim_dialable_leads
from dialer.models import AttemptStatus, AuditEvent, CampaignStatus, Lead, LeadStatus
from sandbox.carrier.cast import cast_for
from tests.conftest import make_settings
from tests.faults.conftest import REPEATS
from tests.waiting import wait_until

pytestmark = [pytest.mark.faults, pytest.mark.integration]
repeat = pytest.mark.parametrize("run", range(REPEATS))


def _product_now(stack) -> datetime:
    from dialer.clock import clock_from_settings

    settings = make_settings(
        twilio_api_base_url=stack.env["DIALER_TWILIO_API_BASE_URL"],
        sandbox_clock_start=stack.env["DIALER_SANDBOX_CLOCK_START"],
        sandbox_clock_anchor=stack.env["DIALER_SANDBOX_CLOCK_ANCHOR"],
    )
    return clock_from_settings(settings).now()


@pytest.mark.parametrize("stage", ["before_create", "after_create"])
@repeat
def test_worker_killed_mid_dial(stack, stage, run):
    """``kill -9`` of a worker while its call requests are in flight at the carrier.

    The carrier holds each create request (the ``hold_creates`` fault) so the kill lands mid-dial
    every time. ``before_create``: the carrier had not acted on them (and drops them when the
    workers' sockets close): the attempts stay ``requesting`` until reconciliation finds no call and
    gives them up as ``unknown``; their leads are retried. ``after_create``: the calls exist; their
    callbacks (or reconciliation) adopt them. Either way no request is ever sent twice, and the
    other worker (with a restarted one) finishes the campaign.
    """
    victim, spare = stack.workers
    stack.consuming(False, spare)  # only the victim takes the dial tasks
    stack.faults(hold_creates=stage)
    campaign_id = stack.create_campaign(6, max_attempts=2)  # given-up attempts are retried
    wait_until(
        lambda: stack.carrier_stats()["creates_held"] >= 2, timeout=60, what="requests held at the carrier"
    )
    stack.kill_worker(victim)
    stack.faults(hold_creates=None)
    stack.consuming(True, spare)  # the spare finishes the campaign...
    stack.start_worker()  # ...with a restarted worker (ready for the next test)
    stack.wait_finished(campaign_id)
    facts = stack.check_campaign(campaign_id)
    statuses = [a.status for a in facts["attempts"]]
    if stage == "before_create":
        assert AttemptStatus.UNKNOWN in statuses  # the killed requests: given up, never re-sent
    else:
        assert len(facts["calls"]) == sum(1 for a in facts["attempts"] if a.call_sid)


@repeat
def test_redis_restarted_mid_campaign(stack, run):
    """Our redis-server (broker and pacer) is killed and restarted with its data gone."""
    campaign_id = stack.create_campaign(10)
    wait_until(lambda: stack.progress(campaign_id)[0] >= 3, timeout=60, what="the campaign to get going")
    stack.redis.restart()
    stack.wait_finished(campaign_id, timeout=120, restart_crashed=True)
    stack.check_campaign(campaign_id)
    # Kombu's Redis transport can die later from a reconnect it survived here (the supervisor
    # restarts it in production): the next tests start from workers that never saw the restart.
    stack.stop_workers()
    stack.ensure_workers()


@repeat
def test_postgres_connections_dropped_mid_campaign(stack, run):
    """Every connection of every process to the database is terminated, three times over."""
    campaign_id = stack.create_campaign(10)
    with stack.engine.connect() as admin:  # opened now: the server may be short of free slots later
        for wave in (2, 5, 8):
            wait_until(
                lambda w=wave: stack.progress(campaign_id)[0] >= w, timeout=60, what=f"{wave} leads dialed"
            )
            killed = admin.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).all()
            assert killed
    stack.wait_finished(campaign_id, timeout=120)
    stack.check_campaign(campaign_id)


@repeat
def test_every_callback_delivered_twice_and_out_of_order(stack, run):
    """Status callbacks in swapped pairs, each replayed without SequenceNumber; AMD twice."""
    stack.faults(duplicate_callbacks=True, shuffle_callbacks=True)
    campaign_id = stack.create_campaign(10)
    stack.wait_finished(campaign_id)
    facts = stack.check_campaign(campaign_id)  # includes: no status applied twice to an attempt
    finals = {a.status for a in facts["attempts"]}
    assert finals <= {
        AttemptStatus.COMPLETED,
        AttemptStatus.BUSY,
        AttemptStatus.NO_ANSWER,
        AttemptStatus.CANCELED,
    }, finals


@repeat
def test_final_status_callback_lost(stack, run):
    """No terminal status callback ever arrives: reconciliation asks the carrier (``GET`` the
    call) once the attempt has been silent for ``DIALER_RECONCILE_SILENT_AFTER_SECONDS`` (4 s
    here, 60 s by default) and closes it through the status-callback path."""
    stack.faults(drop_final_status=True)
    campaign_id = stack.create_campaign(8)
    stack.wait_finished(campaign_id, timeout=60)
    facts = stack.check_campaign(campaign_id)
    with stack.sessions() as s:
        reconciled = s.scalars(
            select(AuditEvent.attempt_id).where(
                AuditEvent.kind == "call.reconciled", AuditEvent.campaign_id == campaign_id
            )
        ).all()
    assert set(reconciled) == {a.id for a in facts["attempts"]}


@repeat
def test_opt_out_committed_while_the_dial_task_is_queued(stack, run):
    """The dial tasks sit in Redis (on a queue no worker takes from yet) when the opt-outs commit:
    the opted-out leads get no call (the gate runs when the task runs), the others do."""
    campaign_id = stack.create_campaign(8, max_concurrent_calls=8, status=CampaignStatus.DRAFT)
    held = f"faults-held-{campaign_id}"  # a queue no worker has ever taken from
    stack.start_campaign(campaign_id)
    now = _product_now(stack)
    with transaction(stack.sessions) as s:
        lead_ids = claim_dialable_leads(s, now=now, requeue_after=timedelta(minutes=5))
    with stack.sessions() as s:  # a tick may have claimed (and enqueued) some first: take them all
        leads = s.scalars(select(Lead).where(Lead.campaign_id == campaign_id).order_by(Lead.id)).all()
        assert all(lead.status == LeadStatus.QUEUED for lead in leads)
    stack.publish_dials([lead.id for lead in leads], queue=held)
    broker = redis.Redis.from_url(stack.env["DIALER_BROKER_URL"])
    assert broker.llen(held) == len(leads) > 0 and lead_ids
    opted = [lead.phone_e164 for lead in leads[::2]]
    with transaction(stack.sessions) as s:
        for phone in opted:
            add_internal_dnc(
                s, phone_e164=phone, source="api", now=now, actor="test", reason="stop calling me"
            )
    stack.consuming(True, queue=held)  # now the workers pick the queued dial tasks up
    stack.wait_finished(campaign_id)
    facts = stack.check_campaign(campaign_id)
    called = {c["to"] for c in facts["calls"]}
    assert called.isdisjoint(opted), called & set(opted)
    assert called  # the others were called
    with stack.sessions() as s:
        for lead in s.scalars(select(Lead).where(Lead.phone_e164.in_(opted))):
            assert lead.status in (LeadStatus.DNC, LeadStatus.BLOCKED), lead.status


def _peak_concurrency(calls) -> int:
    edges = []
    for call in calls:
        edges.append((datetime.fromisoformat(call["created_at"]), 1))
        edges.append((datetime.fromisoformat(call["ended_at"]), -1))
    peak = live = 0
    for _, step in sorted(edges, key=lambda e: (e[0], e[1])):
        live += step
        peak = max(peak, live)
    return peak


@pytest.mark.parametrize("run", range(max(1, REPEATS - 1)))
def test_twenty_concurrent_calls_no_deadlock_no_5xx(stack, run):
    """The plain load case: ≥ 20 live calls with their webhooks and dial tasks at once."""
    # humans (the calls overlap); one opts out while the disclosure plays
    personas = ("not_interested", "wrong_person", "not_now", "asks_removal", "stops_during_disclosure")
    marks = stack.log_marks()
    campaign_id = stack.create_campaign(24, personas=personas, max_concurrent_calls=24, max_attempts=1)
    stack.wait_finished(campaign_id, timeout=120)
    facts = stack.check_campaign(campaign_id)  # one call per attempt etc., deadlocks or not
    calls = facts["calls"]
    responses: dict[str, int] = {}
    for call in calls:
        for code, n in call["webhook_responses"].items():
            responses[code] = responses.get(code, 0) + n
    bad = {code: n for code, n in responses.items() if code == "error" or code.startswith("5")}
    dead = sorted(name for name, text in stack.logs_since(marks).items() if "DeadlockDetected" in text)
    assert dead == [], f"DeadlockDetected in the logs of {dead} (webhooks {responses})"
    assert bad == {}, f"webhook failures under load: {responses}"
    over_disclosure = [
        lead for lead in facts["leads"] if cast_for(lead.phone_e164).persona.name == personas[-1]
    ]
    played = {a.lead_id: a.disclosure_played_at is not None for a in facts["attempts"]}
    outcomes = [
        (str(lead.status), lead.phone_e164 in facts["opted_out"], played[lead.id]) for lead in over_disclosure
    ]
    # each heard (a DNC entry), the disclosure played to its end all the same: never cleared
    assert outcomes and set(outcomes) == {("dnc", True, True)}, outcomes
    phones = {lead.phone_e164 for lead in over_disclosure}
    heard = [
        (c["barge_in"]["cleared_after_ms"], c["heard"][0]["complete"]) for c in calls if c["to"] in phones
    ]
    assert heard and set(heard) == {(None, True)}, heard
    assert _peak_concurrency(calls) >= 20
