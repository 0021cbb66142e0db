"""Verifying the audit log: every event against its content hash and its seal, every seal against the chain.

What :func:`verify_chain` proves, reading everything in id order with bounded memory:

- each event's stored ``hash`` is the hash of its content (an edited payload is named);
- each seal's hash covers its fields, its ``prev_seal_hash`` is the previous seal's hash, it
  starts right after the previous seal, and its Merkle root is that of its stored event hashes
  (an edited, removed or re-ordered seal is named);
- each sealed id holds an event whose hash is the one sealed at that position: a missing event,
  an event moved to another id (its hash is sealed elsewhere in the batch), an event whose content
  and hash were both rewritten, and a row inserted into a sealed gap are each named by id;
- events after the last seal (the unsealed tail, normally those of the last seconds) are counted
  and their content hashes checked; their order is proved only once they are sealed, and an
  event deleted before its batch was sealed cannot be told from a rolled-back id (beat seals
  every few seconds, which keeps that window short).

The newest seal's hash commits to the whole log: anyone who kept a copy of it (an export, a
report) can later tell whether the log it covers was rewritten wholesale.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialer.audit.events import GENESIS_HASH, event_content_hash, iter_events
from dialer.audit.merkle import merkle_root
from dialer.audit.sealing import event_leaf, seal_fields, seal_hash, sealed_ids
from dialer.models import AuditSeal


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify_chain`.

    Attributes:
        ok: True when no event and no seal is wrong.
        events_checked: how many events were read.
        first_bad_event_id: the first event id (in id order) altered, missing, moved or inserted.
        problem: what is wrong with that event, in words.
        seals_checked: how many seals were read.
        first_bad_seal_id: the first seal whose hash, link, range or root is wrong.
        seal_problem: what is wrong with that seal, in words.
        unsealed_events: events after the last seal (content-checked only).
        last_seal_hash: the newest seal's hash (64 zeros when nothing is sealed).
    """

    ok: bool
    events_checked: int
    first_bad_event_id: int | None = None
    problem: str | None = None
    seals_checked: int = 0
    first_bad_seal_id: int | None = None
    seal_problem: str | None = None
    unsealed_events: int = 0
    last_seal_hash: str = GENESIS_HASH


class _Findings:
    def __init__(self) -> None:
        self.event_id: int | None = None
        self.problem: str | None = None
        self.seal_id: int | None = None
        self.seal_problem: str | None = None

    def event(self, event_id: int, problem: str) -> None:
        if self.event_id is None or event_id < self.event_id:
            self.event_id, self.problem = event_id, problem

    def seal(self, seal_id: int, problem: str) -> None:
        if self.seal_id is None:
            self.seal_id, self.seal_problem = seal_id, problem


def _seal_problem(seal: AuditSeal, prev_hash: str, prev_last: int) -> str | None:
    fields = seal_fields(seal)
    if seal.prev_seal_hash != prev_hash:
        return "link to the previous seal is broken"
    if seal.first_id != prev_last + 1:
        return f"range starts at event {seal.first_id}, not right after the previous seal ({prev_last + 1})"
    if seal_hash(fields) != seal.seal_hash:
        return "seal content does not match its hash"
    if len(seal.event_hashes) != 32 * seal.event_count:
        return "stored event hashes do not match the event count"
    ids = sealed_ids(seal.first_id, seal.last_id, seal.gaps)
    if len(ids) != seal.event_count:
        return "range less its gaps does not match the event count"
    leaves = [event_leaf(i, h) for i, h in zip(ids, _hashes(seal), strict=True)]
    if merkle_root(leaves).hex() != seal.merkle_root:
        return "Merkle root does not match the sealed event hashes"
    return None


def _hashes(seal: AuditSeal) -> list[str]:
    blob = seal.event_hashes
    return [blob[i : i + 32].hex() for i in range(0, len(blob), 32)]


def _check_sealed_events(session: Session, seal: AuditSeal, found: _Findings) -> int:
    """Compare the events of ``seal``'s range with what it sealed; return how many were read."""
    ids = sealed_ids(seal.first_id, seal.last_id, seal.gaps)
    hashes = _hashes(seal)
    usable = len(hashes) == len(ids)
    sealed = dict(zip(ids, hashes, strict=False)) if usable else {}
    position_of = {h: i for i, h in sealed.items()}
    expected = set(ids)
    count = 0
    seen: set[int] = set()
    for event in iter_events(session, from_id=seal.first_id, to_id=seal.last_id):
        count += 1
        seen.add(event.id)
        if event.id not in expected:
            found.event(event.id, "present in a gap recorded when its batch was sealed (inserted later)")
        elif event_content_hash(event) != event.hash:
            found.event(event.id, "event content does not match its hash (altered)")
        elif usable and sealed[event.id] != event.hash:
            other = position_of.get(event.hash)
            if other is not None:
                found.event(event.id, f"holds the event sealed as id {other} (reordered)")
            else:
                found.event(event.id, "content and hash differ from what was sealed (altered)")
        if found.event_id is not None and found.event_id <= event.id:
            break
    missing = [i for i in ids if i not in seen and (found.event_id is None or i < found.event_id)]
    if missing:
        found.event(missing[0], "missing: sealed, but no longer in the log (deleted)")
    return count


def _seals(session: Session) -> Iterator[AuditSeal]:
    """Seals in id order, one loaded at a time (each holds its batch's hashes)."""
    for seal_id in session.scalars(select(AuditSeal.id).order_by(AuditSeal.id)).all():
        seal = session.get(AuditSeal, seal_id)
        if seal is not None:
            yield seal
            session.expunge(seal)


def verify_chain(session: Session) -> VerifyResult:
    """Check every seal and every event (see the module docstring); read-only.

    Seal first (:func:`dialer.audit.seal_pending`, committed) to have recent events' order proved.

    Returns:
        A :class:`VerifyResult` naming the first bad event and the first bad seal, if any.
    """
    found = _Findings()
    prev_hash, prev_last, seals, events = GENESIS_HASH, 0, 0, 0
    for seal in _seals(session):
        seals += 1
        if found.seal_id is None:
            problem = _seal_problem(seal, prev_hash, prev_last)
            if problem:
                found.seal(seal.id, problem)
        if found.event_id is None:
            events += _check_sealed_events(session, seal, found)
        prev_hash, prev_last = seal.seal_hash, max(prev_last, seal.last_id)
        if found.seal_id is not None and found.event_id is not None:
            break
    unsealed = 0
    if found.event_id is None:
        for event in iter_events(session, from_id=prev_last + 1):
            unsealed += 1
            if event_content_hash(event) != event.hash:
                found.event(event.id, "event content does not match its hash (altered; not sealed yet)")
                break
    events += unsealed
    return VerifyResult(
        ok=found.event_id is None and found.seal_id is None,
        events_checked=events,
        first_bad_event_id=found.event_id,
        problem=found.problem,
        seals_checked=seals,
        first_bad_seal_id=found.seal_id,
        seal_problem=found.seal_problem,
        unsealed_events=unsealed,
        last_seal_hash=prev_hash,
    )
