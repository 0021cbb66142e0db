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

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialer.audit import record_event
from dialer.db import lock_for_update
from dialer.errors import ImportFileError, NotFoundError
from dialer.leads._chunks import ChunkOut, ChunkSpec, init_worker, process_chunk, worker_chunk
from dialer.leads._chunks import attestation_consent as attestation_consent
from dialer.leads._stream import LeadStream, open_lead_file
from dialer.leads._writers import BulkWriter, writer_for
from dialer.leads.columns import detect_columns
from dialer.leads.parser import check_region, parse_leads
from dialer.leads.report import PendingReport, rejected_report_path
from dialer.leads.schemas import FoldedRow, ImportResult, ParsedFile, RejectedRow, RowWarning
from dialer.models import Campaign
from dialer.registry import RegistryStore, ScrubCounts

ATTESTATION_LIMIT = 2000
ATTESTED_BY_LIMIT = 200
CHUNK_ROWS = 5000
"""Records per chunk handed to a worker."""
POOL_MIN_BYTES = 4 << 20
"""Files smaller than this are parsed in the importing process (a pool costs more than it saves)."""
_T = TypeVar("_T")
RESULT_ROWS = 10_000
"""At most this many rejected rows, folded rows and warnings are kept in the result."""


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
        campaign = session.execute(
            lock_for_update(select(Campaign).where(Campaign.name == campaign_name), session)
        ).scalar_one_or_none()
        if campaign is None:
            raise NotFoundError(
                f"campaign {campaign_name!r} does not exist; create it first with `dialer campaigns create`"
            )
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
            workers = _cores() if size >= POOL_MIN_BYTES else 1
        report = PendingReport(rejected_report_path(path))
        tally = _Tally()
        try:
            for out in _parsed(spec, stream.records(), workers=workers, chunk_rows=chunk_rows):
                tally.absorb(out, writer=writer, registry=registry, report=report)
                if progress is not None:
                    progress(ImportProgress(tally.data_rows, stream.bytes_read, size, tally.imported))
            if tally.data_rows == 0:
                raise ImportFileError("no data rows (the file has a header but no rows under it)", path=name)
        except BaseException:
            report.discard()
            raise
    report.bind(session)
    scrub = tally.scrub
    record_event(
        session,
        kind="leads.imported",
        occurred_at=now,
        actor=f"user:{attested_by}",
        campaign_id=campaign.id,
        payload={
            "file": path.name,
            "sha256": stream.sha256(),
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
            "attestation": text,
            "rejected_report": str(report.path) if report.path else None,
            "report_error": report.error,
            "registry_scrub": scrub.as_dict() if scrub is not None else None,
        },
    )
    return ImportResult(
        campaign_id=campaign.id,
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
        file_sha256=stream.sha256(),
        report_error=report.error,
        notes=mapping.notes,
        registry_scrub=scrub,
        rejected_count=report.count,
        folded_count=tally.folded_count,
        warnings_count=tally.warnings_count,
    )


@dataclass
class _Tally:
    """What the chunks added up to so far (the importing process's state)."""

    data_rows: int = 0
    imported: int = 0
    consents: int = 0
    folded_count: int = 0
    folded_existing: int = 0
    warnings_count: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    folded: list[FoldedRow] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)
    blank_rows: list[int] = field(default_factory=list)
    first_row_of: dict[str, int] = field(default_factory=dict)
    scrub: ScrubCounts | None = None

    def absorb(
        self, out: ChunkOut, *, writer: BulkWriter, registry: RegistryStore | None, report: PendingReport
    ) -> None:
        """Fold, scrub and write one chunk."""
        fresh = []
        folded: list[FoldedRow] = []
        for accepted in out.accepted:
            first = self.first_row_of.get(accepted.phone_e164)
            if first is not None:
                folded.append(
                    FoldedRow(accepted.row, first, accepted.phone_e164, f"same number as row {first}")
                )
                continue
            self.first_row_of[accepted.phone_e164] = accepted.row
            fresh.append(accepted)
        existing = writer.already_in_campaign([a.phone_e164 for a in fresh])
        new = []
        for accepted in fresh:
            lead_id = existing.get(accepted.phone_e164)
            if lead_id is None:
                new.append(accepted)
            else:
                folded.append(
                    FoldedRow(
                        accepted.row, None, accepted.phone_e164, f"already in campaign as lead {lead_id}"
                    )
                )
                self.folded_existing += 1
        folded.sort(key=lambda f: f.row)
        self.consents += writer.write(new)
        self.imported += len(new)
        if registry is not None:
            self.scrub = _add_scrub(self.scrub, registry.scrub_counts([a.phone_e164 for a in new]))
        report.add(out.rejected)
        self.data_rows += len(out.accepted) + len(out.rejected)
        self.folded_count += len(folded)
        _keep(self.folded, folded)
        _keep(self.rejected, out.rejected)
        for accepted in new:
            self.warnings_count += len(accepted.warnings)
            _keep(self.warnings, accepted.warnings)
        self.blank_rows.extend(out.blank_rows)


def _keep(kept: list[_T], more: Iterable[_T]) -> None:
    room = RESULT_ROWS - len(kept)
    if room > 0:
        kept.extend(islice(more, room))


def _add_scrub(total: ScrubCounts | None, more: ScrubCounts) -> ScrubCounts:
    if total is None:
        return more
    states = dict(total.states)
    for code, n in more.states.items():
        states[code] = states.get(code, 0) + n
    return ScrubCounts(
        checked=total.checked + more.checked,
        national_present=total.national_present and more.national_present,
        national=total.national + more.national,
        states=states,
        national_downloaded_at=more.national_downloaded_at,
        listed=total.listed + more.listed,
    )


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _batched(
    records: Iterator[tuple[int, int, list[str]]], size: int
) -> Iterator[list[tuple[int, int, list[str]]]]:
    while batch := list(islice(records, size)):
        yield batch


def _parsed(
    spec: ChunkSpec, records: Iterator[tuple[int, int, list[str]]], *, workers: int, chunk_rows: int
) -> Iterator[ChunkOut]:
    """The chunks' outcomes in file order; with ``workers > 1`` parsed by a process pool.

    At most ``2 * workers`` chunks are in flight, so memory does not grow with the file.
    """
    chunks = _batched(records, max(1, chunk_rows))
    if workers <= 1:
        for chunk in chunks:
            yield process_chunk(spec, chunk)
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=init_worker, initargs=(spec,)) as pool:
        pending: deque[Future[ChunkOut]] = deque()
        try:
            for chunk in chunks:
                pending.append(pool.submit(worker_chunk, chunk))
                if len(pending) >= 2 * workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
