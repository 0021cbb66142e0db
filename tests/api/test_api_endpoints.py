"""What the REST API does for each family: campaigns, lead imports, meetings, DNC, audit export."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import schemathesis
from sqlalchemy import event, select

from dialer import accounts
from dialer.db import transaction
from dialer.errors import ImportFileError
from dialer.leads.service import import_leads
from dialer.models import AuditEvent, Lead, Meeting, Speaker, TranscriptTurn
from tests.api.conftest import PASSWORD, bearer
from tests.factories import create_attempt, create_campaign, create_lead

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_campaign_lifecycle_through_the_api_is_audited_with_the_user(api, tokens, runtime):
    ops = bearer(tokens["ops"])
    created = api.post(
        "/api/campaigns",
        headers=ops,
        json={"name": "spring", "seller_name": "Northwind Analytics, Inc.", "caller_id": "(312) 555-0199"},
    )
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert campaign["status"] == "draft" and campaign["caller_id"] == "+13125550199"
    assert campaign["leads"] == {"by_status": {}, "total": 0, "open": 0}
    for action, status in (("start", "running"), ("pause", "paused"), ("stop", "stopped")):
        moved = api.post(f"/api/campaigns/{campaign['id']}/{action}", headers=ops)
        assert moved.status_code == 200 and moved.json()["status"] == status
    again = api.post(f"/api/campaigns/{campaign['id']}/start", headers=ops)
    assert again.status_code == 409 and again.json()["error"] == {
        "code": "invalid_state",
        "message": "campaign 'spring' cannot go from stopped to running",
    }
    duplicate = api.post(
        "/api/campaigns",
        headers=ops,
        json={"name": "spring", "seller_name": "X", "caller_id": "+13125550199"},
    )
    assert duplicate.status_code == 409
    assert api.get("/api/campaigns/424242", headers=ops).status_code == 404
    with runtime.sessions() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.kind.like("campaign.%"))).all()
    assert [e.kind for e in events] == ["campaign.created"] + ["campaign.status"] * 3
    assert {e.actor for e in events} == {"user:ops"}


def test_lead_import_upload_uses_the_clis_validation(api, tokens, runtime):
    with transaction(runtime.sessions) as session:
        campaign = create_campaign(session, name="autumn")
    good = api.post(
        f"/api/campaigns/{campaign.id}/leads",
        headers=bearer(tokens["ops"]),
        files={
            "file": ("contacts.csv", (FIXTURES / "atomic_crm_test_contacts.csv").read_bytes(), "text/csv")
        },
        data={"region": "US"},
    )
    assert good.status_code == 201, good.text
    body = good.json()
    with runtime.sessions() as session:
        stored = session.scalars(select(Lead).where(Lead.campaign_id == campaign.id)).all()
    assert body["leads_created"] == len(stored) > 0
    assert body["rejected_count"] == len(body["rejected"]) and all(r["row"] > 1 for r in body["rejected"])

    # A file that cannot be imported: the same error as the CLI's, naming the uploaded file.
    with runtime.sessions() as session, pytest.raises(ImportFileError) as cli_error:
        import_leads(
            session,
            campaign_name="autumn",
            path=FIXTURES / "no_phone_column.csv",
            attested_by="x",
            now=runtime.clock.now(),
        )
    bad = api.post(
        f"/api/campaigns/{campaign.id}/leads",
        headers=bearer(tokens["ops"]),
        files={
            "file": (
                "../../etc/no_phone_column.csv",
                (FIXTURES / "no_phone_column.csv").read_bytes(),
                "text/csv",
            )
        },
    )
    assert bad.status_code == 422
    error = bad.json()["error"]
    assert error["code"] == "import_file"
    assert error["message"] == cli_error.value.message.replace(
        str(FIXTURES / "no_phone_column.csv"), "no_phone_column.csv"
    )
    assert error["details"] == {
        "file": "no_phone_column.csv",
        "row": cli_error.value.row,
        "column": cli_error.value.column,
    }
    with runtime.sessions() as session:
        assert len(session.scalars(select(Lead).where(Lead.campaign_id == campaign.id)).all()) == len(stored)

    bad_map = api.post(
        f"/api/campaigns/{campaign.id}/leads",
        headers=bearer(tokens["ops"]),
        files={"file": ("x.csv", b"phone\n+13125550101\n", "text/csv")},
        data={"map": ["phone=phone", "nonsense"]},
    )
    assert bad_map.status_code == 422, bad_map.text
    error = bad_map.json()["error"]
    assert "body.map.1: map 'nonsense': expected COLUMN=FIELD" in error["message"]
    assert error["details"][0]["loc"] == ["body", "map", 1]


def _meeting(session, campaign, phone, minutes):
    lead = create_lead(session, campaign, phone)
    attempt = create_attempt(session, campaign, lead)
    meeting = Meeting(
        campaign_id=campaign.id,
        lead_id=lead.id,
        attempt_id=attempt.id,
        starts_at=campaign.created_at + timedelta(days=30, minutes=minutes),
        lead_timezone="America/Chicago",
        email=f"{phone[-4:]}@example.com",
        requested_text="next month",
    )
    session.add(meeting)
    session.flush()
    return meeting.id


def test_a_rep_sees_only_their_own_meetings(api, tokens, runtime):
    with transaction(runtime.sessions) as session:
        accounts.create_user(
            session, username="rhea", role="rep", password=PASSWORD, now=runtime.clock.now(), actor="t"
        )
        _, rhea_token = accounts.create_token(
            session, username="rhea", name="t", now=runtime.clock.now(), actor="t"
        )
        campaign = create_campaign(session, name="autumn", created_at=runtime.clock.now())
        mine, theirs, nobodys = (_meeting(session, campaign, f"+1312555010{n}", n) for n in (1, 2, 3))
    ops = bearer(tokens["ops"])
    assert api.put(f"/api/meetings/{mine}/rep", headers=ops, json={"username": "rep"}).status_code == 204
    assert api.put(f"/api/meetings/{theirs}/rep", headers=ops, json={"username": "rhea"}).status_code == 204
    not_a_rep = api.put(f"/api/meetings/{nobodys}/rep", headers=ops, json={"username": "compliance"})
    assert not_a_rep.status_code == 409 and "not an active rep" in not_a_rep.json()["error"]["message"]
    assert api.put("/api/meetings/99999/rep", headers=ops, json={"username": "rep"}).status_code == 404

    assert [m["meeting_id"] for m in api.get("/api/meetings", headers=bearer(tokens["rep"])).json()] == [mine]
    assert [m["meeting_id"] for m in api.get("/api/meetings", headers=bearer(rhea_token)).json()] == [theirs]
    everyone = api.get("/api/meetings", headers=ops).json()
    assert [(m["meeting_id"], m["rep"]) for m in everyone] == [
        (mine, "rep"),
        (theirs, "rhea"),
        (nobodys, None),
    ]
    assert everyone[0]["lead_name"] == "Ava Thompson" and everyone[0]["lead_timezone"] == "America/Chicago"
    naive = api.get("/api/meetings", headers=ops, params={"since": "2026-11-01T00:00:00"})
    assert naive.status_code == 422 and "UTC offset" in naive.json()["error"]["message"]


def test_attempts_and_dispositions_page_by_id(api, tokens, runtime):
    with transaction(runtime.sessions) as session:
        campaign = create_campaign(session, name="autumn")
        ids = [
            create_attempt(session, campaign, create_lead(session, campaign, f"+1312555011{n}")).id
            for n in range(3)
        ]
    page = api.get("/api/attempts", headers=bearer(tokens["compliance"]), params={"limit": 2})
    assert [a["id"] for a in page.json()] == ids[:2]
    rest = api.get("/api/attempts", headers=bearer(tokens["compliance"]), params={"after_id": ids[1]})
    assert [a["id"] for a in rest.json()] == ids[2:]
    too_big = api.get("/api/attempts", headers=bearer(tokens["compliance"]), params={"limit": 5000})
    assert too_big.status_code == 422 and too_big.json()["error"]["details"][0]["loc"] == ["query", "limit"]
    assert api.get("/api/dispositions", headers=bearer(tokens["ops"])).json() == []


def test_dnc_add_refuses_a_bad_number_and_lists_entries(api, tokens):
    compliance = bearer(tokens["compliance"])
    bad = api.post("/api/dnc", headers=compliance, json={"phone": "not a number"})
    assert (
        bad.status_code == 422
        and "'not a number' is not a valid phone number" in bad.json()["error"]["message"]
    )
    unknown_field = api.post(
        "/api/dnc", headers=compliance, json={"phone": "+13125550188", "list": "national"}
    )
    assert unknown_field.status_code == 422 and unknown_field.json()["error"]["details"][0]["loc"] == [
        "body",
        "list",
    ]
    assert (
        api.post(
            "/api/dnc", headers=compliance, json={"phone": "+13125550188", "reason": "email"}
        ).status_code
        == 201
    )
    assert [(e["phone_e164"], e["reason"]) for e in api.get("/api/dnc", headers=compliance).json()] == [
        ("+13125550188", "email")
    ]


def test_audit_export_streams_the_log_with_the_api_users_events(api, tokens):
    api.post("/api/auth/login", json={"username": "ops", "password": "wrong password!"})
    response = api.get("/api/audit/export", headers=bearer(tokens["compliance"]))
    assert response.status_code == 200 and response.headers["content-type"] == "application/x-ndjson"
    events = [json.loads(line) for line in response.text.splitlines()]
    assert int(response.headers["X-Audit-Event-Count"]) == len(events)
    kinds = [e["kind"] for e in events]
    assert kinds.count("user.created") == 4 and kinds.count("token.created") == 4
    assert kinds[-1] == "auth.login_failed"
    as_csv = api.get("/api/audit/export", headers=bearer(tokens["admin"]), params={"format": "csv"})
    assert as_csv.status_code == 200 and as_csv.text.splitlines()[0].startswith("id,")
    missing = api.get("/api/audit/export", headers=bearer(tokens["admin"]), params={"campaign_id": 4242})
    assert missing.status_code == 404


def test_the_openapi_document_lists_the_api_and_leaves_the_carrier_out(api):
    doc = api.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    loaded = schemathesis.openapi.from_dict(doc)
    loaded.validate()  # against the OpenAPI meta-schema; raises on an invalid document
    assert all(result.ok() for result in loaded.get_all_operations())
    paths = set(doc["paths"])
    assert {
        "/api/auth/login",
        "/api/auth/logout",
        "/api/auth/me",
        "/api/campaigns",
        "/api/campaigns/{campaign_id}",
        "/api/campaigns/{campaign_id}/start",
        "/api/campaigns/{campaign_id}/pause",
        "/api/campaigns/{campaign_id}/stop",
        "/api/campaigns/{campaign_id}/leads",
        "/api/attempts",
        "/api/meetings",
        "/api/meetings/{meeting_id}/rep",
        "/api/dispositions",
        "/api/dnc",
        "/api/audit/export",
    } <= paths
    assert not [p for p in paths if p.startswith("/twilio")]
    schemes = doc["components"]["securitySchemes"]
    assert schemes["HTTPBearer"]["scheme"] == "bearer" and schemes["APIKeyCookie"]["name"] == "dialer_session"
    assert doc["paths"]["/api/dnc"]["post"]["security"]


def test_meetings_page_by_cursor_with_their_excerpts_in_a_fixed_number_of_queries(api, tokens, runtime):
    """Review: GET /api/meetings returned every meeting and ran one transcript query per meeting."""
    with transaction(runtime.sessions) as session:
        campaign = create_campaign(session, name="autumn", created_at=runtime.clock.now())
        ids = [_meeting(session, campaign, f"+1312555020{n}", n) for n in range(6)]
        attempts = session.scalars(select(Meeting.attempt_id).order_by(Meeting.id)).all()
        for n, attempt_id in enumerate(attempts):
            session.add_all(
                TranscriptTurn(
                    attempt_id=attempt_id,
                    speaker=Speaker.CALLER,
                    text=f"m{n} t{k}",
                    occurred_at=runtime.clock.now(),
                )  # fmt: skip
                for k in range(8)
            )
    ops = bearer(tokens["ops"])
    params = {"since": "2026-01-01T00:00:00Z", "limit": 4}
    statements: list[str] = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(runtime.sessions.kw["bind"], "before_cursor_execute", listen)
    try:
        first = api.get("/api/meetings", headers=ops, params=params).json()
        first_count = len(statements)
        statements.clear()
        second = api.get(
            "/api/meetings", headers=ops, params={**params, "after_id": first[-1]["meeting_id"]}
        ).json()
    finally:
        event.remove(runtime.sessions.kw["bind"], "before_cursor_execute", listen)
    assert [m["meeting_id"] for m in first] == ids[:4] and [m["meeting_id"] for m in second] == ids[4:]
    assert first[0]["excerpt"] == [f"caller: m0 t{k}" for k in range(2, 8)]  # the last six, in order
    assert len(statements) == first_count  # four meetings or two: the same queries
    assert sum("transcript_turns" in s for s in statements) == 1
