"""One chunk of records -> accepted rows ready to write, rejections and blank rows (pure; runs in workers).

A chunk is parsed in a worker process (:func:`process_chunk`, fed by :func:`init_worker` with the
:class:`ChunkSpec` once per worker) or in the importing process itself. Rows keep their physical
line numbers and chunks are consumed in order, so the result is the same however it is split.
What comes back is already in the form the writer needs: COPY text lines for PostgreSQL (the
costly formatting happens on both cores), column dicts for other databases, or drafts for a
dry run. Duplicates are not folded here: the importing process sees every chunk.
"""

from __future__ import annotations

import dataclasses
import gc
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from compliance.consent import same_seller as _same_seller
from dialer.leads._rows import parse_row
from dialer.leads.columns import ColumnMapping
from dialer.leads.schemas import ConsentDraft, LeadDraft, RejectedRow, RowWarning
from dialer.models import ConsentMethod, ConsentType, LeadStatus

Output = Literal["drafts", "copy", "rows"]

LEAD_COPY_COLUMNS: tuple[str, ...] = (
    "id",
    "campaign_id",
    "phone_e164",
    "phone_extension",
    "phone_raw",
    "first_name",
    "last_name",
    "email",
    "company",
    "title",
    "state",
    "zip",
    "fields",
    "status",
    "attempt_count",
    "source_file",
    "source_row",
    "created_at",
    "updated_at",
)
"""Columns of ``leads`` written by COPY, in order (``id`` is prefixed by the importing process)."""

CONSENT_COPY_COLUMNS: tuple[str, ...] = (
    "lead_id",
    "phone_e164",
    "seller_name",
    "other_sellers",
    "consent_type",
    "covers_artificial_voice",
    "signed_at",
    "revoked_at",
    "method",
    "evidence",
    "source",
    "evidence_text",
    "evidence_url",
    "evidence_ip",
    "evidence_form_sha256",
    "attested_by",
    "created_at",
)
"""Columns of ``consent_records`` written by COPY (``lead_id`` is prefixed by the importing process)."""


@dataclass(frozen=True)
class ChunkSpec:
    """What every chunk of one import is parsed with.

    Attributes:
        path: the file as named in messages.
        mapping: the file's column mapping.
        default_region: region assumed for numbers without a country code.
        delimiter: the file's delimiter.
        allow_vanity: accept numbers written with letters as their keypad digits (with a warning).
        output: ``drafts`` (LeadDraft), ``copy`` (COPY text) or ``rows`` (column dicts).
        campaign_id: the campaign the leads go into (``copy``/``rows``).
        seller_name: the campaign's seller; PEWC consents naming another seller get a warning.
        attestation: the attestation text: each lead also gets a PEWC consent with it as evidence.
        attested_by: who runs the import (the attesting person).
        source_file: the file name stored on leads and consent sources.
        written_at: ``created_at`` / ``updated_at`` of the rows (UTC).
    """

    path: str
    mapping: ColumnMapping
    default_region: str
    delimiter: str
    allow_vanity: bool = False
    output: Output = "drafts"
    campaign_id: int = 0
    seller_name: str | None = None
    attestation: str | None = None
    attested_by: str = ""
    source_file: str = ""
    written_at: datetime | None = None


@dataclass
class Accepted:
    """An accepted row. ``lead`` is a LeadDraft, a COPY line without its id, or a column dict."""

    row: int
    phone_e164: str
    warnings: list[RowWarning]
    lead: Any
    consents: list[Any]


@dataclass
class ChunkOut:
    """The outcome of one chunk, rows in file order."""

    accepted: list[Accepted] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    blank_rows: list[int] = field(default_factory=list)


