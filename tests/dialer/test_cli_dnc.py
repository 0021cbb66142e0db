"""`dialer dnc import | status | rnd-import` as an operator runs them (in process, temporary SQLite)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FILES = ROOT / "tests" / "fixtures" / "dnc_cli"


def _count(tmp_path, table):
    with sqlite3.connect(tmp_path / "cli.db") as db:
        return db.execute(f"select count(*) from {table}").fetchone()[0]


def _import(run, file_name: str, list_name: str, *options: str):
    """``dialer dnc import`` of a fixture file into ``list_name``."""
    return run("dnc", "import", str(FILES / file_name), "--list", list_name, *options)


def _ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat(timespec="seconds")


def test_registry_import_change_and_status(run, tmp_path):
    missing = run("dnc", "status")
    assert missing.returncode == 0 and "national list: missing" in missing.stdout

    full = _import(run, "national_full.txt", "national", "--downloaded-at", _ago(days=2))
    assert full.returncode == 0, full.stderr
    assert "national: full import of 1 file(s); 0 -> 4 numbers" in full.stdout
    assert (tmp_path / ".dialer" / "dnc" / "national.dncr").is_file()

    change = _import(
        run, "national_change.txt", "national", "--kind", "change", "--downloaded-at", _ago(days=1)
    )
    assert change.returncode == 0, change.stderr
    assert "(+1 / -1 listed)" in change.stdout
    old_tx = _import(run, "tx_full.txt", "tx", "--downloaded-at", _ago(days=40))
    assert old_tx.returncode == 0, old_tx.stderr
    assert _count(tmp_path, "dnc_sources") == 3

    status = run("dnc", "status")
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    national = next(line for line in lines if "national" in line and "│" in line)
    texas = next(line for line in lines if " TX " in line)
    assert " 4 " in national and "1.0" in national and "STALE" not in national
    assert " 2 " in texas and "40.0" in texas and "STALE" in texas
    assert "missing" not in status.stdout

    with sqlite3.connect(tmp_path / "cli.db") as db:
        kinds = [k for (k,) in db.execute("select kind from audit_events order by id")]
    assert kinds.count("dnc.registry_imported") == 3
    assert run("audit", "verify").returncode == 0


def test_registry_import_errors_exit_non_zero_and_change_nothing(run, tmp_path):
    good = _import(run, "national_full.txt", "national", "--downloaded-at", _ago(days=2))
    assert good.returncode == 0, good.stderr
    registry = tmp_path / ".dialer" / "dnc" / "national.dncr"
    before = registry.read_bytes()

    bad = _import(run, "national_bad.txt", "national", "--downloaded-at", _ago(days=1))
    assert bad.returncode == 2
    assert "national_bad.txt, line 3, column 1" in bad.stderr
    assert registry.read_bytes() == before and _count(tmp_path, "dnc_sources") == 1

    no_time = _import(run, "national_full.txt", "national")
    assert no_time.returncode == 2 and "--downloaded-at is required" in no_time.stderr
    naive = _import(run, "national_full.txt", "national", "--downloaded-at", "2026-11-20T09:00")
    assert naive.returncode == 2 and "UTC offset" in naive.stderr
    future = _import(run, "national_full.txt", "national", "--downloaded-at", _ago(days=-1))
    assert future.returncode == 2 and "in the future" in future.stderr
    unknown = _import(run, "national_full.txt", "CA", "--downloaded-at", _ago(days=1))
    assert unknown.returncode == 2 and "not a DNC registry list" in unknown.stderr
    assert registry.read_bytes() == before and _count(tmp_path, "dnc_sources") == 1
    assert sorted(p.name for p in registry.parent.iterdir()) == ["national.dncr"]


def test_internal_list_import_is_all_or_nothing(run, tmp_path):
    bad = _import(run, "internal_bad.txt", "internal")
    assert bad.returncode == 2 and "internal_bad.txt, line 3" in bad.stderr
    assert _count(tmp_path, "dnc_entries") == 0
    good = _import(run, "internal.txt", "internal")
    assert good.returncode == 0, good.stderr
    assert "2 numbers added to the internal DNC list" in good.stdout
    listed = run("dnc", "list").stdout
    assert "+13125550150" in listed and "import" in listed
    assert run("dnc", "add", "212-555-0104").returncode == 0
    assert _count(tmp_path, "dnc_entries") == 3


def test_rnd_import(run, tmp_path):
    bad = run("dnc", "rnd-import", str(FILES / "rnd_bad.csv"))
    assert bad.returncode == 2 and "rnd_bad.csv, line 3, column queried_at" in bad.stderr
    assert _count(tmp_path, "rnd_results") == 0
    good = run("dnc", "rnd-import", str(FILES / "rnd.csv"))
    assert good.returncode == 0, good.stderr
    assert "3 RND results imported: 1 yes" in good.stdout
    assert _count(tmp_path, "rnd_results") == 3
