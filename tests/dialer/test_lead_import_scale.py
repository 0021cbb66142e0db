"""Issue 7 item 7: the streaming, chunked, pooled lead import, and bad input that stays a clear error."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dialer.errors import ImportFileError
from dialer.leads import import_leads
from dialer.models import AuditEvent, ConsentRecord, Lead
from tests.dialer.test_lead_service import FIXTURES, NOW, ROOT, copy, counts, events, make_campaign, run

HEADER = "first_name,company,phone,consent_type,consent_at,consent_seller,consent_artificial_voice\n"
CONSENT = ',pewc,2026-10-02T15:04:00Z,"Northwind Analytics, Inc.",yes\n'


def write(tmp_path: Path, body: str, name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def outcome(result):
    return (
        result.accepted,
        [(r.row, r.column, r.reason) for r in result.rejected],
        [(f.row, f.duplicate_of_row, f.reason) for f in result.folded],
        [(w.row, w.column, w.reason) for w in result.warnings],
        result.consents_created,
    )


def test_a_nul_byte_is_a_one_line_error_naming_file_row_and_column_and_nothing_is_written(db, tmp_path):
    make_campaign(db)
    path = write(tmp_path, "Ava,Brightlane,3125550101" + CONSENT + "Ben,Cedar\x00Pine,3125550102" + CONSENT)
    before = counts(db)
    with pytest.raises(ImportFileError) as caught:
        run(db, path, chunk_rows=1)
    message = str(caught.value)
    assert message.startswith(f"{path}, row 3, column 'company': the cell contains a NUL byte (0x00)")
    assert "\n" not in message and "Ben" not in message  # the row's values are not printed
    db.rollback()
    assert counts(db) == before
    assert list(tmp_path.glob("*.rejected.csv")) == []


def test_a_nul_byte_on_the_command_line_is_one_line_without_a_traceback(run_cli, tmp_path):
    path = write(tmp_path, "Ava,Bright\x00lane,3125550101" + CONSENT)
    result = run_cli("leads", "import", str(path), "--campaign", "spring")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "row 2, column 'company': the cell contains a NUL byte" in result.stderr


@pytest.mark.parametrize(
    ("phone", "reason"),
    [
        ("+1 312 555 ABCD", "written with letters ('ABCD')"),
        ("312-555-01O1", "contains the letter 'O' where a digit is expected (a typo: 0 for 'O'?)"),
        ("312-555-0l0I", "contains the letters 'l', 'I' where a digit is expected"),
    ],
)
def test_a_number_written_with_letters_is_rejected_with_the_letters_named(db, tmp_path, phone, reason):
    make_campaign(db)
    result = run(db, write(tmp_path, f"Ava,Brightlane,{phone}" + CONSENT))
    assert result.accepted == 0
    [rejected] = result.rejected
    assert (rejected.row, rejected.column, rejected.value) == (2, "phone", phone)
    assert reason in rejected.reason and "area code" not in rejected.reason


def test_vanity_numbers_only_with_the_explicit_option_and_a_warning_per_row(db, tmp_path):
    make_campaign(db)
    path = write(tmp_path, "Ava,Brightlane,+1 312 555 ABCD" + CONSENT + "Ben,Cedar,3125550102" + CONSENT)
    result = run(db, path, allow_vanity=True)
    assert result.accepted == 2
    [warning] = [w for w in result.warnings if w.row == 2]
    assert "vanity number" in warning.reason and "+13125552223" in warning.reason
    ava = db.scalar(select(Lead).where(Lead.source_row == 2))
    assert ava.phone_e164 == "+13125552223" and ava.fields["import_warnings"][0]["reason"] == warning.reason


def test_extensions_are_not_letters(db, tmp_path):
    make_campaign(db)
    body = "".join(
        f"P{i},Co,{phone}" + CONSENT
        for i, phone in enumerate(["(612) 555-0112 x204", "612-555-0113 ext. 7", "6125550114 extension 9"])
    )
    result = run(db, write(tmp_path, body))
    assert result.accepted == 3 and result.rejected == []


def test_the_pool_and_the_chunks_do_not_change_the_outcome(db, tmp_path):
    """Rows keep their numbers and the first row wins across chunk boundaries and processes."""
    make_campaign(db, "one")
    make_campaign(db, "two")
    path = copy(FIXTURES / "atomic_crm_test_contacts.csv", tmp_path)
    single = import_leads(db, campaign_name="one", path=path, attested_by="a", now=NOW, workers=1)
    pooled = import_leads(
        db, campaign_name="two", path=path, attested_by="a", now=NOW, workers=2, chunk_rows=7
    )
    assert outcome(single) == outcome(pooled) and single.accepted == 364
    rows = {
        campaign_id: db.execute(
            select(Lead.source_row, Lead.phone_e164, Lead.fields)
            .where(Lead.campaign_id == campaign_id)
            .order_by(Lead.source_row)
        ).all()
        for campaign_id in (single.campaign_id, pooled.campaign_id)
    }
    assert rows[single.campaign_id] == rows[pooled.campaign_id]


def test_duplicates_fold_across_chunks_into_the_first_row(db, tmp_path):
    make_campaign(db)
    path = copy(ROOT / "leads.example.csv", tmp_path)
    result = run(db, path, chunk_rows=2)
    assert (result.accepted, len(result.rejected), len(result.folded)) == (22, 2, 1)
    assert [(f.row, f.duplicate_of_row) for f in result.folded] == [(15, 2)]
    (imported,) = events(db, "leads.imported")
    assert imported.payload["duplicates"] == 1 and imported.payload["rows_read"] == 25


def test_progress_is_reported_per_chunk(db, tmp_path):
    make_campaign(db)
    seen = []
    run(db, copy(ROOT / "leads.example.csv", tmp_path), chunk_rows=10, progress=seen.append)
    assert [p.rows for p in seen] == [10, 20, 25]
    assert seen[-1].bytes_read == seen[-1].bytes_total == (ROOT / "leads.example.csv").stat().st_size
    assert seen[-1].imported == 22


def test_one_audit_event_per_import_however_many_consents(db, tmp_path):
    make_campaign(db)
    before = db.scalar(select(func.count()).select_from(AuditEvent))
    result = run(
        db, copy(ROOT / "leads.example.csv", tmp_path), attestation="Captured in the CRM opt-in flow."
    )
    assert result.consents_created == 43
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == before + 1
    sources = set(db.scalars(select(ConsentRecord.source)))
    assert "import:leads.example.csv row 2" in sources and len(sources) == 22


def test_the_report_appears_only_when_the_import_commits(db, tmp_path):
    make_campaign(db)
    path = copy(ROOT / "leads.example.csv", tmp_path)
    report = tmp_path / "leads.example.rejected.csv"
    result = run(db, path)
    assert result.rejected_report_path == report and not report.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["leads.example.csv"]  # no visible temporary file
    db.commit()
    assert report.exists()


def test_a_rolled_back_import_leaves_no_report(db, tmp_path):
    make_campaign(db)
    db.commit()
    path = copy(ROOT / "leads.example.csv", tmp_path)
    run(db, path)
    db.rollback()
    assert list(tmp_path.iterdir()) == [path]


KILLED_IMPORT = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from pathlib import Path
    from dialer.db import make_engine, session_factory
    from dialer.leads import import_leads
    from dialer.models import Campaign

    engine = make_engine(sys.argv[1])
    with session_factory(engine)() as session:
        session.add(Campaign(name=sys.argv[3], seller_name="S", caller_id="+13125550199",
                             callback_number="+13125550199"))
        session.flush()
        result = import_leads(session, campaign_name=sys.argv[3], path=Path(sys.argv[2]), attested_by="a",
                              now=datetime.now(UTC))
        print("imported", result.accepted, flush=True)
        sys.stdin.read()  # killed here, before the commit
        session.commit()
    """
)


