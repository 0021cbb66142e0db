import csv
import hashlib
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dialer.audit import verify_chain
from dialer.db import make_engine, session_factory, transaction
from dialer.errors import ImportFileError, NotFoundError
from dialer.leads import import_leads
from dialer.models import AuditEvent, Campaign, ConsentMethod, ConsentRecord, ConsentType, Lead, LeadStatus

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
NOW = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
SELLER = "Northwind Analytics, Inc."


def make_campaign(session: Session, name: str = "q4-outreach") -> Campaign:
    campaign = Campaign(
        name=name, seller_name=SELLER, caller_id="+13125550199", callback_number="+13125550199"
    )
    session.add(campaign)
    session.flush()
    return campaign


def copy(source: Path, tmp_path: Path) -> Path:
    """Import from a copy: the rejected-rows report is written next to the input."""
    target = tmp_path / source.name
    shutil.copyfile(source, target)
    return target


def run(session: Session, path: Path, **kwargs):
    kwargs.setdefault("campaign_name", "q4-outreach")
    kwargs.setdefault("attested_by", "alice")
    return import_leads(session, path=path, now=NOW, **kwargs)


def counts(session: Session) -> tuple[int, int, int]:
    return (
        session.scalar(select(func.count()).select_from(Lead)),
        session.scalar(select(func.count()).select_from(ConsentRecord)),
        session.scalar(select(func.count()).select_from(AuditEvent)),
    )


def events(session: Session, kind: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id)))


def test_example_import_writes_leads_consents_audit_and_report(db, tmp_path):
    campaign = make_campaign(db)
    path = copy(ROOT / "leads.example.csv", tmp_path)
    result = run(db, path)
    db.commit()

    assert (result.accepted, len(result.rejected), len(result.folded)) == (22, 2, 1)
    assert result.accepted + len(result.rejected) + len(result.folded) == result.data_rows == 25
    assert (result.leads_created, result.consents_created, result.campaign_id) == (22, 21, campaign.id)

    leads = {
        lead.source_row: lead for lead in db.scalars(select(Lead).where(Lead.campaign_id == campaign.id))
    }
    assert len(leads) == 22 and 15 not in leads and 25 not in leads and 26 not in leads
    assert {lead.status for lead in leads.values()} == {LeadStatus.PENDING}
    assert {lead.source_file for lead in leads.values()} == {"leads.example.csv"}
    james = leads[13]
    assert (james.phone_e164, james.phone_extension, james.phone_raw) == (
        "+16125550112",
        "204",
        "(612) 555-0112 x204",
    )
    assert (leads[2].state, leads[8].zip, leads[2].fields) == ("IL", "02108", {"industry": "logistics"})

    consents = list(db.scalars(select(ConsentRecord).order_by(ConsentRecord.id)))
    assert len(consents) == 21 and {c.method for c in consents} == {ConsentMethod.CSV_COLUMNS}
    by_lead = {c.lead_id: c for c in consents}
    assert by_lead[leads[17].id].consent_type == ConsentType.ORAL
    assert by_lead[leads[19].id].covers_artificial_voice is False
    assert by_lead[leads[20].id].revoked_at == datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
    assert leads[16].id not in by_lead  # consent_type none
    assert by_lead[leads[2].id].phone_e164 == "+13125550101"

    (imported,) = events(db, "leads.imported")
    assert imported.actor == "user:alice" and imported.campaign_id == campaign.id
    payload = imported.payload
    assert payload["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (payload["file"], payload["accepted"], payload["rejected"], payload["folded"]) == (
        "leads.example.csv",
        22,
        2,
        1,
    )
    assert payload["mapping"]["phone"] == "phone" and payload["mapping"]["industry"] == "fields.industry"
    assert payload["attestation"] is None
    assert (payload["rows_read"], payload["imported"], payload["duplicates"], payload["consent_records"]) == (
        25,
        22,
        1,
        21,
    )
    # One event for the file, not one per consent record: each record carries its source row.
    assert events(db, "consent.recorded") == []
    ava = by_lead[leads[2].id]
    assert (ava.consent_type, ava.method, ava.seller_name) == (
        ConsentType.PEWC,
        ConsentMethod.CSV_COLUMNS,
        SELLER,
    )
    assert ava.evidence == "https://northwind.example/optin/a1f3"
    assert ava.source == "import:leads.example.csv row 2"
    assert verify_chain(db).ok

    # The Contoso row's consent names another seller: imported, with a warning.
    contoso = [w for w in result.warnings if w.row == 18]
    assert len(contoso) == 1 and "'Contoso Marketing LLC'" in contoso[0].reason
    assert leads[18].fields["import_warnings"][0]["reason"] == contoso[0].reason

    report = tmp_path / "leads.example.rejected.csv"
    assert result.rejected_report_path == report and result.report_error is None
    with report.open(encoding="utf-8-sig", newline="") as f:
        assert list(csv.reader(f)) == [
            ["row", "column", "value", "reason"],
            ["25", "phone", "911-555-0124", "not a valid number (area code 911 is not valid)"],
            ["26", "phone", "", "no phone number"],
        ]


