"""The outbox drain after review: leases that outlast a claim, outcomes settled as they finish,
the CRM's own Celery queue, bounded status views and pruning of old deliveries."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from crm.destinations import Destination
from crm.outbox import PARALLEL_DELIVERIES, claim_plan, drain
from dialer.celery_app import CRM_QUEUE, DIAL_QUEUE, create_celery_app
from dialer.crm_settings import CrmSettings, OutboxParams, WebhookEndpoint
from dialer.db import transaction
from dialer.errors import InvalidInputError
from dialer.models import OutboxEvent, OutboxEventType, OutboxMessage, OutboxStatus
from dialer.outbox import ClaimedMessage, publish
from dialer.outbox.prune import parse_age, prune_delivered
from dialer.outbox.status import destination_states
from tests.cli import invoke
from tests.conftest import make_settings
from tests.waiting import wait_until


class _Fixed(Destination):
    def __init__(self, name: str, worst: float) -> None:
        self.name, self.worst_case_seconds = name, worst

    def deliver(self, message: ClaimedMessage) -> dict[str, Any]:
        return {}


def test_a_claim_takes_only_what_its_lease_outlasts():
    """Review: 8 parallel x 4 HubSpot requests x (connect + read) 10 s could outlast a 120 s lease."""
    hubspot = {"crm:hubspot": _Fixed("crm:hubspot", 80.0)}
    assert claim_plan(OutboxParams(batch_size=50, lease_seconds=120), hubspot) == (PARALLEL_DELIVERIES, 120)
    assert claim_plan(OutboxParams(batch_size=50), hubspot) == (50, 600)  # the default lease: 7 waves
    # A lease shorter than one delivery's worst case is raised to it (plus the margin).
    assert claim_plan(OutboxParams(batch_size=50, lease_seconds=30), hubspot) == (PARALLEL_DELIVERIES, 110)


def _runtime_with(runtime, *names: str):
    hooks = [WebhookEndpoint(name=n, url=f"https://{n}.example/hook", secret="s" * 32) for n in names]
    crm = CrmSettings(webhooks=hooks, outbox=OutboxParams(max_attempts=3))
    return dataclasses.replace(runtime, settings=runtime.settings.model_copy(update={"crm": crm}))


def _status(runtime, destination: str) -> OutboxStatus:
    with runtime.sessions() as s:
        return s.scalars(select(OutboxMessage.status).where(OutboxMessage.destination == destination)).one()


def test_a_fast_delivery_is_settled_while_a_slow_one_of_the_same_claim_is_still_running(runtime):
    rt = _runtime_with(runtime, "slow", "fast")
    with transaction(rt.sessions) as s:
        publish(
            s,
            event_type=OutboxEventType.DNC_ADDED,
            key="dnc.added:entry-1",
            payload={},
            occurred_at=rt.clock.now(),
        )

    class Slow(_Fixed):
        def deliver(self, message: ClaimedMessage) -> dict[str, Any]:
            # Before the fix the batch's outcomes were written together, after the slowest.
            wait_until(lambda: _status(rt, "webhook:fast") == OutboxStatus.DELIVERED, what="fast settled")
            return {"status": 204}

    destinations = {"webhook:slow": Slow("webhook:slow", 10.0), "webhook:fast": _Fixed("webhook:fast", 10.0)}
    assert drain(rt, destinations).as_dict() == {"routed": 2, "pending": 0, "delivered": 2, "dead": 0}


def test_crm_tasks_go_to_their_own_queue_and_dialing_stays_on_the_default():
    app = create_celery_app(make_settings())
    assert app.amqp.router.route({}, "crm.outbox_drain")["queue"].name == CRM_QUEUE
    assert app.amqp.router.route({}, "dialer.dial")["queue"].name == DIAL_QUEUE
    assert {q.name for q in app.conf.task_queues} == {CRM_QUEUE, DIAL_QUEUE}  # a plain worker takes both
    assert app.conf.beat_schedule["crm-outbox-prune"]["task"] == "crm.outbox_prune"


def _message(session, now, key: str, status: OutboxStatus, *, days_ago: float) -> None:
    at = now - timedelta(days=days_ago)
    event = OutboxEvent(event_type="dnc.added", event_key=key, payload={}, occurred_at=at, fanned_out_at=at)
    session.add(event)
    session.flush()
    delivered = at if status == OutboxStatus.DELIVERED else None
    session.add(OutboxMessage(event_id=event.id, destination="webhook:ops", status=status, attempts=1,
                              next_attempt_at=at, delivered_at=delivered))  # fmt: skip


def test_old_deliveries_are_pruned_and_the_status_view_counts_only_the_last_day(runtime):
    now = datetime.now(UTC)  # the CLI's clock
    with transaction(runtime.sessions) as s:
        _message(s, now, "old", OutboxStatus.DELIVERED, days_ago=40)
        _message(s, now, "recent", OutboxStatus.DELIVERED, days_ago=10)
        _message(s, now, "today", OutboxStatus.DELIVERED, days_ago=0.05)
        _message(s, now, "dead", OutboxStatus.DEAD, days_ago=60)
        _message(s, now, "waiting", OutboxStatus.PENDING, days_ago=60)
    with runtime.sessions() as s:
        (state,) = destination_states(s, now=now)
    assert (state.pending, state.due, state.delivered, state.dead) == (1, 1, 1, 1)

    with transaction(runtime.sessions) as s:
        assert prune_delivered(s, before=now - timedelta(days=30)) == (1, 1)
    pruned = invoke(
        ["crm", "prune", "--older-than", "5d"], env={"DIALER_DATABASE_URL": runtime.settings.database_url}
    )
    assert pruned.returncode == 0, pruned.stderr
    assert "pruned 1 delivered messages and 1 events older than 5d" in pruned.stdout
    with runtime.sessions() as s:
        keys = s.scalars(select(OutboxEvent.event_key).order_by(OutboxEvent.event_key)).all()
    assert keys == ["dead", "today", "waiting"]  # pending and dead work is never pruned
    bad = invoke(
        ["crm", "prune", "--older-than", "a month"],
        env={"DIALER_DATABASE_URL": runtime.settings.database_url},
    )
    assert bad.returncode == 2 and "e.g. 30d or 12h" in bad.stderr


def test_ages_read_as_days_or_hours():
    assert parse_age("30d") == timedelta(days=30) and parse_age("12h") == timedelta(hours=12)
    for text in ("0d", "30", "-1d", "3w"):
        with pytest.raises(InvalidInputError, match="positive age"):
            parse_age(text)
