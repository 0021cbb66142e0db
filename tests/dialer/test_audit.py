from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import update

from dialer.audit import export_events, record_event, verify_chain
from dialer.models import AuditEvent


def test_chain_verifies_and_detects_tampering(db):
    t0 = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    for i in range(5):
        record_event(
            db,
            kind="gate.decision",
            occurred_at=t0 + timedelta(seconds=i),
            lead_id=i,
            payload={"allowed": i % 2 == 0, "at": t0},
        )
    db.flush()
    assert verify_chain(db).ok
    third = db.query(AuditEvent).order_by(AuditEvent.id).all()[2]
    db.execute(update(AuditEvent).where(AuditEvent.id == third.id).values(payload={"allowed": True}))
    db.expire_all()
    result = verify_chain(db)
    assert not result.ok and result.first_bad_event_id == third.id


def test_deleting_the_last_event_is_detected(db):
    t0 = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    for i in range(3):
        record_event(db, kind="dnc.added", occurred_at=t0, payload={"n": i})
    last = db.query(AuditEvent).order_by(AuditEvent.id.desc()).first()
    db.delete(last)
    db.flush()
    assert not verify_chain(db).ok


def test_non_utc_instants_hash_stably(db):
    chicago = timezone(timedelta(hours=-6))
    record_event(db, kind="x", occurred_at=datetime(2026, 11, 23, 11, 0, tzinfo=chicago))
    db.flush()
    db.expire_all()
    assert verify_chain(db).ok


def test_export_jsonl_and_csv(db, tmp_path):
    t0 = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    record_event(db, kind="disposition", occurred_at=t0, campaign_id=1, payload={"name": "booked"})
    record_event(db, kind="disposition", occurred_at=t0, campaign_id=2, payload={"name": "dnc"})
    n = export_events(db, tmp_path / "a.jsonl")
    assert n == 2 and len((tmp_path / "a.jsonl").read_text().splitlines()) == 2
    n = export_events(db, tmp_path / "a.csv", fmt="csv", campaign_id=2)
    lines = (tmp_path / "a.csv").read_text().splitlines()
    assert n == 1 and lines[0].startswith("id,occurred_at,kind") and '""name"": ""dnc""' in lines[1]