def attestation_consent(draft: LeadDraft, *, text: str, seller_name: str, attested_by: str) -> ConsentDraft:
    """The PEWC consent an attestation stands for, for one lead (pure).

    The attestation says consent was captured elsewhere for the campaign's seller, covering
    AI-voice calls to the lead's number; its text is the evidence. ``signed_at`` is unknown.
    """
    return ConsentDraft(
        consent_type=ConsentType.PEWC,
        method=ConsentMethod.ATTESTATION,
        phone_e164=draft.phone_e164,
        seller_name=seller_name,
        covers_artificial_voice=True,
        signed_at=None,
        evidence=text,
        attested_by=attested_by,
    )


@lru_cache(maxsize=4096)
def same_seller(a: str, b: str) -> bool:
    """:func:`compliance.consent.same_seller`, memoised (a file names a few sellers many times)."""
    return _same_seller(a, b)


def _seller_warnings(draft: LeadDraft, header: str | None, seller_name: str) -> list[RowWarning]:
    """PEWC consents naming another seller (or none): the gate will not count them (CP-2)."""
    return [
        RowWarning(
            draft.row,
            header,
            c.seller_name or "",
            f"the consent names {', '.join(repr(n) for n in (c.seller_name, *c.other_sellers) if n)}, "
            f"not the campaign's seller {seller_name!r}: the gate will not count it as consent for "
            "this campaign"
            if c.seller_name or c.other_sellers
            else "the consent names no seller: the gate will not count it as consent for this campaign",
        )
        for c in draft.consents
        if c.consent_type is ConsentType.PEWC
        and not (c.seller_name == seller_name and same_seller(seller_name, seller_name))  # most rows
        and not any(same_seller(s, seller_name) for s in (c.seller_name, *c.other_sellers) if s)
    ]


def _as_json(warning: RowWarning) -> dict[str, str | None]:
    return {"column": warning.column, "value": warning.value, "reason": warning.reason}


def finish_draft(spec: ChunkSpec, draft: LeadDraft, warnings: list[RowWarning]) -> LeadDraft:
    """Add the campaign's seller warnings and the attestation consent to an accepted row."""
    if spec.seller_name is not None:
        column = spec.mapping.column_for("consent_seller")
        found = _seller_warnings(draft, column.header if column is not None else None, spec.seller_name)
        if found:
            stored = [*draft.fields.get("import_warnings", []), *(_as_json(w) for w in found)]
            draft = dataclasses.replace(draft, fields={**draft.fields, "import_warnings": stored})
            warnings.extend(found)
    if spec.attestation is not None and spec.seller_name is not None:
        consent = attestation_consent(
            draft, text=spec.attestation, seller_name=spec.seller_name, attested_by=spec.attested_by
        )
        draft = dataclasses.replace(draft, consents=(*draft.consents, consent))
    return draft


def _text(value: str | None) -> str:
    if value is None:
        return "\\N"
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


@lru_cache(maxsize=4096)
def _instant(value: datetime | None) -> str:
    return "\\N" if value is None else value.isoformat()


