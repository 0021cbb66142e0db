"""Sealing: chaining committed audit events in batches, as RFC 9162 transparency logs do.

A seal covers the consecutive event ids ``first_id..last_id`` that follow the previous seal. It
stores the events' content hashes, the Merkle root over the leaves ``"<id>:<content hash>"``
(:mod:`dialer.audit.merkle`), the id ranges that held no event (``gaps``), the previous seal's
hash and its own hash over all of that. Editing, deleting, inserting or reordering a sealed event
then disagrees with its seal, and editing a seal breaks the seal chain.

**What may be sealed.** Ids come from a sequence: on PostgreSQL they are handed out in order of
allocation, not of commit, so when the sealer sees ids 7 and 9, id 8 may belong to a transaction
still in flight (it will commit later) or to one that rolled back (it never will). Sealing past 8
too early would leave a committed event outside every seal. So the sealer, holding an advisory lock
(one sealer at a time; a second one waits, then finds nothing left), reads the events after the
last seal in id order and seals the contiguous run up to the first gap it cannot yet prove dead. A
gap is dead once no transaction that began before the event just after it was inserted (its
``recorded_at``, the server's ``clock_timestamp()``, plus ``INSERT_SLACK`` for the instant between
that default and the id's ``nextval`` in the same row) is still open in this database: the
transaction holding the missing id had allocated it before that insert, so it began before.
``pg_stat_activity`` answers that, read *after* the events (so that transaction had begun before
the read) and afresh each time (``pg_stat_clear_snapshot()``: the view is otherwise frozen at its
first read in a transaction); then the gap's ids are read once more, so a transaction that
committed between the two reads is seen rather than sealed over. Sessions it cannot see into
(another role's, without ``pg_read_all_stats``) count as open, and after ``gap_grace`` a gap is
sealed regardless (a transaction that old is taken as dead). Sealed gaps are recorded in the seal,
so verification knows they were empty at sealing time. On SQLite the sealer's ``BEGIN IMMEDIATE``
transaction holds the only write lock, so no other writer is in flight and every gap is dead.

Sealing is idempotent (a seal always starts right after the last one; ``first_id`` is unique)
and runs from the Celery beat (``dialer.audit_seal``), ``dialer audit seal``, and before
``dialer audit verify`` / ``export``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dialer.audit.events import GENESIS_HASH, canonical_json
from dialer.audit.merkle import leaf_hash, merkle_root
from dialer.db import advisory_xact_lock
from dialer.models import AuditEvent, AuditSeal

SEAL_LOCK = "dialer.audit.seal"
DEFAULT_BATCH = 5000
DEFAULT_GAP_GRACE = timedelta(minutes=10)
INSERT_SLACK = timedelta(milliseconds=100)


def event_leaf(event_id: int, event_hash: str) -> bytes:
    """The Merkle leaf hash of one sealed event: ``sha256(0x00 || "<id>:<content hash hex>")``."""
    return leaf_hash(f"{event_id}:{event_hash}".encode())


def seal_fields(seal: AuditSeal) -> dict[str, Any]:
    """A seal as plain JSON-ready data (what :func:`seal_hash` covers, plus ``seal_hash``)."""
    return {
        "seal_id": seal.id,
        "first_id": seal.first_id,
        "last_id": seal.last_id,
        "event_count": seal.event_count,
        "gaps": [list(gap) for gap in seal.gaps],
        "merkle_root": seal.merkle_root,
        "prev_seal_hash": seal.prev_seal_hash,
        "sealed_at": seal.sealed_at.astimezone(UTC).isoformat(),
        "seal_hash": seal.seal_hash,
    }


def seal_hash(fields: dict[str, Any]) -> str:
    """sha256 (hex) over the canonical JSON of a seal's fields (:func:`seal_fields`) but ``seal_hash``."""
    return hashlib.sha256(canonical_json({k: v for k, v in fields.items() if k != "seal_hash"})).hexdigest()


def sealed_ids(first_id: int, last_id: int, gaps: list[list[int]]) -> list[int]:
    """The event ids a seal covers: ``first_id..last_id`` less the gaps, in order."""
    skipped: set[int] = set()
    for start, end in gaps:
        skipped.update(range(start, end + 1))
    return [i for i in range(first_id, last_id + 1) if i not in skipped]


@dataclass(frozen=True)
class SealReport:
    """What :func:`seal_pending` did.

    Attributes:
        seals: seals written.
        events: events sealed.
        last_sealed_id: the last sealed event id afterwards (0 if none).
        waiting_on_gap: the first unsealed id, when it is a gap that may still be in flight.
    """

    seals: int
    events: int
    last_sealed_id: int
    waiting_on_gap: int | None = None


