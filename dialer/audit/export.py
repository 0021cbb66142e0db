"""Exporting audit events, and sealed ranges with the proof a third party checks offline.

:func:`export_events` writes events one JSON object a line (or CSV). With a proof
(``proof=PATH``), only sealed events are written and ``PATH`` receives a JSON document::

    {"format": "dialer-audit-proof/1",
     "leaf": "sha256(0x00 || '<id>:<hash>')", "node": "sha256(0x01 || left || right)",
     "content_hash": "sha256 of canonical JSON (sorted keys, no spaces) of <fields>",
     "fields": [...], "from_id": 1, "to_id": 900, "campaign_id": null, "complete": true,
     "seals": [{seal_id, first_id, last_id, event_count, gaps, merkle_root,
                prev_seal_hash, sealed_at, seal_hash}, ...],
     "proofs": {"<event id>": {"seal_id": 1, "leaf_index": 0, "path": ["<hex>", ...]}}}

:func:`verify_export` (pure file reading, no database) checks each line's content hash, its
RFC 9162 inclusion proof against its seal's Merkle root, each seal's hash and the links between
consecutive seals, and, when ``complete`` (no campaign filter), that every id of the range is
either exported or a gap recorded in a seal. Comparing the last ``seal_hash`` with a copy kept
elsewhere (an earlier export, a report, a notary) ties the export to the log as it was then.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialer.audit.events import HASHED_FIELDS, content_hash, event_as_dict, iter_events
from dialer.audit.merkle import inclusion_path, tree_levels, verify_inclusion
from dialer.audit.query import AuditFilter
from dialer.audit.sealing import event_leaf, seal_fields, seal_hash, sealed_ids
from dialer.csv_cells import safe_cell
from dialer.errors import AuditExportError, InvalidInputError
from dialer.models import AuditSeal

PROOF_FORMAT = "dialer-audit-proof/1"


def _covering_seals(session: Session, from_id: int, to_id: int) -> list[AuditSeal]:
    return list(
        session.scalars(
            select(AuditSeal)
            .where(AuditSeal.last_id >= from_id, AuditSeal.first_id <= to_id)
            .order_by(AuditSeal.id)
        )
    )


def sealed_range(session: Session, *, seal_id: int) -> tuple[int, int]:
    """The event id range ``(first_id, last_id)`` of seal ``seal_id``.

    Raises:
        AuditExportError: there is no such seal.
    """
    seal = session.get(AuditSeal, seal_id)
    if seal is None:
        raise AuditExportError(f"there is no audit seal {seal_id}")
    return seal.first_id, seal.last_id


def export_events(
    session: Session,
    destination: Path,
    *,
    fmt: Literal["jsonl", "csv"] = "jsonl",
    campaign_id: int | None = None,
    from_id: int | None = None,
    to_id: int | None = None,
    proof: Path | None = None,
    matching: AuditFilter | None = None,
) -> int:
    """Write audit events to ``destination`` in id order; return how many were written.

    ``jsonl`` writes one event object a line (``id``, the hashed fields, ``hash``); ``csv`` the
    same fields with ``payload`` as a JSON string, each cell spreadsheet-safe (a cell that would run
    as a formula gets a leading ``'``; see :mod:`dialer.csv_cells`).

    Args:
        session: an open session (read only).
        destination: the events file (its folder is created).
        fmt: ``jsonl`` or ``csv``.
        campaign_id: only this campaign's events.
        from_id, to_id: only ids in this range (inclusive).
        proof: also write the proof document (see the module docstring) here; then only sealed
            events are exported and ``fmt`` must be ``jsonl``.
        matching: only the events this filter matches (not with ``proof``: a proof covers a
            range or a campaign).

    Raises:
        AuditExportError: a proof was asked for CSV or with a filter, or ``from_id..to_id``
            reaches past the last seal (seal first: ``dialer audit seal``). Nothing is written then.
    """
    if proof is not None:
        if fmt != "jsonl":
            raise AuditExportError("an export with a proof is written as jsonl")
        if matching is not None and not matching.is_empty():
            raise AuditExportError("an export with a proof covers a range or a campaign, not a filter")
        return _export_with_proof(session, destination, proof, campaign_id, from_id, to_id)
    destination.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with destination.open("w", encoding="utf-8", newline="") as out:
        writer: csv.DictWriter[str] | None = None
        events = iter_events(
            session, campaign_id=campaign_id, from_id=from_id, to_id=to_id, matching=matching
        )
        for event in events:
            row = event_as_dict(event)
            if fmt == "jsonl":
                out.write(json.dumps(row, sort_keys=True) + "\n")
            else:
                if writer is None:
                    writer = csv.DictWriter(out, fieldnames=list(row))
                    writer.writeheader()
                cells = {**row, "payload": json.dumps(row["payload"], sort_keys=True)}
                writer.writerow({name: safe_cell(value) for name, value in cells.items()})
            count += 1
    return count


def _export_with_proof(
    session: Session,
    destination: Path,
    proof_path: Path,
    campaign_id: int | None,
    from_id: int | None,
    to_id: int | None,
) -> int:
    last = session.scalars(select(AuditSeal).order_by(AuditSeal.id.desc()).limit(1)).first()
    if last is None:
        raise AuditExportError("nothing is sealed yet: run `dialer audit seal` first")
    low = 1 if from_id is None else from_id
    high = last.last_id if to_id is None else to_id
    if high > last.last_id:
        raise AuditExportError(
            f"events after {last.last_id} are not sealed yet (asked up to {high}): run `dialer audit seal`"
        )
    if low > high:
        raise AuditExportError(f"empty range: from id {low} to id {high}")
    seals = _covering_seals(session, low, high)
    proofs: dict[str, Any] = {}
    destination.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with destination.open("w", encoding="utf-8") as out:
        for seal in seals:
            ids = sealed_ids(seal.first_id, seal.last_id, seal.gaps)
            hashes = [seal.event_hashes[i : i + 32].hex() for i in range(0, len(seal.event_hashes), 32)]
            levels = tree_levels([event_leaf(i, h) for i, h in zip(ids, hashes, strict=True)])
            index_of = {event_id: index for index, event_id in enumerate(ids)}
            events = iter_events(
                session,
                campaign_id=campaign_id,
                from_id=max(low, seal.first_id),
                to_id=min(high, seal.last_id),
            )
            for event in events:
                index = index_of.get(event.id)
                if index is None:
                    raise AuditExportError(f"event {event.id} is in a sealed gap: run `dialer audit verify`")
                out.write(json.dumps(event_as_dict(event), sort_keys=True) + "\n")
                path = [node.hex() for node in inclusion_path(levels, index)]
                proofs[str(event.id)] = {"seal_id": seal.id, "leaf_index": index, "path": path}
                count += 1
    document = {
        "format": PROOF_FORMAT,
        "leaf": "sha256(0x00 || '<id>:<hash>'), RFC 9162",
        "node": "sha256(0x01 || left || right), RFC 9162",
        "content_hash": "sha256 of the canonical JSON (sorted keys, no spaces) of the fields",
        "fields": list(HASHED_FIELDS),
        "from_id": low,
        "to_id": high,
        "campaign_id": campaign_id,
        "complete": campaign_id is None,
        "seals": [seal_fields(seal) for seal in seals],
        "proofs": proofs,
    }
    proof_path.parent.mkdir(parents=True, exist_ok=True)
    proof_path.write_text(json.dumps(document, indent=1, sort_keys=True), encoding="utf-8")
    return count


@dataclass(frozen=True)
class ExportVerifyResult:
    """Outcome of :func:`verify_export`.

    Attributes:
        ok: True when every line, proof and seal checks out (and, for a complete export, no id
            of the range is missing).
        events_checked: lines read.
        first_bad_line: 1-based line of the events file that fails, if one does.
        event_id: the id on that line, or the missing id.
        problem: what is wrong, in words.
        last_seal_hash: the last seal's hash (compare it with a copy kept elsewhere).
    """

    ok: bool
    events_checked: int
    first_bad_line: int | None = None
    event_id: int | None = None
    problem: str | None = None
    last_seal_hash: str | None = None


def _check_seals(seals: list[dict[str, Any]]) -> str | None:
    previous: dict[str, Any] | None = None
    for seal in seals:
        if seal_hash(seal) != seal["seal_hash"]:
            return f"seal {seal['seal_id']}: content does not match its hash"
        if previous is not None and (
            seal["seal_id"] != previous["seal_id"] + 1
            or seal["prev_seal_hash"] != previous["seal_hash"]
            or seal["first_id"] != previous["last_id"] + 1
        ):
            return f"seal {seal['seal_id']}: does not follow seal {previous['seal_id']}"
        previous = seal
    return None


def verify_export(events_path: Path, proof_path: Path) -> ExportVerifyResult:
    """Check an export with proof offline (no database); see the module docstring.

    Raises:
        OSError: a file cannot be read.
        InvalidInputError: the proof is not a ``dialer-audit-proof/1`` document.
    """
    try:
        document = json.loads(proof_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInputError(f"{proof_path}: not a {PROOF_FORMAT} document (not JSON: {exc})") from None
    if not isinstance(document, dict) or document.get("format") != PROOF_FORMAT:
        raise InvalidInputError(f"{proof_path}: not a {PROOF_FORMAT} document")
    seals = document["seals"]
    last_hash = seals[-1]["seal_hash"] if seals else None
    problem = _check_seals(seals)
    if problem:
        return ExportVerifyResult(False, 0, problem=problem, last_seal_hash=last_hash)
    by_id = {seal["seal_id"]: seal for seal in seals}
    seen: list[int] = []
    count = 0

    def bad(line: int | None, event_id: int | None, why: str) -> ExportVerifyResult:
        return ExportVerifyResult(False, count, line, event_id, why, last_hash)

    with events_path.open(encoding="utf-8") as lines:
        for line_no, line in enumerate(lines, start=1):
            count += 1
            try:
                event = json.loads(line)
                event_id = int(event["id"])
                recomputed = content_hash(event)
            except (ValueError, KeyError, TypeError):
                return bad(line_no, None, "not an exported event line")
            if seen and event_id <= seen[-1]:
                return bad(line_no, event_id, "out of id order (reordered)")
            seen.append(event_id)
            if recomputed != event.get("hash"):
                return bad(line_no, event_id, "content does not match its hash (altered)")
            entry = document["proofs"].get(str(event_id))
            seal = by_id.get(entry["seal_id"]) if entry else None
            if entry is None or seal is None:
                return bad(line_no, event_id, "no inclusion proof for this event")
            ids = sealed_ids(seal["first_id"], seal["last_id"], seal["gaps"])
            index = entry["leaf_index"]
            path = [bytes.fromhex(node) for node in entry["path"]]
            root = bytes.fromhex(seal["merkle_root"])
            if not (0 <= index < len(ids) and ids[index] == event_id) or not verify_inclusion(
                event_leaf(event_id, recomputed), index, seal["event_count"], path, root
            ):
                return bad(line_no, event_id, f"not included in seal {seal['seal_id']} as exported")
    if document["complete"]:
        present = set(seen)
        for seal in seals:
            for event_id in sealed_ids(seal["first_id"], seal["last_id"], seal["gaps"]):
                if document["from_id"] <= event_id <= document["to_id"] and event_id not in present:
                    return bad(None, event_id, "sealed in the range but missing from the export")
    return ExportVerifyResult(True, count, last_seal_hash=last_hash)
