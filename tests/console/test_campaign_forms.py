"""Creating and editing a campaign through the console's form; the status buttons; CSRF on each."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dialer.db import transaction
from dialer.models import AuditEvent, Campaign, CampaignStatus
from dialer.runtime import Runtime
from tests.console.conftest import csrf
from tests.factories import create_campaign

FORM = {
    "name": "autumn-push",
    "seller_name": "Northwind Analytics, Inc.",
    "product": "a data-quality monitoring platform",
    "caller_id": "(312) 555-0199",
    "callback_number": "",
    "agent_name": "Alex",
    "voice_agent": "assemblyai",
    "max_concurrent_calls": "8",
    "max_attempts": "2",
    "retry_delay_seconds": "1800",
    "max_call_seconds": "600",
    "silence_timeout_seconds": "",
    "subject": "data quality",
    "script": "You are {agent_name} calling {first_name} at {company}.",
    "record_calls": "on",
}


def _campaigns(runtime: Runtime) -> list[Campaign]:
    with runtime.sessions() as session:
        return list(session.scalars(select(Campaign).order_by(Campaign.id)))


def _error_of(html: str, field: str) -> str:
    found = re.search(rf'<span class="field-error" id="{field}-error">([^<]*)</span>', html)
    assert found, f"no error shown next to {field}"
    return found.group(1)


def test_ops_creates_a_campaign_with_every_setting(
    runtime: Runtime, logged_in: dict[str, TestClient]
) -> None:
    client = logged_in["ops"]
    assert client.get("/console/campaigns/new").status_code == 200
    answer = client.post(
        "/console/campaigns", data={**FORM, "csrf_token": csrf(client)}, follow_redirects=False
    )
    assert answer.status_code == 303
    (campaign,) = _campaigns(runtime)
    assert answer.headers["location"] == f"/console/campaigns/{campaign.id}?notice=created"
    assert (campaign.status, campaign.caller_id, campaign.callback_number) == (
        CampaignStatus.DRAFT,
        "+13125550199",
        "+13125550199",
    )
    assert (campaign.voice_agent, campaign.max_concurrent_calls, campaign.max_attempts) == (
        "assemblyai",
        8,
        2,
    )
    assert (campaign.max_call_seconds, campaign.silence_timeout_seconds, campaign.record_calls) == (
        600,
        None,
        True,
    )
    assert campaign.script.startswith("You are {agent_name}")
    page = client.get(answer.headers["location"])
    assert "Campaign created" in page.text
    assert re.findall(r'action="/console/campaigns/\d+/(\w+)"', page.text) == ["start", "stop"]


def test_each_bad_field_is_shown_next_to_it_and_nothing_is_saved(
    runtime: Runtime, logged_in: dict[str, TestClient]
) -> None:
    client = logged_in["ops"]
    bad = {
        **FORM,
        "max_concurrent_calls": "0",
        "max_call_seconds": "30",
        "script": "Hello {first_name",
        "csrf_token": csrf(client),
    }
    answer = client.post("/console/campaigns", data=bad)
    assert answer.status_code == 422
    assert "greater than or equal to 1" in _error_of(answer.text, "max_concurrent_calls")
    assert "greater than or equal to 60" in _error_of(answer.text, "max_call_seconds")
    assert 'value="autumn-push"' in answer.text  # what was typed is kept
    assert _campaigns(runtime) == []

    script = client.post(
        "/console/campaigns", data={**FORM, "script": "Hello {first_name", "csrf_token": csrf(client)}
    )
    assert "malformed placeholder" in _error_of(script.text, "script")

    phone = client.post(
        "/console/campaigns", data={**FORM, "caller_id": "555-ABCD", "csrf_token": csrf(client)}
    )
    assert phone.status_code == 422 and "not a valid phone number" in _error_of(phone.text, "caller_id")
    assert _campaigns(runtime) == []


def test_a_taken_name_is_refused_on_the_name_field(
    runtime: Runtime, logged_in: dict[str, TestClient]
) -> None:
    with transaction(runtime.sessions) as session:
        create_campaign(session, name="autumn-push")
    client = logged_in["admin"]
    answer = client.post("/console/campaigns", data={**FORM, "csrf_token": csrf(client)})
    assert answer.status_code == 422 and "already exists" in _error_of(answer.text, "name")
    assert len(_campaigns(runtime)) == 1


def test_editing_saves_the_changes_and_audits_what_changed(
    runtime: Runtime, logged_in: dict[str, TestClient]
) -> None:
    with transaction(runtime.sessions) as session:
        campaign_id = create_campaign(session, name="autumn-push", status=CampaignStatus.PAUSED).id
    client = logged_in["ops"]
    form = client.get(f"/console/campaigns/{campaign_id}/edit")
    assert form.status_code == 200 and 'value="autumn-push"' in form.text
    data = {**FORM, "max_concurrent_calls": "12", "csrf_token": csrf(client)}
    answer = client.post(f"/console/campaigns/{campaign_id}/edit", data=data, follow_redirects=False)
    assert answer.headers["location"] == f"/console/campaigns/{campaign_id}?notice=updated"
    (campaign,) = _campaigns(runtime)
    assert (campaign.max_concurrent_calls, campaign.voice_agent, campaign.subject) == (
        12,
        "assemblyai",
        "data quality",
    )
    with runtime.sessions() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.kind == "campaign.updated")).one()
    assert event.actor == "user:ops"
    assert event.payload["changed"]["max_concurrent_calls"] == {"from": 5, "to": 12}
    assert set(event.payload["changed"]["script"]["to"]) == {"sha256", "characters"}

    again = client.post(f"/console/campaigns/{campaign_id}/edit", data=data, follow_redirects=False)
    assert again.headers["location"].endswith("notice=unchanged")


def test_a_refused_edit_changes_nothing(runtime: Runtime, logged_in: dict[str, TestClient]) -> None:
    with transaction(runtime.sessions) as session:
        campaign_id = create_campaign(session, name="autumn-push").id
        create_campaign(session, name="winter")
    client = logged_in["ops"]
    data = {**FORM, "name": "winter", "max_concurrent_calls": "12", "csrf_token": csrf(client)}
    answer = client.post(f"/console/campaigns/{campaign_id}/edit", data=data)
    assert answer.status_code == 422 and "already exists" in _error_of(answer.text, "name")
    with runtime.sessions() as session:
        campaign = session.get_one(Campaign, campaign_id)
        assert (campaign.name, campaign.max_concurrent_calls) == ("autumn-push", 5)
        assert (
            session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.kind == "campaign.updated")
            )
            == 0
        )


def test_start_pause_resume_stop_offer_only_legal_moves(
    runtime: Runtime, logged_in: dict[str, TestClient]
) -> None:
    with transaction(runtime.sessions) as session:
        campaign_id = create_campaign(session, name="autumn-push", status=CampaignStatus.DRAFT).id
    client = logged_in["ops"]
    base = f"/console/campaigns/{campaign_id}"
    expected = {
        "start": ["pause", "stop"],
        "pause": ["resume", "stop"],
        "resume": ["pause", "stop"],
        "stop": [],
    }
    for action, buttons in expected.items():
        answer = client.post(f"{base}/{action}", data={"csrf_token": csrf(client)})
        assert answer.status_code == 200, action
        assert re.findall(r'action="/console/campaigns/\d+/(\w+)"', answer.text) == buttons, action
    refused = client.post(f"{base}/resume", data={"csrf_token": csrf(client)})
    assert refused.status_code == 409 and "cannot resume" in refused.text
    assert _campaigns(runtime)[0].status == CampaignStatus.STOPPED


def test_every_form_needs_its_csrf_token(runtime: Runtime, logged_in: dict[str, TestClient]) -> None:
    with transaction(runtime.sessions) as session:
        campaign_id = create_campaign(session, name="autumn-push", status=CampaignStatus.DRAFT).id
    client = logged_in["ops"]
    for path, data in (
        ("/console/campaigns", FORM),
        (f"/console/campaigns/{campaign_id}/edit", FORM),
        *((f"/console/campaigns/{campaign_id}/{a}", {}) for a in ("start", "pause", "resume", "stop")),
    ):
        answer = client.post(path, data=data)
        assert answer.status_code == 403 and "CSRF" in answer.text, path
    (campaign,) = _campaigns(runtime)
    assert (campaign.status, campaign.name) == (CampaignStatus.DRAFT, "autumn-push")


def test_compliance_and_reps_cannot_change_campaigns(
    runtime: Runtime, logged_in: dict[str, TestClient]
) -> None:
    with transaction(runtime.sessions) as session:
        campaign_id = create_campaign(session, name="autumn-push", status=CampaignStatus.DRAFT).id
    for role in ("compliance", "rep"):
        client = logged_in[role]
        assert client.get("/console/campaigns/new").status_code == 403, role
        assert client.get(f"/console/campaigns/{campaign_id}/edit").status_code == 403, role
        start = client.post(f"/console/campaigns/{campaign_id}/start", data={"csrf_token": csrf(client)})
        assert start.status_code == 403 and "Not allowed" in start.text, role
        created = client.post("/console/campaigns", data={**FORM, "name": "x", "csrf_token": csrf(client)})
        assert created.status_code == 403, role
    assert _campaigns(runtime)[0].status == CampaignStatus.DRAFT


def test_the_form_sets_who_gets_the_meetings_and_refuses_a_non_rep(
    runtime: Runtime, logged_in: dict[str, TestClient]
) -> None:
    from dialer.assignment_rules import rules_of

    client = logged_in["ops"]
    refused = client.post(
        "/console/campaigns", data={**FORM, "assignment": "fixed:ops", "csrf_token": csrf(client)}
    )
    assert refused.status_code == 422
    assert "&#39;ops&#39; is not an active rep" in _error_of(refused.text, "assignment")
    assert _campaigns(runtime) == []  # nothing half-saved
    malformed = client.post(
        "/console/campaigns", data={**FORM, "assignment": "lottery:rep", "csrf_token": csrf(client)}
    )
    assert "unknown rule &#39;lottery&#39;" in _error_of(malformed.text, "assignment")

    made = client.post(
        "/console/campaigns",
        data={**FORM, "assignment": "round_robin:rep", "csrf_token": csrf(client)},
        follow_redirects=False,
    )
    assert made.status_code == 303
    (campaign,) = _campaigns(runtime)
    edit = client.get(f"/console/campaigns/{campaign.id}/edit")
    assert 'value="round_robin:rep"' in edit.text
    saved = client.post(
        f"/console/campaigns/{campaign.id}/edit",
        data={**FORM, "assignment": "none", "csrf_token": csrf(client)},
        follow_redirects=False,
    )
    assert saved.headers["location"].endswith("?notice=updated")  # only the rule changed
    with runtime.sessions() as session:
        assert str(rules_of(session, campaign_ids=[campaign.id])[campaign.id]) == "none"