def _json(value: Any) -> str:
    return _text(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def _source(spec: ChunkSpec, row: int) -> str:
    return f"import:{spec.source_file} row {row}"[:300]


def _copy_lines(spec: ChunkSpec, d: LeadDraft) -> tuple[str, list[str]]:
    written = _instant(spec.written_at)
    lead = "\t".join(
        (
            str(spec.campaign_id),
            d.phone_e164,
            _text(d.phone_extension),
            _text(d.phone_raw),
            _text(d.first_name),
            _text(d.last_name),
            _text(d.email),
            _text(d.company),
            _text(d.title),
            _text(d.state),
            _text(d.zip),
            _json(d.fields),
            LeadStatus.PENDING.value,
            "0",
            _text(spec.source_file[:500]),
            str(d.row),
            written,
            written,
        )
    )
    consents = [
        "\t".join(
            (
                c.phone_e164,
                _text(c.seller_name),
                _json(list(c.other_sellers)) if c.other_sellers else "[]",
                c.consent_type.value,
                "t" if c.covers_artificial_voice else "f",
                _instant(c.signed_at),
                _instant(c.revoked_at),
                c.method.value,
                _text(c.evidence),
                _text(_source(spec, d.row)),
                _text(c.evidence_text),
                _text(c.evidence_url),
                _text(c.evidence_ip),
                _text(c.evidence_form_sha256),
                _text(c.attested_by),
                written,
            )
        )
        for c in d.consents
    ]
    return lead + "\n", [line + "\n" for line in consents]


def _column_rows(spec: ChunkSpec, d: LeadDraft) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    lead = {
        "campaign_id": spec.campaign_id,
        "phone_e164": d.phone_e164,
        "phone_extension": d.phone_extension,
        "phone_raw": d.phone_raw,
        "first_name": d.first_name,
        "last_name": d.last_name,
        "email": d.email,
        "company": d.company,
        "title": d.title,
        "state": d.state,
        "zip": d.zip,
        "fields": dict(d.fields),
        "status": LeadStatus.PENDING,
        "attempt_count": 0,
        "source_file": spec.source_file[:500],
        "source_row": d.row,
        "created_at": spec.written_at,
        "updated_at": spec.written_at,
    }
    consents = [
        {
            "phone_e164": c.phone_e164,
            "seller_name": c.seller_name,
            "other_sellers": list(c.other_sellers),
            "consent_type": c.consent_type,
            "covers_artificial_voice": c.covers_artificial_voice,
            "signed_at": c.signed_at,
            "revoked_at": c.revoked_at,
            "method": c.method,
            "evidence": c.evidence,
            "source": _source(spec, d.row),
            "evidence_text": c.evidence_text,
            "evidence_url": c.evidence_url,
            "evidence_ip": c.evidence_ip,
            "evidence_form_sha256": c.evidence_form_sha256,
            "attested_by": c.attested_by,
            "created_at": spec.written_at,
        }
        for c in d.consents
    ]
    return lead, consents


def process_chunk(spec: ChunkSpec, records: Sequence[tuple[int, int, list[str]]]) -> ChunkOut:
    """Parse ``records`` (``(first line, last line, cells)``) into a :class:`ChunkOut`.

    A row problem is a rejection, never an exception.
    """
    out = ChunkOut()
    for start, end, cells in records:
        if not any(c.strip() for c in cells):
            out.blank_rows.append(start)
            continue
        outcome, warnings = parse_row(
            cells,
            row=start,
            last_line=end,
            mapping=spec.mapping,
            default_region=spec.default_region,
            delimiter=spec.delimiter,
            allow_vanity=spec.allow_vanity,
        )
        if isinstance(outcome, RejectedRow):
            out.rejected.append(outcome)
            continue
        draft = finish_draft(spec, outcome, warnings)
        if spec.output == "copy":
            lead, consents = _copy_lines(spec, draft)
            out.accepted.append(Accepted(start, draft.phone_e164, warnings, lead, consents))
        elif spec.output == "rows":
            lead_row, consent_rows = _column_rows(spec, draft)
            out.accepted.append(Accepted(start, draft.phone_e164, warnings, lead_row, consent_rows))
        else:
            out.accepted.append(Accepted(start, draft.phone_e164, warnings, draft, list(draft.consents)))
    return out


_worker_spec: ChunkSpec | None = None


def init_worker(spec: ChunkSpec) -> None:
    """Process-pool initializer: remember the import's spec (sent once per worker, not per chunk).

    The objects a forked worker inherits are frozen out of the garbage collector: otherwise
    every collection walks the parent's whole heap, copying its pages (measured: 4x slower).
    """
    global _worker_spec
    gc.freeze()
    _worker_spec = spec


def worker_chunk(records: Sequence[tuple[int, int, list[str]]]) -> ChunkOut:
    """:func:`process_chunk` with the spec given to :func:`init_worker` (runs in a worker process)."""
    assert _worker_spec is not None, "init_worker was not run"
    return process_chunk(_worker_spec, records)
