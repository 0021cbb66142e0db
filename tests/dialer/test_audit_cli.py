"""``dialer audit`` as an operator runs it, and the 0004 migration of an existing hash chain."""

import hashlib
import json
import sqlite3
from datetime import UTC, datetime

from sqlalchemy import select

from dialer.audit import seal_pending, verify_chain
from dialer.db import make_engine, session_factory, transaction
from dialer.migrate import upgrade
from dialer.models import AuditEvent


def test_seal_verify_and_export_a_sealed_range_with_proof(run, tmp_path):
    added = run("dnc", "add", "212-555-0104", "--reason", "asked")  # two events
    assert added.returncode == 0, added.stderr
    sealed = run("audit", "seal")
    assert sealed.returncode == 0 and "sealed 2 audit events in 1 seals" in sealed.stdout
    verified = run("audit", "verify")
    assert verified.returncode == 0 and "2 events, 1 seals, 0 not sealed yet" in verified.stdout

    exported = run("audit", "export", "--out", "range.jsonl", "--from-id", "1", "--to-id", "2")
    assert exported.returncode == 0 and "proof in range.jsonl.proof.json" in exported.stdout
    lines = (tmp_path / "range.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [1, 2]
    checked = run("audit", "verify-export", "range.jsonl", "range.jsonl.proof.json")
    assert checked.returncode == 0 and "export verified (2 events" in checked.stdout
    tampered = json.loads(lines[1])
    tampered["payload"]["forged"] = True
    (tmp_path / "range.jsonl").write_text(lines[0] + "\n" + json.dumps(tampered) + "\n")
    refused = run("audit", "verify-export", "range.jsonl", "range.jsonl.proof.json")
    assert refused.returncode == 1 and "line 2 (event 2)" in refused.stdout

    assert run("audit", "export", "--out", "s.jsonl", "--seal", "1").returncode == 0
    assert len((tmp_path / "s.jsonl").read_text().splitlines()) == 2
    too_far = run("audit", "export", "--out", "far.jsonl", "--to-id", "99")
    assert too_far.returncode == 2 and "not sealed yet" in too_far.stderr
    assert not (tmp_path / "far.jsonl").exists()

    with sqlite3.connect(tmp_path / "cli.db") as db:
        db.execute("delete from audit_events where id = 1")
        db.execute("update audit_seals set prev_seal_hash = 'x'")
    broken = run("audit", "verify")
    assert broken.returncode == 1 and "at event 1: missing" in broken.stdout
    assert "at seal 1: link to the previous seal is broken" in broken.stdout


def _old_chain_hash(prev, row):
    body = {"prev_hash": prev, **row}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _legacy_database(tmp_path, *, tamper):
    url = f"sqlite:///{tmp_path / 'legacy.db'}"
    upgrade(url, "0003")
    prev = "0" * 64
    with sqlite3.connect(tmp_path / "legacy.db") as db:
        for i in range(1, 4):
            at = datetime(2026, 11, 23, 17, 0, i, tzinfo=UTC)
            row = {"occurred_at": at.isoformat(), "kind": "dnc.added", "actor": "system"}
            row |= {"campaign_id": None, "lead_id": i, "attempt_id": None, "payload": {"n": i}}
            digest = _old_chain_hash(prev, row)
            db.execute(
                "insert into audit_events (id, occurred_at, kind, actor, lead_id, payload, prev_hash, hash)"
                " values (?, ?, 'dnc.added', 'system', ?, ?, ?, ?)",
                (i, at.replace(tzinfo=None).isoformat(sep=" "), i, json.dumps(row["payload"]), prev, digest),
            )
            prev = digest
        db.execute("update audit_chain_head set last_hash = ?, last_event_id = 3", (prev,))
        if tamper:
            db.execute("update audit_events set payload = '{\"n\": 9}' where id = 2")
    upgrade(url)
    return make_engine(url)


def test_migration_rehashes_an_intact_legacy_chain_and_records_it(tmp_path):
    engine = _legacy_database(tmp_path, tamper=False)
    with transaction(session_factory(engine)) as session:
        assert verify_chain(session).ok
        assert seal_pending(session, now=datetime(2026, 12, 7, tzinfo=UTC)).events == 4
        assert verify_chain(session).ok
        note = session.scalars(select(AuditEvent).where(AuditEvent.kind == "audit.migrated")).one()
        assert note.payload["legacy_events"] == 3 and note.payload["legacy_chain_ok"] is True
    engine.dispose()


def test_migration_keeps_the_evidence_of_a_broken_legacy_chain(tmp_path):
    engine = _legacy_database(tmp_path, tamper=True)
    with session_factory(engine)() as session:
        note = session.scalars(select(AuditEvent).where(AuditEvent.kind == "audit.migrated")).one()
        assert note.payload["legacy_chain_ok"] is False and note.payload["first_bad_event_id"] == 2
    engine.dispose()
