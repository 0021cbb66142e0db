"""The `dialer` command as an operator runs it (in process, on a temporary SQLite database)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def _count(tmp_path, table):
    with sqlite3.connect(tmp_path / "cli.db") as db:
        return db.execute(f"select count(*) from {table}").fetchone()[0]


def test_import_into_a_campaign_that_does_not_exist_is_a_clear_error(run, tmp_path):
    result = run("leads", "import", str(ROOT / "leads.example.csv"), "--campaign", "spring")
    assert result.returncode == 2
    assert "campaign 'spring' does not exist" in result.stderr
    assert _count(tmp_path, "leads") == 0


def test_campaign_import_dnc_start_and_audit(run, tmp_path):
    created = run(
        "campaigns",
        "create",
        "spring",
        "--seller",
        "Northwind Analytics, Inc.",
        "--caller-id",
        "(312) 555-0199",
        "--product",
        "a data-quality monitoring platform",
    )
    assert created.returncode == 0, created.stderr
    bad = run("leads", "import", str(FIXTURES / "leads_latin1.csv"), "--campaign", "spring")
    assert bad.returncode == 2 and "leads_latin1.csv" in bad.stderr and "UTF-8" in bad.stderr
    assert _count(tmp_path, "leads") == 0

    shutil.copy(ROOT / "leads.example.csv", tmp_path / "leads.csv")
    imported = run("leads", "import", "leads.csv", "--campaign", "spring")
    assert imported.returncode == 0, imported.stderr
    assert "imported 22 leads" in imported.stdout and "911" in imported.stdout
    assert (tmp_path / "leads.rejected.csv").read_text(encoding="utf-8-sig").splitlines()[
        0
    ] == "row,column,value,reason"
    assert _count(tmp_path, "leads") == 22

    assert run("dnc", "add", "212-555-0104", "--reason", "asked by email").returncode == 0
    assert "+12125550104" in run("dnc", "list").stdout
    assert run("campaigns", "start", "spring").returncode == 0
    shown = run("campaigns", "show", "spring").stdout
    assert "running" in shown and "dnc" in shown

    exported = run("audit", "export", "--out", "audit.jsonl")
    assert exported.returncode == 0
    events = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "campaign.created" and "leads.imported" in kinds and "dnc.added" in kinds
    assert run("audit", "verify").returncode == 0

    with sqlite3.connect(tmp_path / "cli.db") as db:
        db.execute("update audit_events set payload = '{}' where kind = 'dnc.added'")
    tampered = run("audit", "verify")
    assert tampered.returncode == 1 and "broken" in tampered.stdout


def test_production_refuses_to_start_with_placeholder_secrets(run):
    result = run("campaigns", "list", DIALER_ENVIRONMENT="production")
    assert result.returncode == 2
    assert "refused in production" in result.stderr and "DIALER_TWILIO_AUTH_TOKEN" in result.stderr
