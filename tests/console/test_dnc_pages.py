"""The DNC pages (issue 10 item 4): search, add with a reason, import, export; removal by admin only."""

from __future__ import annotations

import csv
import io
import json
import re

from sqlalchemy import select

from dialer.db import transaction
from dialer.models import AuditEvent, DncEntry, Lead, LeadStatus
from tests.console.conftest import csrf
from tests.factories import create_campaign, create_lead


def _entries(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-entry="(\d+)">', page)]


def _add(client, phone: str, reason: str = "asked by email"):
    return client.post("/console/dnc", data={"phone": phone, "reason": reason, "csrf_token": csrf(client)})


def _remove(client, entry_id: int, reason: str):
    return client.post(f"/console/dnc/{entry_id}/remove", data={"csrf_token": csrf(client), "reason": reason})


def test_compliance_adds_a_number_in_any_format_and_every_campaign_stops(runtime, logged_in):
    with transaction(runtime.sessions) as s:
        lead_id = create_lead(s, create_campaign(s), "+13125550177").id
    client = logged_in["compliance"]
    added = _add(client, "(312) 555-0177", "asked by email on 2026-11-02")
    assert added.status_code == 200 and added.url.path == "/console/dnc"
    assert "+13125550177" in added.text and "asked by email on 2026-11-02" in added.text
    with runtime.sessions() as s:
        entry = s.scalars(select(DncEntry)).one()
        event = s.scalars(select(AuditEvent).where(AuditEvent.kind == "dnc.added")).one()
        assert s.get_one(Lead, lead_id).status == LeadStatus.DNC
    assert (entry.phone_e164, entry.source) == ("+13125550177", "console")
    assert event.actor == "user:compliance" and event.payload["leads_suppressed"] == [lead_id]
    found = client.get("/console/dnc", params={"phone": "312.555.0177"})
    assert _entries(found.text) == [entry.id]
    assert _entries(client.get("/console/dnc", params={"phone": "+1 312 555 0100"}).text) == []


def test_a_bad_number_is_named_and_nothing_is_added(runtime, logged_in):
    client = logged_in["compliance"]
    page = _add(client, "555-01")
    assert page.status_code == 422 and "phone &#39;555-01&#39; is not a valid phone number" in page.text
    assert client.get("/console/dnc", params={"phone": "nope"}).status_code == 422
    nul = _add(client, "+13125550177", "a\x00b")
    assert nul.status_code == 422 and "reason: a NUL character cannot be stored" in nul.text
    with runtime.sessions() as s:
        assert s.scalars(select(DncEntry)).all() == []


def test_adding_needs_the_csrf_token_and_the_role(logged_in):
    refused = logged_in["compliance"].post("/console/dnc", data={"phone": "+13125550177"})
    assert refused.status_code == 403 and 'data-code="csrf"' in refused.text
    for role in ("ops", "rep"):
        assert _add(logged_in[role], "+13125550177").status_code == 403
        assert logged_in[role].get("/console/dnc").status_code == 403


def test_import_adds_a_file_all_or_nothing_and_names_the_bad_line(runtime, logged_in):
    client = logged_in["compliance"]
    good = "phone\n(312) 555-0181\n# from the email campaign\n+1 312 555 0182\n"
    page = client.post(
        "/console/dnc/import",
        data={"csrf_token": csrf(client), "reason": "unsubscribed by email"},
        files={"file": ("optouts.csv", good.encode(), "text/csv")},
    )
    assert page.status_code == 200 and "2 numbers from optouts.csv added" in page.text
    bad = "phone\n+13125550183\nnot a number\n"
    refused = client.post(
        "/console/dnc/import",
        data={"csrf_token": csrf(client)},
        files={"file": ("more.csv", bad.encode(), "text/csv")},
    )
    assert refused.status_code == 422 and "more.csv" in refused.text and "line 3" in refused.text
    assert "dialer-dnc-upload" not in refused.text, "the message names the upload, not its temporary copy"
    with runtime.sessions() as s:
        numbers = sorted(s.scalars(select(DncEntry.phone_e164)))
    assert numbers == ["+13125550181", "+13125550182"]


def test_exports_are_spreadsheet_safe_csv_and_jsonl(logged_in):
    client = logged_in["compliance"]
    _add(client, "+13125550190", '=HYPERLINK("http://evil.example","click")')
    _add(client, "+13125550191", "@SUM(A1)")
    answer = client.get("/console/dnc/export", params={"format": "csv"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert 'filename="dnc-internal.csv"' in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [row["phone_e164"] for row in rows] == ["+13125550190", "+13125550191"], "E.164 is kept as it is"
    assert (
        rows[0]["reason"] == '\'=HYPERLINK("http://evil.example","click")'
        and rows[1]["reason"] == "'@SUM(A1)"
    )
    lines = [
        json.loads(line)
        for line in client.get("/console/dnc/export", params={"format": "jsonl"}).text.splitlines()
    ]
    assert [line["reason"] for line in lines] == ['=HYPERLINK("http://evil.example","click")', "@SUM(A1)"]
    assert lines[0]["source"] == "console" and lines[0]["removed_at"] is None


def test_only_admin_removes_an_entry_and_the_removal_is_audited(runtime, logged_in):
    compliance, admin = logged_in["compliance"], logged_in["admin"]
    _add(compliance, "+13125550195", "typed the wrong number")
    with runtime.sessions() as s:
        entry_id = s.scalars(select(DncEntry.id)).one()
    page = compliance.get("/console/dnc")
    assert _entries(page.text) == [entry_id] and "Remove" not in page.text
    refused = compliance.post(
        f"/console/dnc/{entry_id}/remove", data={"csrf_token": csrf(compliance), "reason": "x"}
    )
    assert refused.status_code == 403 and 'data-code="role_refused"' in refused.text
    assert 'class="danger">Remove</button>' in admin.get("/console/dnc").text
    blank = _remove(admin, entry_id, " ")
    assert blank.status_code == 422 and "needs a reason" in blank.text
    removed = _remove(admin, entry_id, "wrong number typed")
    assert removed.status_code == 200 and f"DNC entry {entry_id} for +13125550195 removed" in removed.text
    assert "removed</span>" in removed.text and "wrong number typed" in removed.text
    again = _remove(admin, entry_id, "again")
    assert again.status_code == 409 and "removed already" in again.text
    with runtime.sessions() as s:
        entry = s.get_one(DncEntry, entry_id)
        event = s.scalars(select(AuditEvent).where(AuditEvent.kind == "dnc.removed")).one()
    assert entry.removed_by == "user:admin" and entry.phone_e164 == "+13125550195", "the row is kept"
    assert event.actor == "user:admin" and event.payload["reason"] == "wrong number typed"
    assert event.payload["entry_reason"] == "typed the wrong number"
    assert (
        admin.post("/console/dnc/999999/remove", data={"csrf_token": csrf(admin), "reason": "x"}).status_code
        == 404
    )