def test_second_import_of_the_same_file_folds_everything(db, tmp_path):
    make_campaign(db)
    path = copy(ROOT / "leads.example.csv", tmp_path)
    first = run(db, path)
    before = counts(db)
    second = run(db, path)
    assert (second.accepted, len(second.rejected), len(second.folded)) == (0, 2, 23)
    assert second.consents_created == 0
    after = counts(db)
    assert after[:2] == before[:2] and after[2] == before[2] + 1  # only the leads.imported event
    existing = {lead.source_row: lead.id for lead in db.scalars(select(Lead))}
    fold = next(f for f in second.folded if f.row == 13)
    assert (fold.duplicate_of_row, fold.reason) == (None, f"already in campaign as lead {existing[13]}")
    assert next(f for f in second.folded if f.row == 15).duplicate_of_row == 2
    assert second.warnings == []  # warnings of folded rows are not repeated
    assert first.accepted == 22


def test_same_numbers_in_another_campaign_are_not_folded(db, tmp_path):
    make_campaign(db)
    make_campaign(db, "other")
    path = copy(ROOT / "leads.example.csv", tmp_path)
    run(db, path)
    assert run(db, path, campaign_name="other").accepted == 22


def test_nothing_is_written_when_parsing_fails(db, tmp_path):
    make_campaign(db)
    before = counts(db)
    with pytest.raises(ImportFileError, match="byte offset 58"):
        run(db, copy(FIXTURES / "leads_latin1.csv", tmp_path))
    with pytest.raises(ImportFileError, match="no phone column"):
        run(db, copy(FIXTURES / "no_phone_column.csv", tmp_path))
    with pytest.raises(ImportFileError, match="cannot read the file"):
        run(db, tmp_path / "missing.csv")
    assert counts(db) == before
    assert list(tmp_path.glob("*.rejected.csv")) == []


def test_unknown_campaign_writes_nothing(db, tmp_path):
    before = counts(db)
    with pytest.raises(NotFoundError, match="campaign 'nope' does not exist; create it first"):
        run(db, copy(ROOT / "leads.example.csv", tmp_path), campaign_name="nope")
    assert counts(db) == before
    assert list(tmp_path.glob("*.rejected.csv")) == []


def test_attestation_adds_a_pewc_consent_to_every_lead(db, tmp_path):
    make_campaign(db)
    text = "Opt-in captured on the Northwind webinar form 2026-09 (TrustedForm certs on file)."
    result = run(db, copy(FIXTURES / "atomic_crm_contacts_export_sample.csv", tmp_path), attestation=text)
    assert (result.accepted, result.consents_created) == (2, 2)
    consents = list(db.scalars(select(ConsentRecord).order_by(ConsentRecord.id)))
    leads = {lead.id: lead for lead in db.scalars(select(Lead))}
    for consent in consents:
        assert consent.consent_type == ConsentType.PEWC and consent.method == ConsentMethod.ATTESTATION
        assert (consent.seller_name, consent.evidence, consent.attested_by) == (SELLER, text, "alice")
        assert consent.covers_artificial_voice is True and consent.signed_at is None
        assert consent.phone_e164 == leads[consent.lead_id].phone_e164
    assert {c.lead_id for c in consents} == set(leads)
    (imported,) = events(db, "leads.imported")
    assert imported.payload["attestation"] == text
    assert imported.payload["consent_records"] == 2 and events(db, "consent.recorded") == []


