"""The campaigns list and a campaign's page: the funnel, costs, chart data, live calls, refusals."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from dialer.db import transaction
from dialer.models import AttemptStatus, CallAttempt, Speaker, TranscriptTurn
from dialer.runtime import Runtime
from tests.console.campaign_data import seed_campaign


def _stat(html: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}">([^<]*)<', html)
    assert found, testid
    return found.group(1)


def test_the_list_shows_each_campaign_with_status_dials_meetings_and_rates(
    runtime: Runtime, logged_in: dict[str, TestClient]
) -> None:
    seed_campaign(runtime, "spring-outreach")
    page = logged_in["ops"].get("/console/campaigns")
    assert page.status_code == 200
    row = re.search(
        r"<tr>\s*<td><a href=\"/console/campaigns/\d+\">spring-outreach</a>.*?</tr>", page.text, re.S
    )
    assert row, page.text
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)
    assert 'class="badge running"' in cells[1]
    # leads 6, open 6, dials 6, human answers 4, meetings 1, connection 4/6, conversation 2/4, book 1/2
    assert [c.strip() for c in cells[3:]] == ["6", "6", "6", "4", "1", "66.7 %", "50.0 %", "50.0 %"]
    assert "New campaign" in page.text


def test_the_detail_page_shows_the_funnel_costs_and_only_legal_buttons(
    runtime: Runtime, logged_in: dict[str, TestClient]
) -> None:
    seeded = seed_campaign(runtime)
    page = logged_in["ops"].get(f"/console/campaigns/{seeded.campaign_id}")
    assert page.status_code == 200
    assert [_stat(page.text, t) for t in ("dials", "human-answers", "conversations", "meetings")] == [
        "6",
        "4",
        "2",
        "1",
    ]
    assert _stat(page.text, "cost-per-call").startswith("$")
    assert _stat(page.text, "cost-per-meeting").startswith("$")
    buttons = re.findall(r'action="/console/campaigns/\d+/(\w+)"', page.text)
    assert buttons == ["pause", "stop"]  # running: no start, no resume
    assert 'hx-trigger="every 2s"' in page.text and 'name="csrf_token"' in page.text


def test_the_progress_fragment_follows_new_calls(runtime: Runtime, logged_in: dict[str, TestClient]) -> None:
    seeded = seed_campaign(runtime)
    client = logged_in["compliance"]
    before = client.get(f"/console/campaigns/{seeded.campaign_id}/progress")
    assert before.status_code == 200 and "<html" not in before.text
    assert _stat(before.text, "meetings") == "1"
    with transaction(runtime.sessions) as session:
        attempt = session.get_one(CallAttempt, seeded.live_attempt_id)
        attempt.status, attempt.duration_seconds = AttemptStatus.COMPLETED, 61
    after = client.get(f"/console/campaigns/{seeded.campaign_id}/progress")
    assert _stat(after.text, "conversations") == "3"


def test_the_chart_data_counts_dispositions_per_bucket(
    runtime: Runtime, logged_in: dict[str, TestClient]
) -> None:
    seeded = seed_campaign(runtime)
    data = logged_in["ops"].get(f"/console/campaigns/{seeded.campaign_id}/dispositions.json").json()
    assert set(data["series"]) == {"machine", "not_interested", "booked", "not_now", "no_answer"}
    assert all(len(counts) == len(data["labels"]) for counts in data["series"].values())
    assert sum(sum(counts) for counts in data["series"].values()) == 5
    assert data["bucket_seconds"] == 60


def test_live_calls_show_the_transcript_as_it_grows(
    runtime: Runtime, logged_in: dict[str, TestClient]
) -> None:
    seeded = seed_campaign(runtime)
    client = logged_in["ops"]
    url = f"/console/campaigns/{seeded.campaign_id}/live"
    first = client.get(url)
    assert "Maya Ortiz" in first.text and "What is this about?" in first.text
    assert "Lead0" not in first.text  # ended calls are not live
    with transaction(runtime.sessions) as session:
        session.add(
            TranscriptTurn(
                attempt_id=seeded.live_attempt_id,
                speaker=Speaker.AGENT,
                text="We help data teams catch broken pipelines before their dashboards do.",
                interrupted=True,
                heard_text="We help data teams catch",
                occurred_at=runtime.clock.now(),
            )
        )
    second = client.get(url)
    assert "We help data teams catch" in second.text and "broken pipelines" not in second.text
    assert "(cut off)" in second.text


def test_a_rep_is_refused_every_campaign_page(runtime: Runtime, logged_in: dict[str, TestClient]) -> None:
    seeded = seed_campaign(runtime)
    rep = logged_in["rep"]
    for path in (
        "",
        f"/{seeded.campaign_id}",
        f"/{seeded.campaign_id}/progress",
        f"/{seeded.campaign_id}/live",
    ):
        answer = rep.get(f"/console/campaigns{path}")
        assert answer.status_code == 403, path
        assert "Not allowed" in answer.text
    assert rep.get(f"/console/campaigns/{seeded.campaign_id}/dispositions.json").status_code == 403


def test_compliance_reads_a_campaign_without_any_button_to_change_it(
    runtime: Runtime, logged_in: dict[str, TestClient]
) -> None:
    seeded = seed_campaign(runtime)
    page = logged_in["compliance"].get(f"/console/campaigns/{seeded.campaign_id}")
    assert page.status_code == 200 and "Maya" not in page.text  # live calls load by htmx
    assert "<button" not in page.text.split("<main>")[1]
    assert "/edit" not in page.text and "leads/upload" not in page.text
    assert "New campaign" not in logged_in["compliance"].get("/console/campaigns").text


def test_an_unknown_campaign_is_a_404_page(logged_in: dict[str, TestClient]) -> None:
    answer = logged_in["ops"].get("/console/campaigns/999999")
    assert answer.status_code == 404 and "Not found" in answer.text
