"""Importing a lead file into a campaign: stream, parse on every core, fold, scrub, bulk-write, audit.

Everything is written in the caller's transaction and nothing is committed here: all accepted
rows commit together or none do (DESIGN rule 7). The file is read as a stream in chunks of
:data:`CHUNK_ROWS` records; the chunks are parsed and normalised by a pool of worker processes
(one per core, for files over :data:`POOL_MIN_BYTES`) and consumed in file order, so row numbers
and "first row wins" folding are the same as reading it whole. Each chunk is folded (against the
rows before it and, in one indexed query, against the campaign's leads), scrubbed against the DNC
registry in one batch, and written: ``COPY`` on PostgreSQL, ``executemany`` elsewhere. Memory
stays bounded by the chunks in flight plus one ``{number: first row}`` entry per lead. A file
that cannot be imported raises :class:`~dialer.errors.ImportFileError`; rows already written in
the transaction are then rolled back by the caller, so nothing is written. The campaign row is
locked (``FOR UPDATE`` on PostgreSQL; SQLite's write lock does the same) so two imports into one
campaign fold against each other instead of colliding on the (campaign, number) unique key.

Audit: ONE ``leads.imported`` event per file (file name, sha256 of the bytes, counts: rows read,
imported, duplicates, rejected, DNC-listed, consent records; mapping, attestation) with actor
``user:<attested_by>``. Each consent record carries its own source row (``source`` is
``import:<file name> row <n>``, attestation records too), so the event and the records together
say where every consent came from (per-record events made a million-row import take hours).

Choices where the brief is silent:

- A number already in the campaign folds the row (``already in campaign as lead <id>``); the
  existing lead is left untouched (no field or consent is merged into it). The same number in
  another campaign is a separate lead.
- Warnings are reported only for rows that become leads (a folded row adds nothing, warnings
  included).
- A PEWC consent column naming a seller other than the campaign's (compared with
  :func:`compliance.consent.same_seller`, as the gate does), or no seller, is imported with a
  warning: the gate will not count it for this campaign. A seller named in ``consent_sellers``
  (the same agreement naming further sellers) counts like ``consent_seller``.
- ``attested_by`` is required (1-200 characters) even without an attestation: it is the audit
  actor. An attestation that is given but blank, or longer than 2000 characters, refuses the
  import before anything is read or written.
- The rejected-rows report is built in an anonymous temporary file and put in place only when
  the caller's transaction commits (dropped on rollback; a killed run leaves nothing); a failure
  to write it is recorded in the result (and the audit event when known in time), never raised.
  An older report is replaced; when there are no rejections no report is written and an older
  one is left alone.
- The result lists at most :data:`RESULT_ROWS` rejected rows, folded rows and warnings each (the
  report has every rejected row); the ``*_count`` fields have the totals.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialer.audit import record_event
from dialer.db import lock_for_update
from dialer.errors import ImportFileError, NotFoundError
from dialer.leads._chunks import ChunkSpec
from dialer.leads._chunks import attestation_consent as attestation_consent
from dialer.leads._pool import cores, parsed_chunks
from dialer.leads._stream import LeadStream, open_lead_file
from dialer.leads._tally import RESULT_ROWS as RESULT_ROWS
from dialer.leads._tally import Tally
from dialer.leads._writers import BulkWriter, writer_for
from dialer.leads.columns import ColumnMapping, detect_columns
from dialer.leads.parser import check_region, parse_leads
from dialer.leads.report import PendingReport, rejected_report_path
from dialer.leads.schemas import ImportResult, ParsedFile
from dialer.models import Campaign
from dialer.registry import RegistryStore

ATTESTATION_LIMIT = 2000
"""Most characters an attestation may have (after stripping)."""
ATTESTED_BY_LIMIT = 200
"""Most characters ``attested_by`` may have (after stripping)."""
CHUNK_ROWS = 5000
"""Records per chunk handed to a worker."""
POOL_MIN_BYTES = 4 << 20
"""Files smaller than this are parsed in the importing process (a pool costs more than it saves)."""


@dataclass(frozen=True)
class ImportProgress:
    """How far an import is, for a progress bar.

    Attributes:
        rows: data rows processed so far.
        bytes_read: bytes of the file read so far.
        bytes_total: the file's size in bytes.
        imported: new leads written so far.
    """

    rows: int
    bytes_read: int
    bytes_total: int
    imported: int


def _check_attestation(attestation: str | None, attested_by: str, path: str) -> str | None:
    """Check who attests and what, before anything is read; return the stripped attestation (or None).

    Raises:
        ImportFileError: ``attested_by`` is blank or over :data:`ATTESTED_BY_LIMIT` characters, or
            the attestation is given but blank or over :data:`ATTESTATION_LIMIT` characters.
    """
    if not attested_by.strip() or len(attested_by.strip()) > ATTESTED_BY_LIMIT:
        raise ImportFileError(
            f"attested_by must name the person importing (1 to {ATTESTED_BY_LIMIT} characters)", path=path
        )
    if attestation is None:
        return None
    text = attestation.strip()
    if not text:
        raise ImportFileError("the attestation is empty; say where and how consent was captured", path=path)
    if len(text) > ATTESTATION_LIMIT:
        raise ImportFileError(
            f"the attestation is {len(text)} characters; the limit is {ATTESTATION_LIMIT}", path=path
        )
    return text


def read_file(path: Path) -> bytes:
    """The bytes of the file at ``path``; :class:`ImportFileError` when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"cannot read the file: {exc.strerror or exc}", path=str(path)) from None


