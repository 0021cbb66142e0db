"""The audit log page (issue 10 item 4): filters, keyset pages newest first, exports, refusals."""

from __future__ import annotations

import csv
import io
import json
import re

from fastapi.testclient import TestClient

from dialer.audit import record_event
from dialer.db import transaction
from tests.api.conftest import tokens  # noqa: F401 - a fixture
from tests.console.compliance_data import make_dnc_call
from tests.console.conftest import csrf
from tests.factories import create_campaign, create_lead


def _ids(html: str) -> list[int]:
    """The event ids listed in the page's table, in order."""
    return [int(i) for i in re.findall(r'title="this event and older">(\d+)</a>', html)]


def _kinds(html: str) -> list[str]:
    return re.findall(r'<span class="badge kind">([^<]+)</span>', html)


def test_compliance_filters_the_log_by_phone_in_any_format(runtime, logged_in):
    call = make_dnc_call(runtime)
    with transaction(runtime.sessions) as s:
        other = create_lead(s, create_campaign(s), "+13125550188")
        record_event(s, kind="lead.noted", occurred_at=runtime.clock.now(), lead_id=other.id, payload={})
    client = logged_in["compliance"]
    everything = client.get("/console/audit")
    assert everything.status_code == 200
    assert "lead.noted" in _kinds(everything.text)
    national = "(" + call.phone_e164[2:5] + ") " + call.phone_e164[5:8] + "-" + call.phone_e164[8:]
    page = client.get("/console/audit", params={"phone": national})
    assert page.status_code == 200
    kinds = _kinds(page.text)
    assert {"gate.decision", "dnc.added", "consent.revoked"} <= set(kinds), kinds
    assert "lead.noted" not in kinds
    ids = _ids(page.text)
    assert ids == sorted(ids, reverse=True), "newest first"
    assert f'value="{national}"' in page.text, "the form shows the filter as typed"


def test_filters_by_kind_family_campaign_and_date(runtime, logged_in):
    call = make_dnc_call(runtime)
    client = logged_in["compliance"]
    dnc = client.get("/console/audit", params={"kind": "dnc."})
    assert set(_kinds(dnc.text)) == {"dnc.added"}
    by_campaign = client.get("/console/audit", params={"campaign_id": call.campaign_id})
    assert by_campaign.status_code == 200 and "tool.honor_dnc" in _kinds(by_campaign.text)
    assert _kinds(client.get("/console/audit", params={"campaign_id": call.campaign_id + 1}).text) == []
    today = runtime.clock.now().date().isoformat()
    assert "dnc.added" in _kinds(client.get("/console/audit", params={"since": today, "until": today}).text)
    assert _kinds(client.get("/console/audit", params={"until": "2020-01-01"}).text) == []


def test_a_bad_filter_is_named_and_nothing_is_listed(logged_in):
    page = logged_in["compliance"].get(
        "/console/audit", params={"phone": "12", "lead_id": "abc", "since": "soon"}
    )
    assert page.status_code == 422
    assert "phone &#39;12&#39; is not a valid phone number" in page.text
    assert "lead: &#39;abc&#39; is not an id" in page.text
    assert "from: &#39;soon&#39; is not a date" in page.text
    nul = logged_in["compliance"].get("/console/audit", params={"kind": "dnc.\x00"})
    assert nul.status_code == 422 and "event type: a NUL character cannot be stored" in nul.text


def test_pages_are_keyset_pages_newest_first_without_overlap(runtime, logged_in):
    with transaction(runtime.sessions) as s:
        for n in range(75):
            record_event(s, kind="test.event", occurred_at=runtime.clock.now(), payload={"n": n})
    client = logged_in["compliance"]
    first = client.get("/console/audit", params={"kind": "test.event"})
    ids = _ids(first.text)
    assert len(ids) == 50 and ids == sorted(ids, reverse=True)
    older = re.search(r'href="/console/audit\?([^"]+)" rel="next">Older', first.text)
    assert older, "a full page links to the older events"
    second = client.get(f"/console/audit?{older.group(1).replace('&amp;', '&')}")
    rest = _ids(second.text)
    assert len(rest) == 25 and max(rest) < min(ids)
    assert 'rel="next"' not in second.text


def test_exports_carry_the_filters_and_neutralise_formulas(runtime, logged_in):
    call = make_dnc_call(runtime)
    with transaction(runtime.sessions) as s:
        record_event(s, kind='=HYPERLINK("http://evil")', occurred_at=runtime.clock.now(), actor="@SUM(A1)")
    client = logged_in["compliance"]
    page = client.get("/console/audit", params={"phone": call.phone_e164})
    link = re.search(r'href="(/console/audit/export\?[^"]*format=jsonl[^"]*)"', page.text)
    assert link, "the page links to the export of its filter"
    jsonl = client.get(link.group(1).replace("&amp;", "&"))
    assert jsonl.status_code == 200 and jsonl.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in jsonl.text.splitlines()]
    assert lines and {line["kind"] for line in lines} >= {"dnc.added", "gate.decision"}
    assert all(
        line["lead_id"] == call.lead_id or line["payload"].get("phone_e164") == call.phone_e164
        for line in lines
    )
    everything = client.get("/console/audit/export", params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(everything.text)))
    hostile = [row for row in rows if "HYPERLINK" in row["kind"]]
    assert hostile and hostile[0]["kind"].startswith("'=") and hostile[0]["actor"] == "'@SUM(A1)"
    assert int(everything.headers["x-audit-event-count"]) == len(rows)


def test_the_rest_api_export_takes_the_same_filters(runtime, api, tokens):  # noqa: F811 - the fixture
    call = make_dnc_call(runtime)
    answer = api.get(
        "/api/audit/export",
        params={"phone": call.phone_e164, "kind": "dnc.added"},
        headers={"Authorization": f"Bearer {tokens['compliance']}"},
    )
    assert answer.status_code == 200
    (line,) = [json.loads(line) for line in answer.text.splitlines()]
    assert line["kind"] == "dnc.added" and line["payload"]["phone_e164"] == call.phone_e164
    naive = api.get(
        "/api/audit/export",
        params={"since": "2026-01-01T00:00:00"},
        headers={"Authorization": f"Bearer {tokens['admin']}"},
    )
    assert naive.status_code == 422 and "needs a UTC offset" in naive.json()["error"]["message"]


def test_ops_and_reps_get_the_403_page(logged_in):
    for role in ("ops", "rep"):
        for path in ("/console/audit", "/console/audit/export?format=csv"):
            page = logged_in[role].get(path)
            assert page.status_code == 403, (role, path)
            assert "Not allowed" in page.text and 'data-code="role_refused"' in page.text
        refused = logged_in[role].post("/console/audit/verify", data={"csrf_token": csrf(logged_in[role])})
        assert refused.status_code == 403


def test_not_logged_in_goes_to_the_login_form(api: TestClient):
    answer = api.get("/console/audit?phone=%2B13125550101", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/console/login?next=/console/audit")