def test_a_run_killed_before_commit_leaves_no_report_and_no_leads(pg_url, pg_engine, tmp_path):
    """Issue 7: a run killed part-way used to leave a rejected-rows file for rows it never committed."""
    path = copy(ROOT / "leads.example.csv", tmp_path)
    campaign = f"killed-{os.getpid()}"
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_IMPORT, pg_url, str(path), campaign],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert child.stdout.readline().strip() == "imported 22"  # waits for the import, not a sleep
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert list(tmp_path.iterdir()) == [path]
    with pg_engine.connect() as conn:
        from sqlalchemy import text

        assert (
            conn.execute(text("SELECT count(*) FROM campaigns WHERE name = :n"), {"n": campaign}).scalar()
            == 0
        )


def test_sqlite_import_in_chunks(sqlite_url, tmp_path):
    from dialer.db import make_engine, session_factory, transaction

    engine = make_engine(sqlite_url)
    factory = session_factory(engine)
    try:
        with transaction(factory) as session:
            make_campaign(session)
        with transaction(factory) as session:
            result = run(session, copy(ROOT / "leads.example.csv", tmp_path), chunk_rows=3)
        assert (result.accepted, result.consents_created, len(result.folded)) == (22, 21, 1)
        with factory() as session:
            assert counts(session)[:2] == (22, 21)
    finally:
        engine.dispose()


@pytest.fixture
def run_cli(run):
    created = run(
        "campaigns",
        "create",
        "spring",
        "--seller",
        "Northwind Analytics, Inc.",
        "--caller-id",
        "(312) 555-0199",
    )
    assert created.returncode == 0, created.stderr
    return run


def test_cli_progress_goes_to_stderr(run_cli, tmp_path):
    shutil.copy(ROOT / "leads.example.csv", tmp_path / "leads.csv")
    result = run_cli("leads", "import", "leads.csv", "--campaign", "spring")
    assert result.returncode == 0, result.stderr
    assert "rows/s" in result.stderr and "rows/s" not in result.stdout
    assert "imported 22 leads" in result.stdout