def parse_lead_file(
    path: Path,
    *,
    mappings: Mapping[str, str] | None = None,
    default_region: str = "US",
    allow_vanity: bool = False,
) -> ParsedFile:
    """Read and parse a lead file without touching the database (for a dry run or a preview).

    Raises:
        ImportFileError: the file cannot be read or imported.
    """
    path = Path(path)
    return parse_leads(
        read_file(path),
        path=str(path),
        mappings=mappings,
        default_region=default_region,
        allow_vanity=allow_vanity,
    )


def import_leads(
    session: Session,
    *,
    campaign_name: str,
    path: Path,
    mappings: Mapping[str, str] | None = None,
    attestation: str | None = None,
    attested_by: str,
    default_region: str = "US",
    now: datetime,
    registry: RegistryStore | None = None,
    allow_vanity: bool = False,
    workers: int | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: Callable[[ImportProgress], None] | None = None,
) -> ImportResult:
    """Import the lead file at ``path`` into the campaign called ``campaign_name``.

    Args:
        session: an open session; the caller commits (all accepted rows together) or rolls back.
        campaign_name: the target campaign.
        path: the CSV file.
        mappings: ``--map`` overrides, ``{header as written: canonical field or "ignore"}``.
        attestation: a statement that consent was captured elsewhere (at most 2000 characters);
            every accepted lead then also gets a PEWC consent record with this text as evidence.
        attested_by: who runs the import (OS user); the audit actor and the attesting person.
        default_region: region assumed for numbers written without a country code.
        now: the product's clock (aware), for the audit event.
        registry: the DNC registry files; when given, the new leads are scrubbed against the
            national and state lists (one batch per chunk) and the counts
            (:class:`dialer.registry.store.ScrubCounts`) are stored as ``registry_scrub`` in the
            ``leads.imported`` event. Listed leads are still imported: PEWC can exempt them, and
            the gate decides at dial time.
        allow_vanity: accept numbers written with letters (``+1 312 555 ABCD``) as their keypad
            digits, with a warning per row; by default such a cell is rejected, naming the letters.
        workers: parser processes; None: one per core for a file over :data:`POOL_MIN_BYTES`,
            else none (1 = parse in this process).
        chunk_rows: records per chunk.
        progress: called after each chunk is written.

    Returns:
        What was imported, rejected, folded and warned about.

    Raises:
        ImportFileError: the file cannot be imported at all (nothing written once rolled back).
        NotFoundError: no campaign has that name (nothing written).
        ValueError: ``now`` is naive.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    path = Path(path)
    name = str(path)
    text = _check_attestation(attestation, attested_by, name)
    attested_by = attested_by.strip()
    region = check_region(default_region, path=name)
    with open_lead_file(path) as raw:
        size = os.fstat(raw.fileno()).st_size
        stream = LeadStream(raw, path=name)
        mapping = detect_columns(stream.headers, mappings=mappings, path=name, header_row=stream.header_row)
        campaign = _locked_campaign(session, campaign_name)
        writer = writer_for(session, campaign.id)
        spec = ChunkSpec(
            path=name,
            mapping=mapping,
            default_region=region,
            delimiter=stream.delimiter,
            allow_vanity=allow_vanity,
            output=writer.output,  # type: ignore[arg-type]
            campaign_id=campaign.id,
            seller_name=campaign.seller_name,
            attestation=text,
            attested_by=attested_by,
            source_file=path.name,
            written_at=datetime.now(UTC),
        )
        if workers is None:
            workers = cores() if size >= POOL_MIN_BYTES else 1
        report = PendingReport(rejected_report_path(path))
        tally = _write_chunks(
            spec,
            stream,
            size=size,
            writer=writer,
            registry=registry,
            report=report,
            workers=workers,
            chunk_rows=chunk_rows,
            progress=progress,
        )
    report.bind(session)
    summary = _Summary(
        file_name=path.name, sha256=stream.sha256(), mapping=mapping, tally=tally, report=report
    )
    _record_import(
        session,
        summary,
        now=now,
        attested_by=attested_by,
        campaign_id=campaign.id,
        region=region,
        allow_vanity=allow_vanity,
        attestation=text,
    )
    return _result(summary, campaign_id=campaign.id)


def _locked_campaign(session: Session, campaign_name: str) -> Campaign:
    """The campaign called ``campaign_name``, its row locked until the transaction ends.

    Raises:
        NotFoundError: no campaign has that name.
    """
    campaign = session.execute(
        lock_for_update(select(Campaign).where(Campaign.name == campaign_name), session)
    ).scalar_one_or_none()
    if campaign is None:
        raise NotFoundError(
            f"campaign {campaign_name!r} does not exist; create it first with `dialer campaigns create`"
        )
    return campaign


def _write_chunks(
    spec: ChunkSpec,
    stream: LeadStream,
    *,
    size: int,
    writer: BulkWriter,
    registry: RegistryStore | None,
    report: PendingReport,
    workers: int,
    chunk_rows: int,
    progress: Callable[[ImportProgress], None] | None,
) -> Tally:
    """Parse the stream's records chunk by chunk and fold, write and scrub each (the write phase).

    ``size`` is the file's size in bytes (for ``progress``, called after each chunk). On any
    failure the pending rejected-rows report is discarded before the error propagates.

    Returns:
        What the chunks added up to.

    Raises:
        ImportFileError: a record cannot be read, or the file has no data rows.
    """
    tally = Tally()
    try:
        for out in parsed_chunks(spec, stream.records(), workers=workers, chunk_rows=chunk_rows):
            tally.absorb(out, writer=writer, registry=registry, report=report)
            if progress is not None:
                progress(ImportProgress(tally.data_rows, stream.bytes_read, size, tally.imported))
        if tally.data_rows == 0:
            raise ImportFileError("no data rows (the file has a header but no rows under it)", path=spec.path)
    except BaseException:
        report.discard()
        raise
    return tally


@dataclass(frozen=True)
class _Summary:
    """What an import did, for its audit event and its result."""

    file_name: str
    sha256: str
    mapping: ColumnMapping
    tally: Tally
    report: PendingReport


def _record_import(
    session: Session,
    summary: _Summary,
    *,
    now: datetime,
    attested_by: str,
    campaign_id: int,
    region: str,
    allow_vanity: bool,
    attestation: str | None,
) -> None:
    """Record the file's one ``leads.imported`` audit event (actor ``user:<attested_by>``) in ``session``."""
    tally, report, mapping, scrub = summary.tally, summary.report, summary.mapping, summary.tally.scrub
    record_event(
        session,
        kind="leads.imported",
        occurred_at=now,
        actor=f"user:{attested_by}",
        campaign_id=campaign_id,
        payload={
            "file": summary.file_name,
            "sha256": summary.sha256,
            "rows_read": tally.data_rows,
            "data_rows": tally.data_rows,
            "imported": tally.imported,
            "accepted": tally.imported,
            "duplicates": tally.folded_count,
            "rejected": report.count,
            "folded": tally.folded_count,
            "folded_existing": tally.folded_existing,
            "dnc_listed": scrub.listed if scrub is not None else None,
            "consent_records": tally.consents,
            "consents": tally.consents,
            "warnings": tally.warnings_count,
            "blank_rows": len(tally.blank_rows),
            "mapping": mapping.as_dict(),
            "mapping_notes": list(mapping.notes),
            "default_region": region,
            "allow_vanity": allow_vanity,
            "attestation": attestation,
            "rejected_report": str(report.path) if report.path else None,
            "report_error": report.error,
            "registry_scrub": scrub.as_dict() if scrub is not None else None,
        },
    )


def _result(summary: _Summary, *, campaign_id: int) -> ImportResult:
    """The :class:`ImportResult` an import returns, from its summary."""
    tally, report, mapping = summary.tally, summary.report, summary.mapping
    return ImportResult(
        campaign_id=campaign_id,
        accepted=tally.imported,
        rejected=tally.rejected,
        folded=tally.folded,
        warnings=tally.warnings,
        mapping=mapping.as_dict(),
        rejected_report_path=report.path,
        leads_created=tally.imported,
        consents_created=tally.consents,
        data_rows=tally.data_rows,
        blank_rows=tuple(tally.blank_rows),
        file_sha256=summary.sha256,
        report_error=report.error,
        notes=mapping.notes,
        registry_scrub=tally.scrub,
        rejected_count=report.count,
        folded_count=tally.folded_count,
        warnings_count=tally.warnings_count,
    )
