"""``/console/crm``: the outbox per destination, dead messages re-queued by button, webhook tries."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from dialer.models import OutboxMessage, OutboxStatus
from dialer.runtime import Runtime
from tests.console.conftest import csrf
from tests.console.rep_data import make_outbox


@pytest.fixture
def outbox(runtime: Runtime, users: dict[str, str]) -> dict[str, int]:
    return make_outbox(runtime)


def _row(html: str, attribute: str, value: object) -> str:
    match = re.search(rf'<tr {attribute}="{value}">(.*?)</tr>', html, re.S)
    assert match, f"no row {attribute}={value}"
    return re.sub(r"<[^>]+>", " ", match.group(1))


def test_ops_see_each_destinations_counts_and_last_error(logged_in, outbox: dict[str, int]) -> None:
    page = logged_in["ops"].get("/console/crm")
    assert page.status_code == 200
    hubspot = _row(page.text, "data-destination", "crm:hubspot").split()
    assert hubspot[:5] == ["crm:hubspot", "0", "0", "1", "0"]  # pending, due, delivered, dead
    webhook = _row(page.text, "data-destination", "webhook:ops")
    assert webhook.split()[:5] == ["webhook:ops", "1", "0", "1", "1"]  # the pending one is due in 30 s
    assert "connection refused" in webhook  # the newest failure
    assert "CRM sync" in page.text and 'href="/console/crm"' in page.text  # in the navigation


def test_the_webhook_delivery_log_shows_each_try(logged_in, outbox: dict[str, int]) -> None:
    page = logged_in["admin"].get("/console/crm").text
    tries = re.findall(r'<tr data-delivery="\d+">(.*?)</tr>', page, re.S)
    assert len(tries) == 4  # HubSpot's delivery is not a webhook's
    text = [" ".join(re.sub(r"<[^>]+>", " ", t).split()) for t in tries]
    assert any(
        "meeting.booked:meeting-12 webhook:ops 1 failed HTTP 503: upstream busy 503 delivered" in t
        for t in text
    )
    assert any("meeting.booked:meeting-12 webhook:ops 2 accepted 200 delivered" in t for t in text)
    assert any("dnc.added:dnc-7 webhook:ops 1 failed HTTP 410: endpoint gone 410 dead" in t for t in text)
    pending = next(t for t in text if "attempt-42" in t)
    assert "connection refused – pending 2026-11-23 17:00:30" in pending  # no answer; next try (UTC)


def test_a_dead_message_is_retried_from_its_button(
    logged_in, outbox: dict[str, int], runtime: Runtime
) -> None:
    ops = logged_in["ops"]
    assert f'name="message_id" value="{outbox["dead"]}"' in ops.get("/console/crm").text
    assert ops.post("/console/crm/retry", data={"message_id": outbox["dead"]}).status_code == 403  # no CSRF
    done = ops.post("/console/crm/retry", data={"message_id": outbox["dead"], "csrf_token": csrf(ops)})
    assert done.status_code == 200 and "1 message re-queued" in done.text
    with runtime.sessions() as session:
        message = session.get_one(OutboxMessage, outbox["dead"])
        assert message.status == OutboxStatus.PENDING and message.attempts == 0
    again = ops.post("/console/crm/retry", data={"message_id": outbox["delivered"], "csrf_token": csrf(ops)})
    assert again.status_code == 422 and "only dead messages can be retried" in again.text
    missing = ops.post("/console/crm/retry", data={"message_id": 999999, "csrf_token": csrf(ops)})
    assert missing.status_code == 404
    nothing = ops.post("/console/crm/retry", data={"csrf_token": csrf(ops)})
    assert nothing.status_code == 422


def test_retry_all_dead_messages(logged_in, outbox: dict[str, int]) -> None:
    ops = logged_in["ops"]
    done = ops.post("/console/crm/retry", data={"all_dead": "true", "csrf_token": csrf(ops)})
    assert "1 message re-queued" in done.text and 'Dead messages <span class="badge">0' in done.text


@pytest.mark.parametrize("role", ["rep", "compliance"])
def test_other_roles_are_refused(logged_in, outbox: dict[str, int], role: str) -> None:
    client: TestClient = logged_in[role]
    page = client.get("/console/crm")
    assert page.status_code == 403 and "Not allowed" in page.text
    assert 'href="/console/crm"' not in client.get("/console/meetings").text
    retry = client.post("/console/crm/retry", data={"message_id": outbox["dead"], "csrf_token": csrf(client)})
    assert retry.status_code == 403
