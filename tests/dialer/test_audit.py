"""The audit log: appends, sealing (gaps, concurrency), verification of tampering, export with proof."""

import json
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, func, select, text, update
from sqlalchemy.orm import Session

from dialer import tasks
from dialer.audit import (
    AuditExportError,
    export_events,
    record_event,
    seal_pending,
    verify_chain,
    verify_export,
)
from dialer.audit.events import event_content_hash
from dialer.audit.merkle import inclusion_path, leaf_hash, node_hash, tree_levels, verify_inclusion
from dialer.celery_app import app as celery_app
from dialer.db import session_factory
from dialer.models import AuditEvent, AuditSeal

T0 = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


def _append(session, n, *, start=0, campaign_id=None):
    for i in range(start, start + n):
        record_event(
            session,
            kind="gate.decision",
            occurred_at=T0 + timedelta(seconds=i),
            lead_id=i,
            campaign_id=campaign_id,
            payload={"allowed": i % 2 == 0, "at": T0, "n": i},
        )
    session.flush()


def _ids(session):
    return list(session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def _sealed(session, n, batch_size=4, **kw):
    _append(session, n, **kw)
    report = seal_pending(session, now=T0, batch_size=batch_size)
    session.expire_all()
    return report


def _mth(leaves):
    """RFC 9162 §2.1.1 as written (recursive), to check the level-by-level tree against."""
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


def test_merkle_tree_and_inclusion_proofs_follow_rfc_9162():
    for size in range(1, 23):
        data = [f"leaf {i}".encode() for i in range(size)]
        levels = tree_levels([leaf_hash(d) for d in data])
        root = levels[-1][0]
        assert root == _mth(data)
        for index in range(size):
            path = inclusion_path(levels, index)
            assert verify_inclusion(leaf_hash(data[index]), index, size, path, root)
            assert not verify_inclusion(leaf_hash(b"other"), index, size, path, root)
            if size > 1:
                assert not verify_inclusion(leaf_hash(data[index]), (index + 1) % size, size, path, root)


def test_chain_verifies_and_detects_tampering(db):
    _append(db, 5)
    assert verify_chain(db).ok
    third = _ids(db)[2]
    db.execute(update(AuditEvent).where(AuditEvent.id == third).values(payload={"allowed": True}))
    db.expire_all()
    result = verify_chain(db)
    assert not result.ok and result.first_bad_event_id == third and "altered" in result.problem
    assert result.unsealed_events == 3


def test_appending_reads_and_locks_nothing(db):
    statements = []

    def capture(_conn, _cursor, statement, *_args):
        statements.append(statement.split()[0].upper())

    engine = db.get_bind().engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        record_event(db, kind="x", occurred_at=T0, payload={"a": 1})
        db.flush()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert [s for s in statements if s != "SAVEPOINT"] == ["INSERT"]


def test_sealing_batches_chain_and_is_idempotent(db):
    report = _sealed(db, 10, batch_size=4)
    assert (report.seals, report.events) == (3, 10)
    seals = db.scalars(select(AuditSeal).order_by(AuditSeal.id)).all()
    assert [s.event_count for s in seals] == [4, 4, 2]
    assert seals[1].prev_seal_hash == seals[0].seal_hash and seals[2].first_id == seals[1].last_id + 1
    again = seal_pending(db, now=T0)
    assert (again.seals, again.events) == (0, 0)
    result = verify_chain(db)
    assert result.ok and result.seals_checked == 3 and result.unsealed_events == 0
    assert result.events_checked == 10 and result.last_seal_hash == seals[-1].seal_hash


def test_sealed_event_altered_with_its_hash_recomputed_is_named(db):
    _sealed(db, 6)
    target = _ids(db)[4]
    row = db.get(AuditEvent, target)
    row.payload = {"allowed": True}
    row.hash = event_content_hash(row)
    db.flush()
    result = verify_chain(db)
    assert result.first_bad_event_id == target and "differ from what was sealed" in result.problem


def test_deleted_event_is_named_as_missing(db):
    _sealed(db, 9)
    target = _ids(db)[5]
    db.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": target})
    db.expire_all()
    result = verify_chain(db)
    assert not result.ok and result.first_bad_event_id == target and "missing" in result.problem


def test_deleting_the_last_sealed_event_is_detected(db):
    _sealed(db, 3)
    last = _ids(db)[-1]
    db.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": last})
    db.expire_all()
    result = verify_chain(db)
    assert result.first_bad_event_id == last and "missing" in result.problem


def test_swapped_events_are_named_as_reordered(db):
    _sealed(db, 8)
    a, b = _ids(db)[2], _ids(db)[3]
    db.execute(text("UPDATE audit_events SET id = -1 WHERE id = :a"), {"a": a})
    db.execute(text("UPDATE audit_events SET id = :a WHERE id = :b"), {"a": a, "b": b})
    db.execute(text("UPDATE audit_events SET id = :b WHERE id = -1"), {"b": b})
    db.expire_all()
    result = verify_chain(db)
    assert (
        result.first_bad_event_id == a and result.problem == f"holds the event sealed as id {b} (reordered)"
    )


def test_swapped_payloads_are_named_as_altered(db):
    _sealed(db, 8)
    a, b = _ids(db)[1], _ids(db)[6]
    pa, pb = db.get(AuditEvent, a).payload, db.get(AuditEvent, b).payload
    db.execute(update(AuditEvent).where(AuditEvent.id == a).values(payload=pb))
    db.execute(update(AuditEvent).where(AuditEvent.id == b).values(payload=pa))
    db.expire_all()
    result = verify_chain(db)
    assert result.first_bad_event_id == a and "altered" in result.problem


def test_tampered_seal_is_named(db):
    _sealed(db, 12)
    second = db.scalars(select(AuditSeal.id).order_by(AuditSeal.id)).all()[1]
    db.execute(update(AuditSeal).where(AuditSeal.id == second).values(merkle_root="ab" * 32))
    db.expire_all()
    result = verify_chain(db)
    assert result.first_bad_seal_id == second and "hash" in result.seal_problem
    assert result.first_bad_event_id is None and not result.ok


def test_event_inserted_into_a_sealed_gap_is_named(db):
    _append(db, 2)
    gap_id = _ids(db)[-1] + 1
    db.execute(text("SELECT nextval(pg_get_serial_sequence('audit_events', 'id'))"))
    _append(db, 2, start=2)
    seal_pending(db, now=T0)
    seal = db.scalars(select(AuditSeal).order_by(AuditSeal.id.desc())).first()
    assert [gap_id, gap_id] in seal.gaps
    assert verify_chain(db).ok
    db.execute(
        text(
            "INSERT INTO audit_events (id, occurred_at, kind, actor, payload, hash)"
            " SELECT :g, occurred_at, kind, actor, payload, hash FROM audit_events WHERE id = :g - 1"
        ),
        {"g": gap_id},
    )
    db.expire_all()
    result = verify_chain(db)
    assert result.first_bad_event_id == gap_id and "gap" in result.problem


def test_non_utc_instants_hash_stably(db):
    chicago = timezone(timedelta(hours=-6))
    record_event(db, kind="x", occurred_at=datetime(2026, 11, 23, 11, 0, tzinfo=chicago))
    db.flush()
    db.expire_all()
    seal_pending(db, now=T0)
    db.expire_all()
    assert verify_chain(db).ok


def test_export_jsonl_and_csv(db, tmp_path):
    record_event(db, kind="disposition", occurred_at=T0, campaign_id=1, payload={"name": "booked"})
    record_event(db, kind="disposition", occurred_at=T0, campaign_id=2, payload={"name": "dnc"})
    n = export_events(db, tmp_path / "a.jsonl")
    assert n == 2 and len((tmp_path / "a.jsonl").read_text().splitlines()) == 2
    n = export_events(db, tmp_path / "a.csv", fmt="csv", campaign_id=2)
    lines = (tmp_path / "a.csv").read_text().splitlines()
    assert n == 1 and lines[0].startswith("id,occurred_at,kind") and '""name"": ""dnc""' in lines[1]


def test_sealed_range_export_verifies_offline_and_an_altered_line_fails(db, tmp_path):
    _sealed(db, 11, batch_size=4)
    ids = _ids(db)
    events, proof = tmp_path / "r.jsonl", tmp_path / "r.proof.json"
    n = export_events(db, events, from_id=ids[2], to_id=ids[9], proof=proof)
    assert n == 8
    result = verify_export(events, proof)
    assert result.ok and result.events_checked == 8
    lines = events.read_text().splitlines()
    changed = json.loads(lines[4])
    changed["payload"]["allowed"] = not changed["payload"]["allowed"]
    lines[4] = json.dumps(changed)
    events.write_text("\n".join(lines) + "\n")
    bad = verify_export(events, proof)
    assert not bad.ok and bad.first_bad_line == 5 and bad.event_id == ids[6] and "altered" in bad.problem
    del lines[4]
    events.write_text("\n".join(lines) + "\n")
    gone = verify_export(events, proof)
    assert not gone.ok and gone.event_id == ids[6] and "missing" in gone.problem


def test_export_with_proof_refuses_an_unsealed_range(db, tmp_path):
    _sealed(db, 3)
    _append(db, 2, start=3)
    with pytest.raises(AuditExportError, match="not sealed yet"):
        export_events(db, tmp_path / "x.jsonl", to_id=_ids(db)[-1], proof=tmp_path / "x.proof")
    assert not (tmp_path / "x.jsonl").exists()


def test_one_campaigns_events_export_with_proof(db, tmp_path):
    _append(db, 3, campaign_id=7)
    _append(db, 3, start=3, campaign_id=8)
    seal_pending(db, now=T0, batch_size=4)
    n = export_events(db, tmp_path / "c.jsonl", campaign_id=8, proof=tmp_path / "c.proof")
    assert n == 3 and verify_export(tmp_path / "c.jsonl", tmp_path / "c.proof").ok


def _commit_event(factory, n):
    with factory() as session, session.begin():
        _append(session, 1, start=n)


def test_sealer_waits_for_an_id_in_flight_and_seals_a_rolled_back_one(committed_pg):
    factory = session_factory(committed_pg)
    _commit_event(factory, 0)
    in_flight = factory()
    in_flight.begin()
    _append(in_flight, 1, start=1)  # id 2 allocated, not committed
    _commit_event(factory, 2)  # id 3 committed
    with factory() as session, session.begin():
        report = seal_pending(session, now=T0)
    assert (report.events, report.last_sealed_id, report.waiting_on_gap) == (1, 1, 2)
    in_flight.commit()
    in_flight.close()
    with factory() as session, session.begin():
        assert seal_pending(session, now=T0).events == 2

    rolled_back = factory()
    rolled_back.begin()
    _append(rolled_back, 1, start=3)  # id 4
    rolled_back.rollback()
    rolled_back.close()
    _commit_event(factory, 4)  # id 5
    with factory() as session, session.begin():
        report = seal_pending(session, now=T0)
        assert (report.events, report.waiting_on_gap) == (1, None)
        assert last_gaps(session) == [[4, 4]]
        assert verify_chain(session).ok


def test_sealer_sees_a_transaction_begun_after_its_own_first_look(committed_pg):
    """pg_stat_activity is frozen at its first read in a transaction: the sealer reads it afresh.

    A sealer whose transaction had already looked at the view (an earlier batch, a caller's
    query) must still see the writer that began later and holds the missing id.
    """
    factory = session_factory(committed_pg)
    _commit_event(factory, 0)
    with factory() as sealer, sealer.begin():
        sealer.execute(text("SELECT count(*) FROM pg_stat_activity")).scalar_one()
        in_flight = factory()
        in_flight.begin()
        _append(in_flight, 1, start=1)  # id 2 allocated, not committed
        _commit_event(factory, 2)  # id 3 committed
        report = seal_pending(sealer, now=T0)
        assert (report.last_sealed_id, report.waiting_on_gap) == (1, 2)
    in_flight.commit()
    in_flight.close()
    with factory() as session, session.begin():
        assert seal_pending(session, now=T0).last_sealed_id == 3
        assert verify_chain(session).ok


def last_gaps(session: Session):
    return session.scalars(select(AuditSeal.gaps).order_by(AuditSeal.id.desc())).first()


def test_concurrent_sealers_never_seal_an_event_twice(committed_pg):
    factory = session_factory(committed_pg)
    with factory() as session, session.begin():
        _append(session, 300)
    errors = []

    def sealer():
        try:
            for _ in range(5):
                with factory() as session, session.begin():
                    seal_pending(session, now=T0, batch_size=7, max_batches=3)
        except Exception as exc:  # pragma: no cover - the assertion shows it
            errors.append(exc)

    threads = [threading.Thread(target=sealer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with factory() as session, session.begin():
        seal_pending(session, now=T0)
        assert session.scalar(select(func.sum(AuditSeal.event_count))) == 300
        result = verify_chain(session)
        assert result.ok and result.unsealed_events == 0


def test_writers_do_not_wait_for_each_other(committed_pg):
    factory = session_factory(committed_pg)
    first = factory()
    first.begin()
    _append(first, 1)  # flushed, not committed: the old chain head stayed locked until commit
    try:
        with factory() as second, second.begin():
            second.execute(text("SET LOCAL lock_timeout = '2s'"))
            _append(second, 1, start=1)
    finally:
        first.commit()
        first.close()
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 2


def test_beat_seals_the_log():
    entry = celery_app.conf.beat_schedule["dialer-audit-seal"]
    assert entry["task"] == "dialer.audit_seal" and entry["schedule"] <= 10
    assert celery_app.tasks["dialer.audit_seal"].name == tasks.audit_seal.name == "dialer.audit_seal"
