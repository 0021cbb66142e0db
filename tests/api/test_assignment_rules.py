"""Issue 10 item 3: meetings assigned to reps by a campaign rule (fixed owner, round robin)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from crm.meetings import book_meeting
from dialer.assignment_rules import RuleSpec, parse_rule
from dialer.db import transaction
from dialer.errors import InvalidInputError
from dialer.models import AssignmentRuleKind, AuditEvent, Campaign, MeetingAssignment, Role, User
from tests.api.conftest import bearer
from tests.factories import create_attempt, create_campaign, create_lead

MONDAY_11_CHICAGO = datetime(2026, 11, 23, 11, 0, tzinfo=ZoneInfo("America/Chicago"))


def test_rules_are_read_as_written_and_bad_ones_say_what_is_wrong():
    assert parse_rule("none") == RuleSpec()
    assert parse_rule("fixed:Alice") == RuleSpec(AssignmentRuleKind.FIXED, ("alice",))
    assert str(parse_rule("round_robin:a1, b2,c3")) == "round_robin:a1,b2,c3"
    for text, problem in (
        ("everyone", "unknown rule 'everyone'"),
        ("fixed:a1,b2", "exactly one rep"),
        ("fixed", "exactly one rep"),
        ("round_robin", "names its reps"),
        ("round_robin:a1,,b2", "names its reps"),
        ("round_robin:a1,b2,A1", "a1 more than once"),
        ("none:a1", "names no reps"),
    ):
        with pytest.raises(InvalidInputError, match=problem):
            parse_rule(text)


def _reps(runtime, *names: str) -> None:
    with transaction(runtime.sessions) as session:
        session.add_all(User(username=n, role=Role.REP, password_hash="unused") for n in names)


def _book(runtime, campaign_id: int, n: int) -> int:
    with transaction(runtime.sessions) as session:
        campaign = session.get_one(Campaign, campaign_id)
        lead = create_lead(session, campaign, f"+1312555{n:04d}")
        attempt = create_attempt(session, campaign, lead)
        meeting, _ = book_meeting(
            session,
            campaign_id=campaign_id,
            lead_id=lead.id,
            attempt_id=attempt.id,
            preferred_time="Tuesday at 2pm",
            email=f"lead{n}@example.com",
            lead_timezone="America/Chicago",
            now=MONDAY_11_CHICAGO,
        )
        return meeting.id


def _owners(runtime) -> Counter[str]:
    with runtime.sessions() as session:
        owners = select(User.username).join(MeetingAssignment, MeetingAssignment.user_id == User.id)
        return Counter(session.scalars(owners))


def test_a_fixed_owner_sees_every_meeting_of_the_campaign_as_a_rep(api, tokens, runtime):
    ops = bearer(tokens["ops"])
    created = api.post(
        "/api/campaigns",
        headers=ops,
        json={
            "name": "spring",
            "seller_name": "Northwind Analytics, Inc.",
            "caller_id": "+13125550199",
            "assignment": {"rule": "fixed", "reps": ["rep"]},
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["assignment"] == {"rule": "fixed", "reps": ["rep"]}
    campaign_id = created.json()["id"]
    booked = [_book(runtime, campaign_id, n) for n in (1, 2)]

    since = {"since": "2026-11-01T00:00:00Z"}
    mine = api.get("/api/meetings", headers=bearer(tokens["rep"]), params=since).json()
    assert [(m["meeting_id"], m["rep"]) for m in mine] == [(booked[0], "rep"), (booked[1], "rep")]
    with runtime.sessions() as session:
        actors = session.scalars(select(AuditEvent.actor).where(AuditEvent.kind == "meeting.assigned")).all()
    assert actors == ["rule:fixed", "rule:fixed"]

    _reps(runtime, "rhea")  # a manual reassignment wins over the rule
    moved = api.put(f"/api/meetings/{booked[0]}/rep", headers=ops, json={"username": "rhea"})
    assert moved.status_code == 204
    mine = api.get("/api/meetings", headers=bearer(tokens["rep"]), params=since).json()
    assert [m["meeting_id"] for m in mine] == [booked[1]]


def test_a_rule_naming_someone_not_an_active_rep_is_refused_with_their_name(api, tokens, runtime):
    ops = bearer(tokens["ops"])
    with transaction(runtime.sessions) as session:
        campaign_id = create_campaign(session, name="autumn").id
    for reps, named in ((["rep", "nobody"], "'nobody'"), (["compliance"], "'compliance'")):
        refused = api.patch(
            f"/api/campaigns/{campaign_id}",
            headers=ops,
            json={"assignment": {"rule": "round_robin", "reps": reps}},
        )
        assert refused.status_code == 422, refused.text
        assert f"{named} is not an active rep" in refused.json()["error"]["message"]
    shape = api.patch(
        f"/api/campaigns/{campaign_id}", headers=ops, json={"assignment": {"rule": "fixed", "reps": []}}
    )
    assert shape.status_code == 422 and "exactly one rep" in shape.json()["error"]["message"]
    listed = api.get("/api/campaigns", headers=ops).json()
    assert [c["assignment"] for c in listed] == [{"rule": "none", "reps": []}]


def test_round_robin_is_fair_under_concurrent_bookings_and_skips_a_disabled_rep(api, tokens, runtime):
    """Nine bookings from nine threads at once give each of three reps exactly three meetings.

    Each booking takes its turn with ``UPDATE ... RETURNING`` on the rule's row: a read of the
    counter followed by a write would let two bookings read the same turn and skip a rep.
    """
    _reps(runtime, "rhea", "ravi")
    with transaction(runtime.sessions) as session:
        campaign_id = create_campaign(session, name="autumn").id
    ops = bearer(tokens["ops"])
    rule = {"rule": "round_robin", "reps": ["rep", "rhea", "ravi"]}
    set_rule = api.patch(f"/api/campaigns/{campaign_id}", headers=ops, json={"assignment": rule})
    assert set_rule.status_code == 200

    start = threading.Barrier(9)
    errors: list[BaseException] = []

    def book(n: int) -> None:
        try:
            start.wait(timeout=30)
            _book(runtime, campaign_id, n)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=book, args=(n,)) for n in range(9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert _owners(runtime) == {"rep": 3, "rhea": 3, "ravi": 3}

    with transaction(runtime.sessions) as session:
        session.scalars(select(User).where(User.username == "rhea")).one().disabled_at = MONDAY_11_CHICAGO
    for n in range(10, 14):
        _book(runtime, campaign_id, n)
    assert _owners(runtime) == {"rep": 5, "rhea": 3, "ravi": 5}