def test_attestation_comes_on_top_of_consent_columns(db, tmp_path):
    make_campaign(db)
    result = run(
        db, copy(ROOT / "leads.example.csv", tmp_path), attestation="Captured in the CRM opt-in flow."
    )
    assert result.consents_created == 21 + 22
    methods = db.execute(
        select(ConsentRecord.method, func.count())
        .group_by(ConsentRecord.method)
        .order_by(ConsentRecord.method)
    ).all()
    assert [(str(m), n) for m, n in methods] == [("attestation", 22), ("csv_columns", 21)]


@pytest.mark.parametrize(
    ("attestation", "message"), [("   ", "attestation is empty"), ("x" * 2001, "limit is 2000")]
)
def test_bad_attestation_writes_nothing(db, tmp_path, attestation, message):
    make_campaign(db)
    before = counts(db)
    with pytest.raises(ImportFileError, match=message):
        run(db, copy(ROOT / "leads.example.csv", tmp_path), attestation=attestation)
    assert counts(db) == before


def test_atomic_crm_import(db, tmp_path):
    make_campaign(db)
    result = run(db, copy(FIXTURES / "atomic_crm_test_contacts.csv", tmp_path))
    db.commit()  # the rejected-rows report is put in place when the import commits
    assert (result.accepted, len(result.rejected), len(result.folded), result.data_rows) == (364, 136, 0, 500)
    assert db.scalar(select(func.count()).select_from(Lead)) == 364
    assert result.notes and "company_name" in result.notes[0]
    lead = db.scalar(select(Lead).where(Lead.source_row == 117))
    assert (lead.phone_e164, lead.phone_extension) == ("+12126912539", "065")
    with (tmp_path / "atomic_crm_test_contacts.rejected.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 136
    assert rows[0] == {
        "row": "2",
        "column": "phone_home",
        "value": "1-955-371-0847 x371",
        "reason": "not a valid number (area code 955 is not valid)",
    }
    assert any(r["row"] == "45" and r["value"] == "372.613.0768 x042" for r in rows)


def test_report_that_cannot_be_written_does_not_fail_the_import(db, tmp_path):
    make_campaign(db)
    path = copy(ROOT / "leads.example.csv", tmp_path)
    (tmp_path / "leads.example.rejected.csv").mkdir()  # a directory where the report should go
    result = run(db, path)
    assert result.accepted == 22 and result.rejected_report_path is None
    assert result.report_error and "leads.example.rejected.csv" in result.report_error
    assert events(db, "leads.imported")[0].payload["report_error"] == result.report_error
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_no_report_without_rejections(db, tmp_path):
    make_campaign(db)
    result = run(db, copy(FIXTURES / "atomic_crm_contacts_export_sample.csv", tmp_path))
    assert result.rejected == [] and result.rejected_report_path is None
    assert list(tmp_path.glob("*.rejected.csv")) == []


def test_sqlite_import(sqlite_url, tmp_path):
    engine = make_engine(sqlite_url)
    factory = session_factory(engine)
    try:
        with transaction(factory) as session:
            make_campaign(session)
        path = copy(ROOT / "leads.example.csv", tmp_path)
        with transaction(factory) as session:
            result = run(session, path, attestation="Captured in the CRM opt-in flow.")
        assert (result.accepted, len(result.rejected), len(result.folded)) == (22, 2, 1)
        with factory() as session:
            assert counts(session)[:2] == (22, 43)
            lead = session.scalar(select(Lead).where(Lead.source_row == 20))
            consent = session.scalar(
                select(ConsentRecord).where(
                    ConsentRecord.lead_id == lead.id, ConsentRecord.method == ConsentMethod.CSV_COLUMNS
                )
            )
            assert consent.revoked_at == datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
            assert verify_chain(session).ok
        with transaction(factory) as session:
            again = run(session, path)
        assert (again.accepted, len(again.folded)) == (0, 23)
    finally:
        engine.dispose()
