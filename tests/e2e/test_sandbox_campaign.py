"""A whole sandbox campaign over loopback: real workers, real bridge, real SDKs, sandbox carrier and agent.

This is `dialer demo` on leads.example.csv, run as a user runs it (the CLI, from another folder,
with an absolute --leads path), on both stacks: the embedded one (SQLite, the filesystem broker,
one worker with beat) and the production one (the test run's PostgreSQL database, a Redis
database, two Celery worker processes and beat), and the embedded one again with the campaign on
the AssemblyAI Voice Agent backend (``--voice-agent assemblyai``; the sandbox agent speaks both
protocols). Each is checked lead by lead against what the
example file's prospects do (the sandbox cast) and what the gate must block.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from dialer.audit import verify_chain
from dialer.models import AuditEvent, CallAttempt, Disposition, DncEntry, Lead, Speaker, TranscriptTurn
from tests.conftest import truncate_all

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
AT = datetime(2026, 11, 23, 11, 0, tzinfo=ZoneInfo("America/Chicago"))  # a Monday


@pytest.fixture(scope="module", params=["embedded", "production", "embedded-assemblyai"])
def demo(request, tmp_path_factory):
    workdir = tmp_path_factory.mktemp(f"demo-{request.param}")
    elsewhere = workdir / "elsewhere"  # not the repository: the earlier opt-out must travel with the file
    elsewhere.mkdir()
    args = [
        sys.executable,
        "-m",
        "dialer.cli",
        "demo",
        "--leads",
        str(ROOT / "leads.example.csv"),
        "--report",
        str(workdir / "report.json"),
        "--at",
        AT.isoformat(),
        "--workdir",
        str(workdir / "run"),
        "--timeout",
        "300",
    ]
    if request.param == "embedded-assemblyai":  # the campaign's calls on the second backend
        args += ["--voice-agent", "assemblyai"]
    if request.param == "production":
        pg_url = request.getfixturevalue("pg_url")
        engine = request.getfixturevalue("pg_engine")
        broker = request.getfixturevalue("broker_url")
        truncate_all(engine)
        redis.Redis.from_url(broker).flushdb()
        args += ["--database-url", pg_url, "--broker-url", broker, "--workers", "2"]
    else:
        engine = create_engine(f"sqlite:///{workdir / 'run' / 'demo.db'}")
    run = subprocess.run(args, cwd=elsewhere, capture_output=True, text=True, timeout=900)
    assert (workdir / "report.json").exists(), run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads((workdir / "report.json").read_text())
    report["_exit"] = (run.returncode, run.stdout[-2000:])
    with Session(engine) as session:
        yield report, session
    if request.param == "production":
        truncate_all(engine)
    else:
        engine.dispose()


def test_the_demo_exits_0_and_ran_from_another_folder(demo):
    report, _ = demo
    code, output = report["_exit"]
    assert code == 0, output
    assert report["import"]["earlier_opt_outs"] == str(ROOT / "leads.example.dnc.csv")


def _outcomes(session) -> dict[str, list[str]]:
    outcome: dict[str, list[str]] = {}
    for lead in session.scalars(select(Lead)):
        names = session.scalars(
            select(Disposition.name).where(Disposition.lead_id == lead.id).order_by(Disposition.id)
        ).all()
        outcome[lead.first_name] = [str(n) for n in names]
    return outcome


def test_every_lead_gets_the_outcome_its_prospect_and_the_gate_call_for(demo):
    report, session = demo
    outcomes = _outcomes(session)
    assert outcomes["Ava"][-1] == outcomes["Marcus"][-1] == outcomes["Emma"][-1] == "booked"
    assert outcomes["Priya"][-1] == "booked"  # after interrupting the pitch
    assert outcomes["Daniel"] == ["dnc"] and outcomes["James"] == ["dnc"]
    assert outcomes["Sofia"] == ["not_interested"] and outcomes["Liam"] == ["wrong_person"]
    assert outcomes["Ethan"] == ["callback"]
    assert outcomes["Grace"] == ["machine", "machine"]  # retried once, then exhausted
    assert outcomes["Noah"] == ["no_answer", "no_answer"] and outcomes["Olivia"] == ["busy", "busy"]
    assert outcomes["Chloe"] == ["not_now", "not_now"]
    for blocked in ("Henry", "Isabella", "Jack", "Mia", "Lucas", "Zoe", "Owen", "Lily", "Ryan"):
        assert outcomes[blocked] == ["skipped_compliance"], blocked
    scrub = report["import"]["registry_scrub"]
    assert scrub["national_present"] and scrub["national"] == 1 and scrub["states"] == {"TX": 1}
    assert report["skipped"] == {
        "CONSENT_MISSING": 1,
        "CONSENT_NOT_WRITTEN": 1,
        "CONSENT_NO_ARTIFICIAL_VOICE": 1,
        "CONSENT_REVOKED": 2,
        "CONSENT_SELLER_MISMATCH": 1,
        "DNC_INTERNAL": 1,
        "DNC_NATIONAL": 1,  # Henry Scott is on the sandbox's national and Texas lists, without consent
        "DNC_STATE": 1,
        "NON_US_DESTINATION": 1,
        "OUTSIDE_CALLING_WINDOW": 1,
        "TZ_UNRESOLVED": 1,
    }


def test_report_counts(demo):
    report, _ = demo
    assert report["leads"] == 22 and report["attempts"] == report["calls_placed"] == 17
    assert report["duplicate_calls"] == 0
    assert report["carrier"]["unexpected_calls"] == 0
    assert report["carrier"]["voicemail_messages_left"] == 0
    assert report["dnc_added"] == 2
    assert [r["row"] for r in report["import"]["rejected"]] == [25, 26]
    assert report["clock"]["local"] == "2026-11-23T11:00:00-06:00"
    assert {m["lead"]: m["starts_at"] for m in report["meetings"]} == {
        "Ava Thompson": "2026-11-24T14:00:00-06:00",
        "Marcus Lee": "2026-11-25T10:00:00-06:00",
        "Priya Nair": "2026-11-26T11:00:00-08:00",
        "Emma Davis": "2026-11-24T15:00:00-06:00",
    }
    assert report["callbacks"] == [
        {
            "lead": "Ethan Brooks",
            "due_at": "2026-11-24T10:00:00-05:00",
            "said": "tomorrow at 10am",
            "status": "pending",
        }
    ]
    assert {s["lead"] for s in report["scheduled"]} == {"Ethan Brooks", "Lily Evans"}


def test_the_report_estimates_what_the_campaign_cost(demo):
    costs = demo[0]["costs"]
    parts = costs["by_component"]
    assert costs["currency"] == "USD" and costs["unpriced"] == []
    assert parts["carrier"] > 0 and parts["amd"] > 0 and parts["agent"] > 0  # every answered call pays
    assert costs["total"] == pytest.approx(sum(parts.values()), abs=1e-5)
    assert costs["per_call"] == pytest.approx(costs["total"] / 17, abs=1e-5)
    assert costs["per_meeting"] == pytest.approx(costs["total"] / 4, abs=1e-5)


def test_every_human_heard_the_disclosure_first_and_it_is_proven(demo):
    _, session = demo
    answered = session.scalars(select(CallAttempt).where(CallAttempt.answered_by == "human")).all()
    assert len(answered) == 11
    for attempt in answered:
        first = session.scalars(
            select(TranscriptTurn).where(TranscriptTurn.attempt_id == attempt.id).order_by(TranscriptTurn.id)
        ).first()
        assert first.speaker == Speaker.AGENT
        assert "an AI assistant calling on behalf of Northwind Analytics, Inc." in first.text
        assert "This call is being recorded." in first.text and "press 9" in first.text
        assert attempt.disclosure_played_at is not None
    machines = session.scalars(select(CallAttempt).where(CallAttempt.answered_by == "machine_start")).all()
    assert len(machines) == 2 and all(a.disclosure_played_at is None for a in machines)


def test_opt_outs_are_on_the_list_and_stop_all_future_calls(demo):
    _, session = demo
    entries = {e.phone_e164: e.source for e in session.scalars(select(DncEntry))}
    assert entries["+18165550123"] == "import"  # from leads.example.dnc.csv, beside the leads file
    assert entries["+16125550112"] == "dtmf"
    assert entries["+12125550104"] in {"honor_dnc", "phrase_check"}
    daniel = session.scalars(select(Lead).where(Lead.first_name == "Daniel")).one()
    assert daniel.status == "dnc" and daniel.next_attempt_at is None


def test_audit_trail_is_complete_and_verifies(demo):
    _, session = demo
    assert verify_chain(session).ok
    kinds = set(session.scalars(select(AuditEvent.kind)))
    for kind in (
        "gate.decision",
        "call.attempt_created",
        "call.placed",
        "call.status",
        "call.amd",
        "call.disclosure_played",
        "disposition",
        "dnc.added",
        "meeting.booked",
        "callback.scheduled",
        "tool.book_meeting",
        "tool.log_disposition",
        "tool.mark_callback",
        "leads.imported",
        "campaign.created",
    ):
        assert kind in kinds, kind
    decisions = session.scalars(select(AuditEvent).where(AuditEvent.kind == "gate.decision")).all()
    assert len(decisions) == 17 + 9  # one per call placed, one per lead the gate blocked
