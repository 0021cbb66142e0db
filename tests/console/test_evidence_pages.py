"""The evidence page of one call attempt (issue 10 item 4): what an auditor checks, where it is stored."""

from __future__ import annotations

import html
import re

from dialer.db import transaction
from dialer.models import ConsentRecord
from tests.console.compliance_data import DISCLOSURE, GOODBYE, HEARD_GOODBYE, OPT_OUT, make_dnc_call


def _section(page: str, name: str) -> str:
    found = re.search(rf'<section class="card" id="{name}">(.*?)</section>', page, re.S)
    assert found, name
    return html.unescape(found.group(1))


def test_the_evidence_of_an_opted_out_call(runtime, logged_in):
    call = make_dnc_call(runtime)
    with transaction(runtime.sessions) as s:
        record = s.query(ConsentRecord).filter_by(phone_e164=call.phone_e164).one()
        record.source, record.evidence_ip = "import:leads.csv row 7", "203.0.113.9"
    page = logged_in["compliance"].get(f"/console/attempts/{call.attempt_id}")
    assert page.status_code == 200
    gate = _section(page.text, "gate")
    assert '<span class="badge ok">allowed</span>' in gate
    assert gate.count('<tr class="result-') >= 5, "the trace lists every rule the gate checked"
    consent = _section(page.text, "consent")
    assert "pewc" in consent.lower() and "import:leads.csv row 7" in consent and "203.0.113.9" in consent
    assert "revoked" in consent, "the opt-out revoked the consent"
    call_facts = _section(page.text, "call")
    assert "not recorded" not in call_facts.split("Requested")[0], "the disclosure instant is shown"
    assert "840" in call_facts and "610" in call_facts and "720 ms" in call_facts
    transcript = _section(page.text, "transcript")
    for said in (DISCLOSURE, OPT_OUT, GOODBYE, HEARD_GOODBYE):
        assert said in transcript, said
    assert "cut short" in transcript
    assert "dnc" in _section(page.text, "disposition")
    dnc = _section(page.text, "dnc")
    assert "honor_dnc" in dnc and "in force" in dnc and "caller asked to be taken off the list" in dnc
    events = _section(page.text, "events")
    assert {"call.placed", "tool.honor_dnc", "disposition", "call.disclosure_played"} <= set(
        re.findall(r'<span class="badge kind">([^<]+)</span>', events)
    )
    assert f'href="/console/audit?attempt_id={call.attempt_id}"' in page.text


def test_an_unknown_attempt_is_the_404_page(logged_in):
    page = logged_in["admin"].get("/console/attempts/999999")
    assert page.status_code == 404 and "there is no call attempt 999999" in page.text


def test_ops_and_reps_may_not_open_evidence(runtime, logged_in):
    call = make_dnc_call(runtime)
    for role in ("ops", "rep"):
        page = logged_in[role].get(f"/console/attempts/{call.attempt_id}")
        assert page.status_code == 403 and "Not allowed" in page.text, role
