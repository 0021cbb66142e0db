"""DNC registries on the dialer side: import, lookup, change lists, atomicity, status, RND, import scrub."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from compliance.dnc_registry import DncRegistry
from compliance.state_rules import load_rule_table
from dialer.consent import import_internal_list
from dialer.errors import RegistryError, RegistryFileError
from dialer.leads import import_leads
from dialer.leads.report import format_registry_scrub
from dialer.models import AuditEvent, Campaign, DncEntry, DncSource
from dialer.registry import (
    STATE_LISTS,
    RegistryStore,
    check_list_name,
    import_changes,
    import_full,
    import_registry,
    is_stale,
    latest_rnd,
    national_downloaded_at,
    read_rnd_csv,
    record_rnd_results,
)

FILES = Path(__file__).resolve().parents[1] / "fixtures" / "dnc_cli"
NOW = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
DOWNLOADED = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> RegistryStore:
    return RegistryStore(tmp_path / "dnc")


def _full(store, list_name="national", file="national_full.txt", *, downloaded_at=DOWNLOADED):
    """A fixture full list imported without a database (published at once)."""
    return import_full(store, list_name, [FILES / file], downloaded_at=downloaded_at, now=NOW)


def _recorded(db, store, kind, *files, downloaded_at=DOWNLOADED):
    """Fixture files imported into the national list through the database, as ``user:ops`` at NOW."""
    return import_registry(
        db,
        store,
        list_name="national",
        files=[FILES / f for f in files],
        kind=kind,
        downloaded_at=downloaded_at,
        now=NOW,
        actor="user:ops",
    )


def _sources(db) -> int:
    return db.scalar(select(func.count()).select_from(DncSource))


def _listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_full_import_then_lookup_and_scrub(store):
    summary = _full(store)
    _full(store, "tx", "tx_full.txt")
    assert (summary.list_name, summary.kind, summary.count_before, summary.count_after) == (
        "national",
        "full",
        0,
        4,
    )
    assert summary.files[0].numbers == 4 and len(summary.files[0].sha256) == 64

    hits = store.lookup("+13125550102")
    assert hits.national and hits.state_lists == ("TX",) and hits.national_present
    assert hits.national_downloaded_at == DOWNLOADED
    assert store.lookup("+12145550111").state_lists == ("TX",) and not store.lookup("+12145550111").national
    assert not store.lookup("+13125550199").listed
    assert not store.lookup("+442071838750").listed  # non-NANP: on no list

    scrub = store.scrub(["+13125550101", "+12145550111", "+13125550199", "+13125550101"])
    assert set(scrub) == {"+13125550101", "+12145550111", "+13125550199"}
    assert scrub["+13125550101"].national and scrub["+12145550111"].state_lists == ("TX",)
    assert not scrub["+13125550199"].listed
    counts = store.scrub_counts(["+13125550101", "+13125550102", "+12145550111", "+14155550199"])
    assert (counts.checked, counts.national, counts.states) == (4, 2, {"TX": 2})
    assert [m.list_name for m in store.status()] == ["national", "TX"]
    assert not any(name.startswith(".") for name in _listing(store.directory))


def test_a_full_list_replaces_the_previous_contents(store, tmp_path):
    _full(store)
    (tmp_path / "small.txt").write_text("2125550104\n")
    later = DOWNLOADED + timedelta(days=1)
    summary = import_full(store, "national", [tmp_path / "small.txt"], downloaded_at=later, now=NOW)
    assert (summary.count_before, summary.count_after) == (4, 1)
    assert not store.lookup("+13125550101").national and store.lookup("+12125550104").national
    assert store.lookup("+12125550104").national_downloaded_at == later


def test_change_list_adds_and_deletes_and_dates_the_list(store):
    _full(store)
    changed_at = DOWNLOADED + timedelta(days=2)
    summary = import_changes(
        store, "national", [FILES / "national_change.txt"], downloaded_at=changed_at, now=NOW
    )
    assert (summary.additions, summary.deletions, summary.count_before, summary.count_after) == (1, 1, 4, 4)
    assert store.lookup("+13125550103").national and not store.lookup("+13125550101").national
    assert store.lookup("+13125550102").national_downloaded_at == changed_at
    assert store.national_age(NOW) == NOW - changed_at
    assert len(store.status()[0].sources) == 2  # the full list and the change list


def test_change_list_needs_a_list_and_must_not_be_older(store):
    with pytest.raises(RegistryError, match="import a full list first"):
        import_changes(store, "national", [FILES / "national_change.txt"], downloaded_at=DOWNLOADED, now=NOW)
    _full(store)
    with pytest.raises(RegistryError, match="download order"):
        import_changes(
            store,
            "national",
            [FILES / "national_change.txt"],
            downloaded_at=DOWNLOADED - timedelta(hours=1),
            now=NOW,
        )


@pytest.mark.parametrize(
    ("list_name", "downloaded_at", "message"),
    [
        ("CA", DOWNLOADED, "not a DNC registry list"),
        ("internal", DOWNLOADED, "not a DNC registry list"),
        ("national", DOWNLOADED.replace(tzinfo=None), "UTC offset"),
        ("national", NOW + timedelta(minutes=1), "in the future"),
    ],
)
def test_bad_list_names_and_times_are_refused(store, list_name, downloaded_at, message):
    with pytest.raises(RegistryError, match=message):
        import_full(store, list_name, [FILES / "national_full.txt"], downloaded_at=downloaded_at, now=NOW)
    assert not store.directory.exists() or _listing(store.directory) == []


def test_a_reader_with_the_old_registry_open_keeps_working_after_a_reimport(store, tmp_path):
    _full(store)
    assert store.lookup("+13125550101").national  # the store's cache now holds the first file
    old = DncRegistry.open(store.path_for("national"))
    (tmp_path / "other.txt").write_text("2125550199\n")
    import_full(store, "national", [tmp_path / "other.txt"], downloaded_at=DOWNLOADED, now=NOW)
    assert 3125550101 in old and old.meta.count == 4  # the old mapping still answers
    assert not store.lookup("+13125550101").national  # the store reopened the new file
    assert store.lookup("+12125550199").national
    old.close()


def test_db_import_records_sources_and_audit_and_publishes_on_commit(db, store):
    summary = _recorded(db, store, "full", "national_full.txt")
    assert not store.path_for("national").exists()  # not before the commit
    db.commit()
    assert store.lookup("+13125550101").national
    source = db.get(DncSource, summary.source_ids[0])
    assert (source.list_name, source.kind, source.file_name, source.numbers) == (
        "national",
        "full",
        "national_full.txt",
        4,
    )
    assert source.downloaded_at == DOWNLOADED and source.registry_count_after == 4
    event = db.scalars(select(AuditEvent).where(AuditEvent.kind == "dnc.registry_imported")).one()
    assert event.payload["dnc_source_ids"] == list(summary.source_ids)
    assert event.payload["count_after"] == 4 and event.actor == "user:ops"
    assert national_downloaded_at(db) == DOWNLOADED
    assert not any(name.startswith(".") for name in _listing(store.directory))


def test_db_import_rolled_back_leaves_the_old_registry(db, store):
    _full(store)
    before = store.path_for("national").read_bytes()
    _recorded(db, store, "change", "national_change.txt", downloaded_at=DOWNLOADED + timedelta(days=1))
    db.rollback()
    assert store.path_for("national").read_bytes() == before
    assert _sources(db) == 0
    assert _listing(store.directory) == ["national.dncr"]


def test_a_failed_commit_puts_the_old_registry_back(db, store, monkeypatch):
    _full(store)
    before = store.path_for("national").read_bytes()
    _recorded(db, store, "change", "national_change.txt", downloaded_at=DOWNLOADED + timedelta(days=1))
    published: list[bool] = []

    def fail(session):
        published.append(store.path_for("national").read_bytes() != before)
        raise RuntimeError("commit failed")

    event.listen(db, "before_commit", fail)  # runs after the registry's own hook: the file is in place
    with pytest.raises(RuntimeError):
        db.commit()
    event.remove(db, "before_commit", fail)
    assert published == [True]
    db.rollback()  # what `dialer.db.transaction` does when the commit raises
    assert store.path_for("national").read_bytes() == before
    assert _listing(store.directory) == ["national.dncr"]


def test_a_bad_file_is_reported_with_its_place_and_changes_nothing(db, store):
    _recorded(db, store, "full", "national_full.txt")
    db.commit()
    before = store.path_for("national").read_bytes()
    with pytest.raises(RegistryFileError) as caught:
        _recorded(
            db, store, "full", "tx_full.txt", "national_bad.txt", downloaded_at=DOWNLOADED + timedelta(days=1)
        )
    db.rollback()
    assert caught.value.line == 3 and caught.value.column == 1
    assert "national_bad.txt, line 3, column 1" in caught.value.message
    assert _sources(db) == 1
    assert store.path_for("national").read_bytes() == before
    assert _listing(store.directory) == ["national.dncr"]


def test_status_age_and_staleness(store):
    assert store.status() == [] and store.national_age(NOW) is None
    assert not store.lookup("+13125550101").national_present
    old = NOW - timedelta(days=32)
    _full(store, downloaded_at=old)
    assert store.national_age(NOW) == timedelta(days=32)
    assert is_stale(old, NOW) and not is_stale(NOW - timedelta(days=31), NOW) and is_stale(None, NOW)


def test_internal_list_import_is_all_or_nothing(db):
    entries = import_internal_list(db, FILES / "internal.txt", now=NOW, actor="user:ops")
    assert [e.phone_e164 for e in entries] == ["+13125550150", "+12125550151"]
    assert {e.source for e in entries} == {"import"}
    db.rollback()
    with pytest.raises(RegistryFileError, match=r"internal_bad.txt, line 3, column 1"):
        import_internal_list(db, FILES / "internal_bad.txt", now=NOW, actor="user:ops")
    assert db.scalar(select(func.count()).select_from(DncEntry)) == 0


def test_rnd_results_import_and_latest(db):
    rows = read_rnd_csv(FILES / "rnd.csv", now=NOW)
    assert [r.result for r in rows] == ["no", "yes", "no_data"]
    assert rows[1].phone_e164 == "+12125550104" and rows[0].consent_date == date(2025, 6, 1)
    record_rnd_results(db, rows, source="rnd.csv", now=NOW, actor="user:ops")
    db.flush()
    latest = latest_rnd(db, "+13125550101")
    assert latest.result == "no_data" and latest.queried_at == datetime(2026, 11, 21, 15, tzinfo=UTC)
    assert latest_rnd(db, "+12125550104").result == "yes"
    assert latest_rnd(db, "+13125550199") is None
    event = db.scalars(select(AuditEvent).where(AuditEvent.kind == "dnc.rnd_imported")).one()
    assert event.payload["results"] == {"no": 1, "no_data": 1, "yes": 1}


def test_rnd_bad_rows_name_row_and_column(tmp_path):
    with pytest.raises(RegistryFileError, match=r"rnd_bad.csv, line 3, column queried_at: .*UTC offset"):
        read_rnd_csv(FILES / "rnd_bad.csv", now=NOW)
    (tmp_path / "future.csv").write_text(
        "phone,queried_at,consent_date,result\n+13125550101,2027-01-01T00:00:00Z,2025-06-01,no\n"
    )
    with pytest.raises(RegistryFileError, match="line 2, column queried_at: .*future"):
        read_rnd_csv(tmp_path / "future.csv", now=NOW)
    (tmp_path / "answer.csv").write_text(
        "phone,queried_at,consent_date,result\n+13125550101,2026-11-20T00:00:00Z,2025-06-01,maybe\n"
    )
    with pytest.raises(RegistryFileError, match="column result"):
        read_rnd_csv(tmp_path / "answer.csv", now=NOW)
    (tmp_path / "columns.csv").write_text("phone,result\n+13125550101,no\n")
    with pytest.raises(RegistryFileError, match="missing column"):
        read_rnd_csv(tmp_path / "columns.csv", now=NOW)


def _campaign(db) -> Campaign:
    campaign = Campaign(
        name="q4-outreach",
        seller_name="Northwind Analytics, Inc.",
        caller_id="+13125550199",
        callback_number="+13125550199",
    )
    db.add(campaign)
    db.flush()
    return campaign


def test_lead_import_reports_registry_counts(db, store, tmp_path):
    _full(store)
    _full(store, "TX", "tx_full.txt")
    _campaign(db)
    leads = tmp_path / "leads.csv"
    shutil.copyfile(FILES / "leads.csv", leads)
    result = import_leads(
        db, campaign_name="q4-outreach", path=leads, attested_by="ops", now=NOW, registry=store
    )
    assert result.leads_created == 4  # listed leads are imported: the gate decides at dial time
    event = db.scalars(select(AuditEvent).where(AuditEvent.kind == "leads.imported")).one()
    scrub = event.payload["registry_scrub"]
    assert (scrub["checked"], scrub["national"], scrub["states"]) == (4, 2, {"TX": 2})
    counts = store.scrub_counts(["+13125550101", "+13125550102", "+12145550111", "+14155550199"])
    assert format_registry_scrub(counts) == (
        "2 of 4 imported leads are on the national DNC list; on state lists: TX 2"
    )


def test_lead_import_without_registries_says_the_national_list_is_missing(db, store, tmp_path):
    _campaign(db)
    leads = tmp_path / "leads.csv"
    shutil.copyfile(FILES / "leads.csv", leads)
    import_leads(db, campaign_name="q4-outreach", path=leads, attested_by="ops", now=NOW, registry=store)
    event = db.scalars(select(AuditEvent).where(AuditEvent.kind == "leads.imported")).one()
    assert event.payload["registry_scrub"]["national_present"] is False
    text = format_registry_scrub(store.scrub_counts(["+13125550101"]))
    assert "national DNC list is missing" in text


def test_the_registry_accepts_exactly_the_state_lists_of_the_packaged_rule_data():
    packaged = load_rule_table()
    assert STATE_LISTS == frozenset(packaged.dnc_lists)
    assert {
        "CO",
        "FL",
        "IN",
        "LA",
        "MA",
        "MO",
        "OK",
        "PA",
        "TN",
        "TX",
        "WY",
    } <= STATE_LISTS  # COMPLIANCE_RULES 2.1
    assert all(entry.citation for entry in packaged.dnc_lists.values())
    assert check_list_name("tx") == "TX"
