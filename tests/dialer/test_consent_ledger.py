"""The consent ledger's write side (dialer.consent: ledger, records, imports, add_internal_dnc,
lead import evidence) on PostgreSQL.

Every write is checked where it matters: in the facts the dial gate reads (``gather_call_facts``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dialer import campaigns
from dialer.audit import verify_chain
from dialer.consent import (
    add_ebr,
    add_internal_dnc,
    compliance_flags,
    consent_ledger,
    import_contact_history_csv,
    import_ebr_csv,
    import_revocations_csv,
    record_contact_attempt,
    record_revocation,
    revoke_consent,
    set_compliance_flag,
)
from dialer.dialing.gate import gather_call_facts
from dialer.errors import DialerError, ImportFileError, InvalidStateError
from dialer.leads import import_leads
from dialer.models import (
    AuditEvent,
    Campaign,
    ComplianceFlag,
    ConsentMethod,
    ConsentRecord,
    ConsentRevocation,
    ContactAttempt,
    DncEntry,
    EbrRecord,
    Lead,
    LeadStatus,
    RndResult,
)
from dialer.registry import RegistryStore
from tests.conftest import MONDAY_11_CHICAGO
from tests.factories import SELLER, SIGNED, create_campaign, create_consent, create_lead

NOW = MONDAY_11_CHICAGO.astimezone(UTC)
PHONE = "+13125550101"
SHA = "ab" * 32


def facts(db: Session, dnc_dir: Path, lead: Lead):
    """What the dial gate would read for ``lead`` now."""
    campaign = db.get(Campaign, lead.campaign_id)
    return gather_call_facts(db, lead=lead, campaign=campaign, now=NOW, registry=RegistryStore(dnc_dir))


def count(db: Session, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def kinds(db: Session) -> list[str]:
    return list(db.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)))


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(db: Session, importer, path: Path) -> ImportFileError:
    """The error ``importer`` refuses the file at ``path`` with."""
    with pytest.raises(ImportFileError) as caught:
        importer(db, path, now=NOW, actor="t")
    return caught.value


@pytest.fixture
def lead(db):
    return create_lead(db, create_campaign(db))


# ---------------------------------------------------------------------- revocations


def test_record_revocation_writes_the_row_and_the_gate_applies_it(db, dnc_dir, lead):
    when = NOW - timedelta(hours=2)
    row = record_revocation(
        db, phone_e164=PHONE, revoked_at=when, channel="api", source="api:crm", actor="system", now=NOW
    )
    assert (row.phone_e164, row.revoked_at, row.channel, row.source) == (PHONE, when, "api", "api:crm")
    assert facts(db, dnc_dir, lead).lead.consents[0].revoked_at == when
    event = db.scalars(select(AuditEvent).where(AuditEvent.kind == "consent.revoked")).one()
    assert event.payload["consent_revocation_id"] == row.id and event.payload["channel"] == "api"
    assert verify_chain(db).ok


def test_a_revocation_before_the_consent_was_signed_does_not_touch_it(db, dnc_dir, lead):
    record_revocation(
        db, phone_e164=PHONE, revoked_at=SIGNED - timedelta(days=1), channel="api", source="t", actor="t"
    )
    assert facts(db, dnc_dir, lead).lead.consents[0].revoked_at is None


def test_a_revocation_naming_one_record_revokes_only_that_one(db, dnc_dir, lead):
    other = create_consent(db, lead)
    record_revocation(
        db, phone_e164=PHONE, revoked_at=NOW, channel="api", source="t", actor="t", consent_record_id=other.id
    )
    assert [c.revoked_at for c in facts(db, dnc_dir, lead).lead.consents] == [None, NOW]


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"channel": "email"}, ValueError, "not one of"),
        ({"phone_e164": "312-555-0101"}, ValueError, "not an E.164"),
        ({"revoked_at": NOW + timedelta(seconds=1)}, InvalidStateError, "after now"),
        ({"revoked_at": datetime(2026, 11, 1, 12, 0)}, ValueError, "timezone-aware"),
        ({"consent_record_id": 999_999}, InvalidStateError, "not a consent for"),
    ],
)
def test_record_revocation_refuses_bad_input_and_writes_nothing(db, lead, changes, error, message):
    args = dict(phone_e164=PHONE, revoked_at=NOW, channel="api", source="t", actor="t", now=NOW)
    with pytest.raises(error, match=message):
        record_revocation(db, **{**args, **changes})
    assert count(db, ConsentRevocation) == 0 and "consent.revoked" not in kinds(db)


def test_revoke_consent_is_a_revocation_only_and_a_later_pewc_restores_calling(db, dnc_dir, lead):
    row = revoke_consent(
        db,
        phone_e164="(312) 555-0101",
        now=NOW,
        channel="cli",
        source="cli",
        actor="user:ops",
        reason="email",
    )
    assert (row.phone_e164, row.channel, row.source, row.revoked_at) == (PHONE, "cli", "cli: email", NOW)
    assert count(db, DncEntry) == 0
    db.refresh(lead)
    assert lead.status == LeadStatus.PENDING  # the gate blocks it at dial time
    assert facts(db, dnc_dir, lead).lead.consents[0].revoked_at == NOW
    create_consent(db, lead, signed_at=NOW + timedelta(minutes=5))
    assert [c.revoked_at for c in facts(db, dnc_dir, lead).lead.consents] == [NOW, None]


def test_revoke_consent_takes_only_api_or_cli(db, lead):
    with pytest.raises(ValueError, match="api or cli"):
        revoke_consent(db, phone_e164=PHONE, now=NOW, channel="import", source="x", actor="t")
    with pytest.raises(DialerError, match="not a valid phone number"):
        revoke_consent(db, phone_e164="555-0101", now=NOW, channel="api", source="x", actor="t")
    assert count(db, ConsentRevocation) == 0


# ---------------------------------------------------------------------- a DNC request is a revocation


def test_honor_dnc_writes_a_revocation_that_the_gate_then_sees(db, dnc_dir, lead):
    entry = add_internal_dnc(
        db, phone_e164=PHONE, source="honor_dnc", now=NOW, actor="agent", reason="stop calling"
    )
    revocation = db.scalars(select(ConsentRevocation)).one()
    assert (revocation.dnc_entry_id, revocation.channel, revocation.revoked_at) == (
        entry.id,
        "honor_dnc",
        NOW,
    )
    assert revocation.source == f"dnc:{entry.id} honor_dnc"
    gate = facts(db, dnc_dir, lead)
    assert gate.lead.consents[0].revoked_at == NOW
    assert gate.lead.internal_dnc_requested_at == NOW
    assert kinds(db)[-2:] == ["dnc.added", "consent.revoked"] and verify_chain(db).ok


@pytest.mark.parametrize(
    ("source", "channel"),
    [
        ("honor_dnc", "honor_dnc"),
        ("phrase_check", "transcript"),
        ("dtmf", "dtmf"),
        ("cli", "cli"),
        ("import", "import"),
        ("api", "api"),
    ],
)
def test_every_dnc_source_maps_to_a_revocation_channel(db, lead, source, channel):
    add_internal_dnc(db, phone_e164=PHONE, source=source, now=NOW, actor="t")
    assert db.scalars(select(ConsentRevocation.channel)).one() == channel


def test_an_unknown_dnc_source_is_refused_before_anything_is_written(db, lead):
    with pytest.raises(ValueError, match="DNC source 'email'"):
        add_internal_dnc(db, phone_e164=PHONE, source="email", now=NOW, actor="t")
    assert (count(db, DncEntry), count(db, ConsentRevocation)) == (0, 0)
    db.refresh(lead)
    assert lead.status == LeadStatus.PENDING


# ---------------------------------------------------------------------- EBR, outside contacts


def test_add_ebr_is_what_the_gate_reads_for_the_seller(db, dnc_dir, lead):
    when = NOW - timedelta(days=30)
    row = add_ebr(
        db,
        phone_e164="312.555.0101",
        seller_name=SELLER,
        kind="Transaction",
        occurred_at=when,
        source="api",
        actor="t",
        now=NOW,
    )
    assert (row.phone_e164, row.kind, row.occurred_at) == (PHONE, "purchase", when)
    ebr = facts(db, dnc_dir, lead).lead.ebr
    assert ebr is not None and (ebr.type, ebr.at) == ("purchase", when)
    assert "ebr.recorded" in kinds(db)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "lease"}, "not one of purchase, inquiry"),
        ({"seller_name": "  "}, "1 to 200"),
        ({"occurred_at": NOW + timedelta(days=1)}, "after now"),
        ({"phone_e164": "12"}, "not a valid phone number"),
    ],
)
def test_add_ebr_refuses_bad_input(db, changes, message):
    args = dict(
        phone_e164=PHONE, seller_name=SELLER, kind="inquiry", occurred_at=NOW, source="t", actor="t", now=NOW
    )
    with pytest.raises(InvalidStateError, match=message):
        add_ebr(db, **{**args, **changes})
    assert count(db, EbrRecord) == 0


def test_outside_contacts_appear_in_the_gate_history(db, dnc_dir, lead):
    when = NOW - timedelta(hours=3)
    record_contact_attempt(
        db,
        phone_e164=PHONE,
        attempted_at=when,
        channel="sms",
        source="api",
        actor="t",
        now=NOW,
        subject="data quality",
        caller_id="(312) 555-0150",
        answered=False,
    )
    [entry] = facts(db, dnc_dir, lead).lead.call_history
    assert (entry.at, entry.channel, entry.subject, entry.caller_id, entry.answered) == (
        when,
        "sms",
        "data quality",
        "+13125550150",
        False,
    )
    with pytest.raises(InvalidStateError, match="channel 'fax'"):
        record_contact_attempt(
            db, phone_e164=PHONE, attempted_at=when, channel="fax", source="t", actor="t", now=NOW
        )
    assert count(db, ContactAttempt) == 1


# ---------------------------------------------------------------------- flags


def test_la_emergency_flag_round_trip_through_the_gate_with_audited_history(db, dnc_dir, lead):
    assert facts(db, dnc_dir, lead).campaign.la_emergency_active is False
    set_compliance_flag(
        db, name="la_emergency", active=True, note="Gov. proclamation 12", actor="u:a", now=NOW
    )
    assert facts(db, dnc_dir, lead).campaign.la_emergency_active is True
    later = NOW + timedelta(days=1)
    flag = set_compliance_flag(db, name="la_emergency", active=False, note="lifted", actor="u:b", now=later)
    assert (flag.active, flag.note, flag.updated_by, flag.updated_at) == (False, "lifted", "u:b", later)
    assert facts(db, dnc_dir, lead).campaign.la_emergency_active is False
    events = db.scalars(
        select(AuditEvent).where(AuditEvent.kind == "compliance.flag_set").order_by(AuditEvent.id)
    )
    first, second = (e.payload for e in events)
    assert first["previous"] is None and first["active"] is True
    assert second["previous"]["active"] is True and second["previous"]["note"] == "Gov. proclamation 12"
    assert second["previous"]["updated_by"] == "u:a"
    [(name, _meaning, row)] = compliance_flags(db)
    assert name == "la_emergency" and row is flag
    assert count(db, ComplianceFlag) == 1


def test_unknown_flags_and_flags_on_without_a_note_are_refused(db):
    with pytest.raises(InvalidStateError, match="unknown compliance flag 'tx_emergency'"):
        set_compliance_flag(db, name="tx_emergency", active=True, note="x", actor="t", now=NOW)
    with pytest.raises(InvalidStateError, match="needs a note"):
        set_compliance_flag(db, name="la_emergency", active=True, note=" ", actor="t", now=NOW)
    assert count(db, ComplianceFlag) == 0 and kinds(db) == []


# ---------------------------------------------------------------------- CSV imports


def test_import_revocations_file(db, dnc_dir, lead, tmp_path):
    path = write(
        tmp_path,
        "optouts.csv",
        "Phone Number,Revoked At,Channel,Source\n"
        "(312) 555-0101,2026-11-20T09:00:00-06:00,,emailed support\n"
        "\n"
        "212-555-0104,2026-11-21T15:00:00Z,api,\n",
    )
    rows = import_revocations_csv(db, path, now=NOW, actor="user:ops")
    assert [(r.phone_e164, r.channel, r.source) for r in rows] == [
        (PHONE, "import", "import:optouts.csv row 2 (emailed support)"),
        ("+12125550104", "api", "import:optouts.csv row 4"),
    ]
    assert rows[0].revoked_at == datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    assert facts(db, dnc_dir, lead).lead.consents[0].revoked_at == rows[0].revoked_at
    summary = db.scalars(select(AuditEvent).where(AuditEvent.kind == "consent.revocations_imported")).one()
    assert summary.payload["rows"] == 2 and summary.payload["file"] == "optouts.csv"
    assert kinds(db).count("consent.revoked") == 2


BAD_REVOCATIONS = [
    ("phone,revoked_at\n3125550101,2026-11-20T09:00:00Z\nnot a phone,2026-11-20T09:00:00Z\n", 3, "phone"),
    ("phone,revoked_at\n3125550101,2026-11-20 09:00\n", 2, "revoked_at"),
    ("phone,revoked_at\n3125550101,2026-11-20\n", 2, "revoked_at"),
    ("phone,revoked_at\n3125550101,2026-12-20T09:00:00Z\n", 2, "revoked_at"),
    ("phone,revoked_at\n3125550101,yesterday\n", 2, "revoked_at"),
    ("phone,revoked_at,channel\n3125550101,2026-11-20T09:00:00Z,email\n", 2, "channel"),
    ("phone,when\n3125550101,2026-11-20T09:00:00Z\n", 1, "revoked_at"),
    ("phone,revoked_at\n3125550101,2026-11-20T09:00:00Z,extra\n", 2, None),
    ("phone,revoked_at\n", None, None),
    ("", None, None),
]


@pytest.mark.parametrize(("text", "row", "column"), BAD_REVOCATIONS)
def test_a_bad_revocation_file_names_row_and_column_and_writes_nothing(db, lead, tmp_path, text, row, column):
    error = refused(db, import_revocations_csv, write(tmp_path, "optouts.csv", text))
    assert (error.row, error.column) == (row, column) and "optouts.csv" in str(error)
    assert count(db, ConsentRevocation) == 0 and kinds(db) == []


def test_a_non_utf8_file_is_refused(db, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("phone,revoked_at,source\n3125550101,2026-11-20T09:00:00Z,Jos\xe9\n".encode("latin-1"))
    error = refused(db, import_revocations_csv, path)
    assert "not UTF-8" in str(error) and error.row == 2
    assert count(db, ConsentRevocation) == 0


def test_import_ebr_file(db, dnc_dir, lead, tmp_path):
    path = write(
        tmp_path,
        "customers.csv",
        "phone,seller,kind,occurred_at\n"
        f'3125550101,"{SELLER}",inquiry,2026-11-01T12:00:00Z\n'
        '3125550102,"Contoso Ltd",purchase,2025-12-01T12:00:00-05:00\n',
    )
    rows = import_ebr_csv(db, path, now=NOW, actor="t")
    assert [(r.phone_e164, r.seller_name, r.kind, r.source) for r in rows] == [
        (PHONE, SELLER, "inquiry", "import:customers.csv row 2"),
        ("+13125550102", "Contoso Ltd", "purchase", "import:customers.csv row 3"),
    ]
    assert facts(db, dnc_dir, lead).lead.ebr.type == "inquiry"
    assert kinds(db).count("ebr.recorded") == 2 and kinds(db)[-1] == "ebr.imported"


@pytest.mark.parametrize(
    ("line", "column"),
    [
        ("3125550101,,purchase,2026-11-01T12:00:00Z", "seller"),
        ("3125550101,Acme,lease,2026-11-01T12:00:00Z", "kind"),
        ("3125550101,Acme,purchase,2027-11-01T12:00:00Z", "occurred_at"),
    ],
)
def test_a_bad_ebr_row_writes_nothing(db, tmp_path, line, column):
    path = write(
        tmp_path,
        "ebr.csv",
        f"phone,seller,kind,occurred_at\n3125550102,Acme,purchase,2026-11-01T12:00:00Z\n{line}\n",
    )
    error = refused(db, import_ebr_csv, path)
    assert (error.row, error.column) == (3, column)
    assert count(db, EbrRecord) == 0 and kinds(db) == []


def test_import_history_rows_appear_in_the_gate_call_history(db, dnc_dir, lead, tmp_path):
    path = write(
        tmp_path,
        "sms.csv",
        "phone,attempted_at,channel,subject,caller_id,answered\n"
        "3125550101,2026-11-23T10:00:00-06:00,sms,renewal,3125550150,false\n"
        "3125550101,2026-11-23T08:30:00-06:00,voice,,,\n"
        "3125550101,2026-11-22T12:30:00-06:00,RVM,,,yes\n"
        "3125550101,2026-11-21T08:30:00-06:00,sms,,,\n",
    )
    rows = import_contact_history_csv(db, path, now=NOW, actor="t")
    assert len(rows) == 4
    # The gate reads what a cap can still count: the 24 h before now (the oldest row is 50 h old).
    history = facts(db, dnc_dir, lead).lead.call_history
    assert [(h.channel, h.subject, h.caller_id, h.answered) for h in history] == [
        ("rvm", None, None, True),
        ("voice", None, None, None),
        ("sms", "renewal", "+13125550150", False),
    ]
    assert history[-1].at == datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    assert kinds(db)[-1] == "contacts.imported"


@pytest.mark.parametrize(
    ("line", "column"),
    [
        ("3125550101,2026-11-23T10:00:00Z,fax,,,", "channel"),
        ("3125550101,2026-11-23T10:00:00Z,sms,,not-a-number,", "caller_id"),
        ("3125550101,2026-11-23T10:00:00Z,sms,,,maybe", "answered"),
        ("3125550101,2026-11-23T10:00:00Z,sms," + "x" * 201 + ",,", "subject"),
    ],
)
def test_a_bad_history_row_writes_nothing(db, tmp_path, line, column):
    path = write(tmp_path, "h.csv", f"phone,attempted_at,channel,subject,caller_id,answered\n{line}\n")
    error = refused(db, import_contact_history_csv, path)
    assert (error.row, error.column) == (2, column)
    assert count(db, ContactAttempt) == 0


# ---------------------------------------------------------------------- the ledger


def test_consent_ledger_gathers_everything_for_a_number(db, lead):
    add_internal_dnc(db, phone_e164=PHONE, source="cli", now=NOW, actor="t", reason="asked")
    add_ebr(
        db,
        phone_e164=PHONE,
        seller_name=SELLER,
        kind="purchase",
        occurred_at=SIGNED,
        source="t",
        actor="t",
        now=NOW,
    )
    record_contact_attempt(
        db, phone_e164=PHONE, attempted_at=SIGNED, channel="sms", source="t", actor="t", now=NOW
    )
    db.add(
        RndResult(phone_e164=PHONE, queried_at=NOW, consent_date=date(2026, 10, 1), result="no", source="f")
    )
    db.flush()
    ledger = consent_ledger(db, "312 555 0101")
    assert ledger.phone_e164 == PHONE
    assert [c.lead_id for c in ledger.consents] == [lead.id]
    assert ledger.revoked_at(ledger.consents[0]) == NOW
    assert [r.channel for r in ledger.revocations] == ["cli"]
    assert [d.reason for d in ledger.dnc_requests] == ["asked"]
    assert [e.kind for e in ledger.ebrs] == ["purchase"]
    assert [c.channel for c in ledger.contacts] == ["sms"]
    assert ledger.rnd is not None and ledger.rnd.result == "no"
    assert consent_ledger(db, "+12125550104").consents == ()


# ---------------------------------------------------------------------- lead import evidence columns

LEADS_HEADER = (
    "first_name,phone,consent_type,consent_at,consent_seller,consent_sellers,consent_artificial_voice,"
    "consent_text,consent_url,consent_ip,consent_form_sha256\n"
)


def test_lead_import_stores_the_consent_evidence_columns(db, tmp_path):
    create_campaign(db, name="q4")
    path = write(
        tmp_path,
        "leads.csv",
        LEADS_HEADER + f'Ava,3125550101,pewc,2026-10-02T15:04:00Z,Contoso Ltd,"{SELLER}; Fabrikam",yes,'
        f'"I agree to AI-voice calls",https://northwind.example/optin/a1,2001:DB8::1,{SHA.upper()}\n'
        "Ben,3125550102,pewc,2026-10-02T15:04:00Z,,,yes,,,,\n",
    )
    result = import_leads(db, campaign_name="q4", path=path, attested_by="alice", now=NOW)
    assert (result.accepted, result.rejected) == (2, [])
    ava, ben = db.scalars(select(ConsentRecord).order_by(ConsentRecord.id)).all()
    assert ava.other_sellers == [SELLER, "Fabrikam"]
    assert (ava.evidence_text, ava.evidence_url, ava.evidence_ip, ava.evidence_form_sha256) == (
        "I agree to AI-voice calls",
        "https://northwind.example/optin/a1",
        "2001:db8::1",
        SHA,
    )
    assert ava.source == "import:leads.csv row 2" and ben.source == "import:leads.csv row 3"
    assert ben.other_sellers == [] and ben.evidence_url is None
    # Ava's agreement names the campaign's seller among its other sellers: no seller warning for her.
    assert [w.row for w in result.warnings] == [3]
    (imported,) = db.scalars(select(AuditEvent).where(AuditEvent.kind == "leads.imported")).all()
    assert imported.payload["consent_records"] == 2


@pytest.mark.parametrize(
    ("cells", "column", "reason"),
    [
        ("x" * 201 + ",yes,,,,", "consent_sellers", "limit is 200"),
        (",yes,,not a url,,", "consent_url", "http(s) URL"),
        (",yes,,,10.0.0.300,", "consent_ip", "not an IP address"),
        (",yes,,,,abc123", "consent_form_sha256", "sha256"),
    ],
)
def test_lead_import_rejects_bad_evidence_with_row_and_column(db, tmp_path, cells, column, reason):
    create_campaign(db, name="q4")
    path = write(
        tmp_path,
        "leads.csv",
        LEADS_HEADER
        + f"Ava,3125550101,pewc,2026-10-02T15:04:00Z,{SELLER.split(',')[0]},{cells}\n"
        + "Ben,3125550102,pewc,2026-10-02T15:04:00Z,,,yes,,,,\n",
    )
    result = import_leads(db, campaign_name="q4", path=path, attested_by="alice", now=NOW)
    assert result.accepted == 1
    [rejected] = result.rejected
    assert (rejected.row, rejected.column) == (2, column) and reason in rejected.reason


def test_attestation_consents_carry_their_source(db, tmp_path):
    create_campaign(db, name="q4")
    path = write(tmp_path, "crm.csv", "phone\n3125550101\n")
    import_leads(
        db, campaign_name="q4", path=path, attestation="captured at the booth", attested_by="a", now=NOW
    )
    record = db.scalars(select(ConsentRecord)).one()
    assert (record.method, record.source) == (ConsentMethod.ATTESTATION, "import:crm.csv row 2")


def test_evidence_columns_without_consent_type_are_refused(db, tmp_path):
    create_campaign(db, name="q4")
    path = write(tmp_path, "leads.csv", "phone,consent_ip\n3125550101,203.0.113.7\n")
    with pytest.raises(ImportFileError, match="no consent_type column"):
        import_leads(db, campaign_name="q4", path=path, attested_by="a", now=NOW)
    assert count(db, Lead) == 0


# ---------------------------------------------------------------------- campaign subject


def test_campaign_subject_is_stored_and_read_by_the_gate(db, dnc_dir):
    campaign = campaigns.create_campaign(
        db,
        name="renewals",
        seller_name=SELLER,
        caller_id="3125550199",
        now=NOW,
        actor="t",
        subject="  policy renewal ",
    )
    assert campaign.subject == "policy renewal"
    lead = create_lead(db, campaign)
    assert facts(db, dnc_dir, lead).campaign.subject == "policy renewal"
    assert (
        campaigns.create_campaign(
            db, name="x", seller_name=SELLER, caller_id="3125550199", now=NOW, actor="t"
        ).subject
        is None
    )
    with pytest.raises(InvalidStateError, match="limit is 200"):
        campaigns.create_campaign(
            db, name="y", seller_name=SELLER, caller_id="3125550199", now=NOW, actor="t", subject="s" * 201
        )