class _GapJudge:
    """Tells whether a missing id can no longer be committed (see the module docstring)."""

    def __init__(self, session: Session, grace: timedelta) -> None:
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.grace = grace

    def dead(self, first_missing: int, next_id: int, next_recorded_at: datetime | None) -> bool:
        """Whether ids ``first_missing..next_id - 1`` can no longer be committed.

        Called after the events were read; ``next_recorded_at`` is the event ``next_id``'s.
        """
        if not self.postgres:
            return True
        if next_recorded_at is None:  # a row older than recorded_at: long since committed
            return True
        self.session.execute(text("SELECT pg_stat_clear_snapshot()"))
        none_open = self.session.execute(
            text(
                "SELECT clock_timestamp() - :bound > :grace OR NOT EXISTS ("
                " SELECT 1 FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                " AND (xact_start <= :bound OR (xact_start IS NULL AND state IS NULL)))"
            ),
            {"bound": next_recorded_at + INSERT_SLACK, "grace": self.grace},
        ).scalar_one()
        if not none_open:
            return False
        committed_since = self.session.execute(
            select(AuditEvent.id).where(AuditEvent.id >= first_missing, AuditEvent.id < next_id).limit(1)
        ).first()
        return committed_since is None


def last_seal(session: Session) -> AuditSeal | None:
    """The newest seal, if any."""
    return session.scalars(select(AuditSeal).order_by(AuditSeal.id.desc()).limit(1)).first()


def seal_pending(
    session: Session,
    *,
    now: datetime,
    batch_size: int = DEFAULT_BATCH,
    max_batches: int | None = None,
    gap_grace: timedelta = DEFAULT_GAP_GRACE,
) -> SealReport:
    """Seal every committed event after the last seal, in batches of at most ``batch_size``.

    Takes the sealing lock for the rest of the caller's transaction (commit soon after). Safe to
    run from several processes at once and as often as wanted.

    Args:
        session: an open session; the caller commits.
        now: the product's clock (aware), stored as ``sealed_at``.
        batch_size: most events per seal (the Merkle tree is built in memory).
        max_batches: stop after this many seals (None: until nothing sealable is left).
        gap_grace: a gap whose next event is older than this is sealed even if a transaction
            of unknown age is still open.

    Returns:
        A :class:`SealReport`.
    """
    advisory_xact_lock(session, SEAL_LOCK)
    judge = _GapJudge(session, gap_grace)
    previous = last_seal(session)
    seals = events = 0
    waiting: int | None = None
    while max_batches is None or seals < max_batches:
        start = previous.last_id + 1 if previous else 1
        rows = session.execute(
            select(AuditEvent.id, AuditEvent.hash, AuditEvent.recorded_at)
            .where(AuditEvent.id >= start)
            .order_by(AuditEvent.id)
            .limit(batch_size)
        ).all()
        expected, ids, hashes, gaps = start, [], [], []
        for event_id, event_hash, recorded_at in rows:
            if event_id > expected:
                if not judge.dead(expected, event_id, recorded_at):
                    waiting = expected
                    break
                gaps.append([expected, event_id - 1])
            ids.append(event_id)
            hashes.append(event_hash)
            expected = event_id + 1
        if not ids:
            break
        previous = _write_seal(session, previous, ids, hashes, gaps, now)
        seals += 1
        events += len(ids)
        if waiting is not None or len(rows) < batch_size:
            break
    return SealReport(seals, events, previous.last_id if previous else 0, waiting)


def _write_seal(
    session: Session,
    previous: AuditSeal | None,
    ids: list[int],
    hashes: list[str],
    gaps: list[list[int]],
    now: datetime,
) -> AuditSeal:
    seal = AuditSeal(
        id=previous.id + 1 if previous else 1,
        first_id=previous.last_id + 1 if previous else 1,
        last_id=ids[-1],
        event_count=len(ids),
        gaps=gaps,
        event_hashes=b"".join(bytes.fromhex(h) for h in hashes),
        merkle_root=merkle_root([event_leaf(i, h) for i, h in zip(ids, hashes, strict=True)]).hex(),
        prev_seal_hash=previous.seal_hash if previous else GENESIS_HASH,
        sealed_at=now.astimezone(UTC),
    )
    seal.seal_hash = seal_hash(seal_fields(seal))
    session.add(seal)
    session.flush()
    return seal
