"""`dialer compliance check`: a document of cases in, one answer per case out, nothing skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compliance.check import CheckDocumentError, check_cases, load_document
from tests.cli import CliResult, invoke

ROOT = Path(__file__).resolve().parents[2]
README_CASE = ROOT / "tests" / "fixtures" / "compliance" / "readme_case.json"


def _cases() -> list:
    return load_document(README_CASE.read_text(), origin="readme_case.json")


def test_the_readme_example_is_allowed_with_its_warning():
    (line,) = check_cases(_cases(), None)
    assert line == {
        "id": "case-1",
        "decision": "allow",
        "reason_codes": [],
        "warnings": ["STATE_DNC_EXEMPT_BY_PEWC"],
        "next_allowed_at": None,
    }


def test_sunday_morning_in_texas_waits_until_noon():
    case = _cases()[0] | {"id": "case-2", "attempt_utc": "2026-12-06T15:00:00Z"}
    (line,) = check_cases([case], None)
    assert line["reason_codes"] == ["STATE_CALLING_WINDOW"]
    assert line["next_allowed_at"] == "2026-12-06T18:00:00Z"  # 12:00 CST, Tex. Bus. & Com. Code 301.051


def test_malformed_cases_are_answered_with_their_errors_never_skipped():
    good = _cases()[0]
    cases = [
        7,
        good | {"attempt_utc": "2026-12-07T17:00:00"},
        good | {"lead": {**good["lead"], "natonal_dnc": False}},
        good | {"id": ""},
        good,
    ]
    lines = list(check_cases(cases, None))
    assert [line["decision"] for line in lines] == ["block", "block", "block", "block", "allow"]
    assert lines[0]["errors"] == ["cases[0]: expected an object, got int"]
    assert "cases[1].attempt_utc" in lines[1]["errors"][0] and "UTC offset" in lines[1]["errors"][0]
    assert "cases[2].lead.natonal_dnc: unknown field" in lines[2]["errors"]
    assert lines[3]["id"] is None and lines[3]["reason_codes"] == ["FACTS_INVALID"]


def test_trace_names_every_rule_with_its_citation():
    (line,) = check_cases(_cases(), None, trace=True)
    rules = {entry["rule"]: entry for entry in line["trace"]}
    assert rules["TX.window.0@America/Chicago"]["citation"] == "Tex. Bus. & Com. Code 301.051"
    assert rules["dnc.state.TX"]["result"] == "warn"
    assert line["rule_data_version"].startswith("CP;rules=2026.12-1+") and line["states"] == ["TX"]


@pytest.mark.parametrize(
    ("text", "message"),
    [("{", "line 1, column 2"), ("[]", "expected an object"), ('{"cases": [], "x": 1}', "unknown top-level")],
)
def test_a_document_that_is_not_a_case_list_is_refused(text, message):
    with pytest.raises(CheckDocumentError, match=message):
        load_document(text, origin="doc.json")


def _cli(*args: str, stdin: str | None = None) -> CliResult:
    """``dialer compliance check *args`` (in process), ``stdin`` as its input."""
    return invoke(["compliance", "check", *args], stdin=stdin, env={"COLUMNS": "80"})


def test_command_prints_one_json_line_per_case_from_a_file_or_stdin(tmp_path):
    doc = {"cases": [*_cases(), {"id": "x", "attempt_utc": "nope", "lead": {}, "campaign": {}}]}
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(doc))
    for result in (_cli(str(path)), _cli("-", stdin=json.dumps(doc))):
        assert result.returncode == 0, result.stderr
        lines = [json.loads(line) for line in result.stdout.splitlines()]
        assert [line["id"] for line in lines] == ["case-1", "x"]
        assert lines[1]["reason_codes"] == ["FACTS_INVALID"]


def test_command_refuses_a_broken_document_with_status_2(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"cases": [\n  {"id": "a",}\n]}')
    result = _cli(str(path))
    message = " ".join(result.stderr.split())  # rich wraps long lines
    assert result.returncode == 2 and "line 2, column 14" in message and result.stdout == ""
