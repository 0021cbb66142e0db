""" "My meetings": a rep sees their own meetings only (list, URL, feed); ops assign; zones; the feed link."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import select

from dialer import accounts
from dialer.db import transaction
from dialer.models import AuditEvent
from dialer.runtime import Runtime
from tests.console.conftest import PASSWORD, csrf
from tests.console.rep_data import FEED_SECRET, RepMeetings, make_meetings, with_feeds


@pytest.fixture
def api(runtime: Runtime, users: dict[str, str]):  # noqa: F811 - the console conftest's, with feeds on
    """The app with calendar feeds on (``DIALER_CALENDAR_FEED_TOKEN``)."""
    from bridge.app import create_app
    from tests.fakes.agent import FakeVoiceAgent

    with TestClient(
        create_app(runtime=with_feeds(runtime), agent=FakeVoiceAgent()), base_url="https://testserver"
    ) as client:
        yield client


@pytest.fixture
def booked(runtime: Runtime, users: dict[str, str]) -> RepMeetings:
    return make_meetings(runtime)


def _cards(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'data-meeting="(\d+)"', html)}


def _section(html: str, title: str) -> str:
    start = html.index(f"<h2>{title}")
    end = html.find("<h2>", start + 1)
    return html[start : end if end > 0 else None]


def test_a_rep_sees_only_their_own_meetings_upcoming_and_past(logged_in, booked: RepMeetings) -> None:
    page = logged_in["rep"].get("/console/meetings")
    assert page.status_code == 200
    assert _cards(_section(page.text, "Upcoming")) == {booked.ids["Ava"]}
    assert _cards(_section(page.text, "Past")) == {booked.ids["Grace"]}
    assert "Marcus" not in page.text and "Emma" not in page.text
    # another rep's filter is ignored: still only their own
    guessed = logged_in["rep"].get("/console/meetings", params={"rep": "rhea"})
    assert _cards(guessed.text) == {booked.ids["Ava"], booked.ids["Grace"]}
    assert 'name="username"' not in page.text  # no assign control for a rep


def test_a_rep_guessing_another_reps_meeting_url_gets_404(logged_in, booked: RepMeetings) -> None:
    rep = logged_in["rep"]
    for other in ("Marcus", "Emma"):
        answer = rep.get(f"/console/meetings/{booked.ids[other]}")
        assert answer.status_code == 404 and "Marcus" not in answer.text, other
    assert rep.get(f"/console/meetings/{booked.ids['Ava']}").status_code == 200
    assert rep.get("/console/meetings/999999").status_code == 404
    refused = rep.post(
        f"/console/meetings/{booked.ids['Marcus']}/rep", data={"username": "rep", "csrf_token": csrf(rep)}
    )
    assert refused.status_code == 403 and "Not allowed" in refused.text


def test_times_show_in_the_reps_zone_and_the_leads(logged_in, booked: RepMeetings) -> None:
    rep = logged_in["rep"]
    card = rep.get(f"/console/meetings/{booked.ids['Ava']}").text
    assert "Tue Nov 24, 8:00 PM UTC" in card  # 2 pm in Chicago, the rep's zone not chosen yet: UTC
    assert "their time: Tue Nov 24, 2:00 PM CST" in card and "America/Chicago" in card
    assert rep.post("/console/meetings/zone", data={"zone": "America/New_York"}).status_code == 403  # no CSRF
    chosen = rep.post("/console/meetings/zone", data={"zone": "America/New_York", "csrf_token": csrf(rep)})
    assert chosen.status_code == 200 and "Tue Nov 24, 3:00 PM EST" in chosen.text
    refused = rep.post("/console/meetings/zone", data={"zone": "Mars/Olympus", "csrf_token": csrf(rep)})
    assert refused.status_code == 422 and "Mars/Olympus" in refused.text


def test_the_card_has_the_leads_details_and_the_turns_around_the_booking(
    logged_in, booked: RepMeetings
) -> None:
    card = logged_in["rep"].get(f"/console/meetings/{booked.ids['Ava']}").text
    for detail in (
        "Brightlane Logistics",
        "VP Operations",
        "+13125550101",
        "ava@brightlane.example",
        "Q4 logistics outreach",
    ):
        assert detail in card, detail
    assert "Runs a 40-truck fleet" in card  # the agent's notes
    turns = re.findall(r'<li class="turn (agent|caller)">', card)
    assert len(turns) == 6
    assert "Tuesday at 2pm works for me." in card and "The invite is on its way" in card  # before and after
    assert "AI assistant calling on behalf" not in card  # the call's opening is outside the excerpt


def test_ops_see_every_meeting_filter_by_rep_and_reassign(
    logged_in, booked: RepMeetings, runtime: Runtime
) -> None:
    ops, rep = logged_in["ops"], logged_in["rep"]
    assert _cards(ops.get("/console/meetings").text) == {
        booked.ids[n] for n in ("Ava", "Marcus", "Emma", "Grace")
    }
    assert _cards(ops.get("/console/meetings", params={"rep": "rhea"}).text) == {booked.ids["Marcus"]}
    target = f"/console/meetings/{booked.ids['Emma']}/rep"
    assert ops.post(target, data={"username": "rep"}).status_code == 403  # no CSRF token
    done = ops.post(target, data={"username": "rep", "csrf_token": csrf(ops)}, follow_redirects=False)
    assert done.status_code == 303
    assert booked.ids["Emma"] in _cards(rep.get("/console/meetings").text)
    moved = ops.post(
        f"/console/meetings/{booked.ids['Ava']}/rep", data={"username": "rhea", "csrf_token": csrf(ops)}
    )
    assert moved.status_code == 200
    assert booked.ids["Ava"] not in _cards(rep.get("/console/meetings").text)
    assert rep.get(f"/console/meetings/{booked.ids['Ava']}").status_code == 404
    not_a_rep = ops.post(target, data={"username": "compliance", "csrf_token": csrf(ops)})
    assert not_a_rep.status_code == 409 and "not an active rep" in not_a_rep.text
    with runtime.sessions() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.kind == "meeting.assigned")).all()
    assert [(e.actor, e.payload["username"]) for e in events][-2:] == [
        ("user:ops", "rep"),
        ("user:ops", "rhea"),
    ]


def test_compliance_reads_every_meeting_but_cannot_assign(logged_in, booked: RepMeetings) -> None:
    page = logged_in["compliance"].get("/console/meetings").text
    assert len(_cards(page)) == 4 and 'name="username"' not in page
    client = logged_in["compliance"]
    answer = client.post(
        f"/console/meetings/{booked.ids['Emma']}/rep", data={"username": "rep", "csrf_token": csrf(client)}
    )
    assert answer.status_code == 403


def _feed_url(html: str) -> str:
    match = re.search(r'id="feed-url"[^>]* value="([^"]+)"', html)
    assert match, "no feed URL on the page"
    return match.group(1).replace("&amp;", "&")


def _feed_meetings(api: TestClient, url: str) -> set[str]:
    answer = api.get(url.removeprefix("https://dialer.example.com"))
    assert answer.status_code == 200, answer.text
    return {str(e["uid"]) for e in Calendar.from_ical(answer.content).walk("VEVENT")}


def test_a_reps_feed_has_their_meetings_only_and_a_new_link_revokes_the_old(
    api: TestClient, logged_in, booked: RepMeetings, runtime: Runtime
) -> None:
    rep = logged_in["rep"]
    old = _feed_url(rep.get("/console/meetings").text)
    assert old.startswith("https://dialer.example.com/crm/calendar.ics?token=cal_")
    mine = {f"meeting-{booked.ids[n]}@ai-campaign-dialer" for n in ("Ava", "Grace")}
    assert _feed_meetings(api, old) == mine
    assert rep.post("/console/meetings/feed").status_code == 403  # no CSRF token
    renewed = rep.post("/console/meetings/feed", data={"csrf_token": csrf(rep)})
    new = _feed_url(renewed.text)
    assert new != old
    assert api.get(old.removeprefix("https://dialer.example.com")).status_code == 403
    assert _feed_meetings(api, new) == mine
    rhea = TestClient(api.app, base_url="https://testserver")
    rhea.post("/console/login", data={"username": "rhea", "password": PASSWORD})
    assert _feed_meetings(api, _feed_url(rhea.get("/console/meetings").text)) == {
        f"meeting-{booked.ids['Marcus']}@ai-campaign-dialer"
    }
    assert (
        len(_feed_meetings(api, f"/crm/calendar.ics?token={FEED_SECRET}")) == 4
    )  # the team feed: everyone's
    with runtime.sessions() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.kind == "calendar_feed.renewed")).one()
    assert event.actor == "user:rep" and event.payload == {"username": "rep", "generation": 1}


def test_the_feed_box_says_when_feeds_are_off(runtime: Runtime, users, booked: RepMeetings) -> None:
    from bridge.app import create_app
    from tests.fakes.agent import FakeVoiceAgent

    with TestClient(
        create_app(runtime=runtime, agent=FakeVoiceAgent()), base_url="https://testserver"
    ) as client:
        client.post("/console/login", data={"username": "rep", "password": PASSWORD})
        page = client.get("/console/meetings").text
        assert "Calendar feeds are off" in page and 'id="feed-url"' not in page
        assert client.post("/console/meetings/feed", data={"csrf_token": csrf(client)}).status_code == 404


def test_a_disabled_reps_feed_stops_working(
    api: TestClient, logged_in, booked: RepMeetings, runtime: Runtime
) -> None:
    url = _feed_url(logged_in["rep"].get("/console/meetings").text).removeprefix("https://dialer.example.com")
    assert api.get(url).status_code == 200
    with transaction(runtime.sessions) as session:
        accounts.disable_user(session, username="rep", now=runtime.clock.now(), actor="user:admin")
    assert api.get(url).status_code == 403
    assert api.get("/crm/calendar.ics", params={"token": "cal_1_" + "A" * 43}).status_code == 403
