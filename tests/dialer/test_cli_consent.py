"""`dialer consent ...`, `dialer compliance flag|flags|import-history` and `campaigns create --subject`
as an operator runs them (in process on a temporary SQLite database, the real clock; ``run`` is the
fixture of tests/dialer/conftest.py)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

SELLER = "Northwind Analytics, Inc."
SHA = "cd" * 32


def _rows(tmp_path, sql):
    with sqlite3.connect(tmp_path / "cli.db") as db:
        return db.execute(sql).fetchall()


def _count(tmp_path, table):
    return _rows(tmp_path, f"select count(*) from {table}")[0][0]


def _ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat(timespec="seconds")


def _ok(result):
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_campaign_subject_leads_with_evidence_and_the_consent_ledger(run, tmp_path):
    _ok(
        run(
            "campaigns", "create", "renewals", "--seller", SELLER, "--caller-id", "3125550199",
            "--subject", "policy renewal",
        )
    )  # fmt: skip
    shown = _ok(run("campaigns", "show", "renewals"))
    assert "subject" in shown and "policy renewal" in shown
    assert _rows(tmp_path, "select subject from campaigns") == [("policy renewal",)]

    (tmp_path / "leads.csv").write_text(
        "first_name,phone,consent_type,consent_at,consent_seller,consent_sellers,consent_artificial_voice,"
        "consent_text,consent_url,consent_ip,consent_form_sha256\n"
        f'Ava,3125550101,pewc,{_ago(days=30)},"{SELLER}",Fabrikam; Contoso Ltd,yes,I agree,'
        f"https://northwind.example/optin/a1,203.0.113.7,{SHA}\n",
        encoding="utf-8",
    )
    _ok(run("leads", "import", "leads.csv", "--campaign", "renewals"))
    (tmp_path / "ebr.csv").write_text(
        f'phone,seller,kind,occurred_at\n3125550101,"{SELLER}",purchase,{_ago(days=60)}\n', encoding="utf-8"
    )
    assert "1 EBR records imported" in _ok(run("consent", "import-ebr", "ebr.csv"))
    assert "entry 1" in _ok(run("dnc", "add", "312-555-0101", "--reason", "asked by email"))

    ledger = _ok(run("consent", "show", "(312) 555-0101"))
    for text in (
        "consent ledger of +13125550101",
        "Northwind Analytics, Inc.; Fabrikam; Contoso Ltd",
        "import:leads.csv row 2",
        "url: https://northwind.example/optin/a1",
        "ip: 203.0.113.7",
        f"form sha256: {SHA}",
        "text: I agree",
        "internal DNC requests",
        "asked by email",
        "dnc:1 cli",  # the revocation the DNC request wrote
        "purchase",
        "import:ebr.csv row 2",
        "RND: no answer on file",
    ):
        assert text in ledger, text


def test_consent_revoke_is_a_revocation_without_a_dnc_entry(run, tmp_path):
    out = _ok(run("consent", "revoke", "312.555.0101", "--reason", "asked by email"))
    assert "consent for +13125550101 revoked" in out
    assert _rows(tmp_path, "select phone_e164, channel, source from consent_revocations") == [
        ("+13125550101", "cli", "cli: asked by email")
    ]
    assert _count(tmp_path, "dnc_entries") == 0
    bad = run("consent", "revoke", "555-0101")
    assert bad.returncode == 2 and "not a valid phone number" in bad.stderr
    shown = _ok(run("consent", "show", "3125550101"))
    assert "cli: asked by email" in shown and "all" in shown


def test_import_revocations_good_and_bad_files(run, tmp_path):
    (tmp_path / "bad.csv").write_text(
        f"phone,revoked_at,channel\n3125550101,{_ago(days=1)},\n3125550102,2026-11-20 09:00,\n",
        encoding="utf-8",
    )
    bad = run("consent", "import-revocations", "bad.csv")
    assert bad.returncode == 2
    assert "bad.csv, row 3, column 'revoked_at'" in bad.stderr and "no UTC offset" in bad.stderr
    assert _count(tmp_path, "consent_revocations") == 0 and _count(tmp_path, "audit_events") == 0

    (tmp_path / "optouts.csv").write_text(
        "phone,revoked_at,channel,source\n"
        f"3125550101,{_ago(days=1)},,by letter\n"
        f"3125550102,{_ago(hours=2)},api,\n",
        encoding="utf-8",
    )
    out = _ok(run("consent", "import-revocations", "optouts.csv"))
    assert "2 revocations imported for 2 numbers" in out
    assert _rows(tmp_path, "select channel, source from consent_revocations order by id") == [
        ("import", "import:optouts.csv row 2 (by letter)"),
        ("api", "import:optouts.csv row 3"),
    ]


def test_import_ebr_bad_kind_names_row_and_column(run, tmp_path):
    (tmp_path / "ebr.csv").write_text(
        f"phone,seller,kind,occurred_at\n3125550101,Acme,lease,{_ago(days=1)}\n"
    )
    bad = run("consent", "import-ebr", "ebr.csv")
    assert bad.returncode == 2 and "ebr.csv, row 2, column 'kind'" in bad.stderr
    assert _count(tmp_path, "ebr_records") == 0


def test_compliance_flags_and_history(run, tmp_path):
    listed = _ok(run("compliance", "flags"))
    assert "la_emergency" in listed and "off (never set)" in listed and "45:844.31" in listed
    assert "la_emergency is on" in _ok(
        run("compliance", "flag", "la_emergency", "on", "--note", "Proclamation 12")
    )
    listed = _ok(run("compliance", "flags"))
    assert "Proclamation 12" in listed and " on " in listed
    assert _rows(tmp_path, "select name, active, note from compliance_flags") == [
        ("la_emergency", 1, "Proclamation 12")
    ]
    assert "la_emergency is off" in _ok(run("compliance", "flag", "la_emergency", "off", "--note", "lifted"))
    assert _rows(tmp_path, "select active from compliance_flags") == [(0,)]
    assert _count(tmp_path, "audit_events") == 2

    unknown = run("compliance", "flag", "tx_emergency", "on", "--note", "x")
    assert unknown.returncode == 2 and "unknown compliance flag 'tx_emergency'" in unknown.stderr
    neither = run("compliance", "flag", "la_emergency", "maybe")
    assert neither.returncode == 2 and "expected on or off" in neither.stderr

    (tmp_path / "bad.csv").write_text(f"phone,attempted_at,channel\n3125550101,{_ago(hours=1)},fax\n")
    bad = run("compliance", "import-history", "bad.csv")
    assert bad.returncode == 2 and "bad.csv, row 2, column 'channel'" in bad.stderr
    assert _count(tmp_path, "contact_attempts") == 0

    (tmp_path / "sms.csv").write_text(
        "phone,attempted_at,channel,subject,caller_id,answered\n"
        f"3125550101,{_ago(hours=3)},sms,policy renewal,3125550150,false\n"
        f"3125550101,{_ago(hours=1)},voice,,,\n"
    )
    out = _ok(run("compliance", "import-history", "sms.csv"))
    assert "2 contact attempts imported from sms.csv (sms, voice)" in out
    assert _rows(
        tmp_path, "select channel, subject, caller_id, answered from contact_attempts order by id"
    ) == [
        ("sms", "policy renewal", "+13125550150", 0),
        ("voice", None, None, None),
    ]
