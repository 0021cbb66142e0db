"""Issue 10 item 5: CRM sync to HubSpot through the outbox, against the sandbox HubSpot.

The sandbox (``sandbox.hubspot``) answers the CRM v3 endpoints the adapter uses with HubSpot's
request and response shapes, through HubSpot's own Python client, and fails on demand.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select, text

from crm.meetings import book_meeting
from crm.outbox import build_destinations, drain
from crm.transcripts import transcript_signature
from dialer.accounts import set_hubspot_owner
from dialer.assignment_rules import parse_rule, set_rule
from dialer.calls.attempts import CallStatusUpdate, apply_call_status
from dialer.calls.outcomes import record_attempt_disposition
from dialer.crm_settings import CrmSettings, HubSpotSettings, OutboxParams
from dialer.db import transaction
from dialer.models import (
    AttemptStatus,
    DispositionName,
    DispositionSource,
    OutboxDelivery,
    OutboxEvent,
    OutboxMessage,
    OutboxStatus,
    Role,
    User,
)
from sandbox.hubspot import DEFAULT_TOKEN, create_hubspot_app
from tests.cli import invoke
from tests.factories import create_attempt, create_campaign, create_lead
from tests.servers import serve_in_thread

OWNER = "5550001"
LINK_SECRET = "links-0123456789abcdefghijkl"


@pytest.fixture
def hubspot() -> Iterator[tuple[str, httpx.Client]]:
    """The sandbox HubSpot served on a kernel-picked port: (its URL, a client for its admin API)."""
    app = create_hubspot_app()
    with serve_in_thread(app) as port:
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url) as admin:
            yield url, admin


def _synced(runtime, url: str, **outbox: object):
    crm = CrmSettings(
        link_secret=LINK_SECRET,
        backend="hubspot",
        hubspot=HubSpotSettings(
            access_token=DEFAULT_TOKEN, base_url=url, owner_id=OWNER, timeout_seconds=1.0
        ),
        outbox=OutboxParams(max_attempts=4, base_delay_seconds=30, max_delay_seconds=600, **outbox),
    )
    return dataclasses.replace(runtime, settings=runtime.settings.model_copy(update={"crm": crm}))


def _drain(runtime) -> dict[str, int]:
    with httpx.Client() as http:
        return drain(runtime, build_destinations(runtime.settings, http)).as_dict()


def _book(runtime, *, email: str = "ava@brightlane.example") -> int:
    with transaction(runtime.sessions) as s:
        campaign = create_campaign(s)
        lead = create_lead(s, campaign, email=email)
        attempt = create_attempt(s, campaign, lead)
        meeting, _ = book_meeting(
            s,
            campaign_id=campaign.id,
            lead_id=lead.id,
            attempt_id=attempt.id,
            preferred_time="Tuesday at 2pm",
            email=email,
            lead_timezone="America/Chicago",
            now=runtime.clock.now(),
            tool_call_id="call_1",
        )
        return meeting.id


def _message(runtime) -> OutboxMessage:
    with runtime.sessions() as s:
        return s.scalars(select(OutboxMessage)).one()


def test_a_booked_meeting_survives_an_outage_and_lands_once(runtime, hubspot):
    url, admin = hubspot
    rt = _synced(runtime, url)
    meeting_id = _book(rt)
    admin.post("/sandbox/faults", json={"fail": 2, "status": 503, "mode": "before"})

    assert _drain(rt) == {"routed": 1, "pending": 1, "delivered": 0, "dead": 0}
    first = _message(rt)
    assert first.attempts == 1 and "503" in (first.last_error or "")
    assert first.next_attempt_at == rt.clock.now() + timedelta(seconds=30)
    assert _drain(rt)["pending"] == 0  # not due yet: nothing is tried
    rt.clock.advance(seconds=30)
    assert _drain(rt)["pending"] == 1  # the second failure waits twice as long
    assert _message(rt).next_attempt_at == rt.clock.now() + timedelta(seconds=60)
    rt.clock.advance(seconds=60)
    assert _drain(rt)["delivered"] == 1

    objects = admin.get("/sandbox/objects").json()
    assert [c["properties"]["email"] for c in objects["contacts"]] == ["ava@brightlane.example"]
    (meeting,) = objects["meetings"]
    assert meeting["properties"]["hubspot_owner_id"] == OWNER
    assert (
        meeting["properties"]["hs_meeting_external_url"]
        == f"https://dialer.example.com/crm/meetings/{meeting_id}"
    )
    assert meeting["properties"]["hs_meeting_title"] == "Intro call: Ava Thompson (Brightlane Logistics)"
    contact_id = objects["contacts"][0]["id"]
    assert objects["associations"] == [
        {
            "from": {"type": "meetings", "id": meeting["id"]},
            "to": {"type": "contacts", "id": contact_id},
            "typeId": 200,
        }
    ]
    done = _message(rt)
    assert done.status == OutboxStatus.DELIVERED
    assert done.result == {"contact_id": contact_id, "meeting_id": meeting["id"]}
    with rt.sessions() as s:
        log = s.scalars(select(OutboxDelivery).order_by(OutboxDelivery.id)).all()
    assert [(d.attempt, d.ok, d.status_code) for d in log] == [
        (1, False, 503),
        (2, False, 503),
        (3, True, None),
    ]


@pytest.mark.parametrize(
    "fault",
    [
        {"skip": 1, "fail": 1, "status": 502, "mode": "after"},  # created, but told it failed
        {"skip": 1, "fail": 1, "mode": "timeout", "delay_ms": 3000},  # created, answer too late
    ],
    ids=["lost-answer", "timeout"],
)
def test_a_retry_after_an_unknown_outcome_creates_no_duplicate(runtime, hubspot, fault):
    url, admin = hubspot
    rt = _synced(runtime, url)
    _book(rt)
    # The upsert passes; the meeting's create (the first try's second request: it has nothing
    # to look up) is lost. The retry looks the meeting up by its URL and finds it.
    admin.post("/sandbox/faults", json=fault)
    assert _drain(rt)["pending"] == 1
    assert len(admin.get("/sandbox/objects").json()["meetings"]) == 1  # HubSpot has it already
    rt.clock.advance(seconds=30)
    assert _drain(rt)["delivered"] == 1
    objects = admin.get("/sandbox/objects").json()
    assert (
        len(objects["meetings"]) == 1 and len(objects["contacts"]) == 1 and len(objects["associations"]) == 1
    )


def test_a_long_outage_ends_in_the_dead_letters_shown_by_the_cli_and_retry_delivers(runtime, hubspot):
    url, admin = hubspot
    rt = _synced(runtime, url)
    _book(rt)
    admin.post("/sandbox/faults", json={"fail": 100, "status": 503})
    for _ in range(4):
        _drain(rt)
        rt.clock.advance(seconds=600)
    dead = _message(rt)
    assert dead.status == OutboxStatus.DEAD and dead.attempts == 4 and "503" in (dead.last_error or "")
    env = {"DIALER_DATABASE_URL": rt.settings.database_url}
    shown = invoke(["crm", "outbox", "--status", "dead"], env=env)
    assert shown.returncode == 0, shown.stderr
    assert "crm:hubspot" in shown.stdout and "dead" in shown.stdout and "503" in shown.stdout
    log = invoke(["crm", "outbox", "--message", str(dead.id)], env=env)
    assert log.stdout.count("503") >= 4

    admin.post("/sandbox/faults", json={"fail": 0})
    assert _drain(rt)["delivered"] == 0  # dead letters wait for a person
    again = invoke(["crm", "retry", str(dead.id)], env=env)
    assert again.returncode == 0 and "1 messages re-queued" in again.stdout
    rt.clock.at = datetime.now(UTC) + timedelta(seconds=1)  # the command ran on the system clock
    assert _drain(rt)["delivered"] == 1
    assert invoke(["crm", "retry", str(dead.id)], env=env).returncode == 2  # delivered now, not dead


def test_a_completed_call_is_logged_on_the_contact_found_by_phone(runtime, hubspot):
    url, admin = hubspot
    rt = _synced(runtime, url)
    with transaction(rt.sessions) as s:
        campaign = create_campaign(s)
        lead = create_lead(s, campaign)  # no email: found or created by phone
        attempt = create_attempt(s, campaign, lead)
        attempt.call_sid = "CA" + "1" * 32
        attempt_id = attempt.id
    for status, seq in ((AttemptStatus.IN_PROGRESS, 1), (AttemptStatus.COMPLETED, 2)):
        with transaction(rt.sessions) as s:
            if status == AttemptStatus.COMPLETED:  # the agent logged the outcome during the call
                record_attempt_disposition(
                    s,
                    attempt_id=attempt_id,
                    name=DispositionName.NOT_INTERESTED,
                    source=DispositionSource.AGENT,
                    now=rt.clock.now(),
                    notes="has a vendor",
                )
            duration = 95 if status == AttemptStatus.COMPLETED else None
            update = CallStatusUpdate("CA" + "1" * 32, status, sequence_number=seq, duration_seconds=duration)
            apply_call_status(s, attempt_id=attempt_id, update_=update, now=rt.clock.now())
    assert _drain(rt)["delivered"] == 1
    objects = admin.get("/sandbox/objects").json()
    (contact,) = objects["contacts"]
    (call,) = objects["calls"]
    assert contact["properties"]["phone"] == "+13125550101" and "email" not in contact["properties"]
    props = call["properties"]
    assert props["hs_call_external_id"] == f"ai-dialer-attempt-{attempt_id}"
    assert props["hs_call_status"] == "COMPLETED" and props["hs_call_duration"] == "95000"
    assert props["hs_call_direction"] == "OUTBOUND" and props["hubspot_owner_id"] == OWNER
    sig = transcript_signature(LINK_SECRET, attempt_id)
    assert f"https://dialer.example.com/crm/calls/{attempt_id}/transcript?sig={sig}" in props["hs_call_body"]
    assert "Disposition: not_interested\n- not_interested: has a vendor" in props["hs_call_body"]
    assert objects["associations"][0]["typeId"] == 194


def test_the_event_commits_or_rolls_back_with_the_booking(runtime, hubspot):
    url, _ = hubspot
    rt = _synced(runtime, url)
    with pytest.raises(RuntimeError), transaction(rt.sessions) as s:
        campaign = create_campaign(s)
        lead = create_lead(s, campaign)
        attempt = create_attempt(s, campaign, lead)
        book_meeting(
            s,
            campaign_id=campaign.id,
            lead_id=lead.id,
            attempt_id=attempt.id,
            preferred_time="Tuesday at 2pm",
            email="ava@example.com",
            lead_timezone="America/Chicago",
            now=rt.clock.now(),
        )
        raise RuntimeError("the tool's transaction fails after the booking")
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxEvent)) == 0


@pytest.fixture
def rhea(runtime) -> Iterator[str]:
    """A rep whose HubSpot owner id is 7770002 (set as ``dialer users set-hubspot-owner`` does)."""
    with transaction(runtime.sessions) as s:
        s.add(User(username="rhea", role=Role.REP, password_hash="unused"))
        s.flush()
        set_hubspot_owner(s, username="rhea", owner_id="7770002", now=runtime.clock.now(), actor="test")
    yield "rhea"
    with transaction(runtime.sessions) as s:
        s.execute(text("TRUNCATE users CASCADE"))


def test_the_meeting_and_its_call_carry_the_reps_own_hubspot_owner(runtime, hubspot, rhea):
    url, admin = hubspot
    rt = _synced(runtime, url)
    with transaction(rt.sessions) as s:
        campaign = create_campaign(s)
        set_rule(s, campaign=campaign, rule=parse_rule(f"fixed:{rhea}"), now=rt.clock.now(), actor="test")
        lead = create_lead(s, campaign, email="ava@brightlane.example")
        attempt = create_attempt(s, campaign, lead)
        attempt.call_sid, attempt.status = "CA" + "2" * 32, AttemptStatus.IN_PROGRESS
        attempt_id = attempt.id
        book_meeting(
            s,
            campaign_id=campaign.id,
            lead_id=lead.id,
            attempt_id=attempt.id,
            preferred_time="Tuesday at 2pm",
            email="ava@brightlane.example",
            lead_timezone="America/Chicago",
            now=rt.clock.now(),
        )
    with transaction(rt.sessions) as s:
        update = CallStatusUpdate(
            "CA" + "2" * 32, AttemptStatus.COMPLETED, sequence_number=2, duration_seconds=80
        )
        apply_call_status(s, attempt_id=attempt_id, update_=update, now=rt.clock.now())
    assert _drain(rt)["delivered"] == 2
    objects = admin.get("/sandbox/objects").json()
    assert [m["properties"]["hubspot_owner_id"] for m in objects["meetings"]] == ["7770002"]
    assert [c["properties"]["hubspot_owner_id"] for c in objects["calls"]] == ["7770002"]
    # First tries have nothing to find: the meeting and the call are created without a search.
    assert [r for r in admin.get("/sandbox/stats").json() if "/search" in r] == []
