"""The "Verify audit log" button: OK with the range checked, or the first broken link named."""

from __future__ import annotations

from sqlalchemy import func, select, text

from dialer.db import transaction
from dialer.models import AuditEvent
from tests.console.compliance_data import make_dnc_call
from tests.console.conftest import csrf


def test_verify_says_ok_with_the_range_checked(runtime, logged_in):
    make_dnc_call(runtime)
    with runtime.sessions() as s:
        low, high = s.execute(select(func.min(AuditEvent.id), func.max(AuditEvent.id))).one()
    client = logged_in["compliance"]
    page = client.post("/console/audit/verify", data={"csrf_token": csrf(client)})
    assert page.status_code == 200
    assert 'data-ok="true"' in page.text
    assert f"events {low} to {high}" in page.text
    assert "Not sealed yet</dt><dd>0" in page.text, "the button seals pending events first"


def test_verify_names_the_event_whose_payload_was_rewritten_in_postgresql(runtime, logged_in):
    call = make_dnc_call(runtime)
    with runtime.sessions() as s:
        target = s.scalar(select(AuditEvent.id).where(AuditEvent.kind == "dnc.added"))
    client = logged_in["admin"]
    assert 'data-ok="true"' in client.post("/console/audit/verify", data={"csrf_token": csrf(client)}).text
    with transaction(runtime.sessions) as s:
        s.execute(
            text(
                "UPDATE audit_events SET payload = jsonb_set(payload, '{reason}', '\"never asked\"')"
                " WHERE id = :id"
            ),
            {"id": target},
        )
    page = client.post("/console/audit/verify", data={"csrf_token": csrf(client)})
    assert 'data-ok="false"' in page.text
    assert f'data-event="{target}"' in page.text
    assert "event content does not match its hash (altered)" in page.text
    assert call.attempt_id  # the call whose opt-out was rewritten


def test_verify_needs_the_csrf_token(logged_in):
    refused = logged_in["compliance"].post("/console/audit/verify")
    assert refused.status_code == 403 and 'data-code="csrf"' in refused.text
