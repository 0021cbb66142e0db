"""What the lead importer produces: drafts from parsing (input side) and the import result (output).

Every data row of a file ends in exactly one of: a :class:`LeadDraft` (accepted), a
:class:`RejectedRow` or a :class:`FoldedRow`; :class:`RowWarning` entries qualify accepted rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from dialer.leads.columns import ColumnMapping
from dialer.models import ConsentMethod, ConsentType
from dialer.registry import ScrubCounts


@dataclass(frozen=True)
class ConsentDraft:
    """A consent record to create with its lead.

    Attributes:
        consent_type: ``pewc``, ``oral`` or ``ebr`` (a ``none`` row creates no draft).
        method: ``csv_columns`` (from the row) or ``attestation``.
        phone_e164: the number the consent covers (the lead's number).
        seller_name: the seller the consent names, if the row names one.
        covers_artificial_voice: the consent authorizes artificial/AI-voice calls.
        signed_at: when consent was given (UTC), if known.
        revoked_at: when it was revoked (UTC), if it was.
        evidence: URL, reference or attestation text.
        attested_by: who attested it (``attestation`` only).
        other_sellers: further sellers the same agreement names (``consent_sellers``, ``;``-separated).
        evidence_text: the consent language shown to the person (``consent_text``).
        evidence_url: the page it was captured on (``consent_url``).
        evidence_ip: the person's IP address at capture (``consent_ip``), in compressed form.
        evidence_form_sha256: lowercase hex sha256 of the signed form (``consent_form_sha256``).
    """

    consent_type: ConsentType
    method: ConsentMethod
    phone_e164: str
    seller_name: str | None
    covers_artificial_voice: bool
    signed_at: datetime | None = None
    revoked_at: datetime | None = None
    evidence: str = ""
    attested_by: str | None = None
    other_sellers: tuple[str, ...] = ()
    evidence_text: str | None = None
    evidence_url: str | None = None
    evidence_ip: str | None = None
    evidence_form_sha256: str | None = None


@dataclass(frozen=True)
class LeadDraft:
    """An accepted row, ready to become a Lead.

    Attributes:
        row: physical line (1-based) where the row starts.
        phone_e164: the number to dial.
        phone_extension: the extension written with it (kept, never dialed).
        phone_raw: the phone cell as written (trimmed).
        phone_column: the header of the column the number came from.
        region: ISO region of the number.
        fields: unmapped columns (normalised header -> value) plus ``alt_phones``,
            ``alt_phone_extensions``, ``alt_emails`` and ``import_warnings`` when there are any.
        consents: consent records to create for the lead.
    """

    row: int
    phone_e164: str
    phone_extension: str | None
    phone_raw: str
    phone_column: str
    region: str | None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    company: str | None = None
    title: str | None = None
    state: str | None = None
    zip: str | None = None
    fields: dict[str, Any] = field(default_factory=dict, hash=False)
    consents: tuple[ConsentDraft, ...] = ()


@dataclass(frozen=True)
class RejectedRow:
    """A row not imported, and why.

    Attributes:
        row: physical line (1-based) where the row starts.
        column: the header of the offending column (None when the row as a whole is wrong).
        value: the offending value as written.
        reason: what is wrong, in words.
    """

    row: int
    column: str | None
    value: str
    reason: str


@dataclass(frozen=True)
class FoldedRow:
    """A row whose number is already imported: it adds nothing (no lead, consent or field).

    Attributes:
        row: physical line of the folded row.
        duplicate_of_row: the earlier row in the same file carrying the number, or None when the
            number was already in the campaign before this import.
        phone_e164: the shared number.
        reason: ``same number as row N`` or ``already in campaign as lead <id>``.
    """

    row: int
    duplicate_of_row: int | None
    phone_e164: str
    reason: str


@dataclass(frozen=True)
class RowWarning:
    """Something an accepted row had that could not be used as written (the row is still imported).

    Attributes:
        row: physical line where the row starts.
        column: the header concerned.
        value: the value as written.
        reason: what was done about it.
    """

    row: int
    column: str | None
    value: str
    reason: str


@dataclass(frozen=True)
class ParsedFile:
    """A lead file parsed, before anything touches the database.

    Attributes:
        path: the file as named by the caller (for messages).
        sha256: hex digest of the file's bytes.
        delimiter: the cell delimiter used.
        header_row: physical line of the header.
        mapping: how the columns were mapped.
        leads: accepted rows, in file order.
        rejected: rejected rows, in file order.
        folded: rows folded into an earlier row with the same number.
        warnings: warnings on accepted rows.
        data_rows: rows with at least one non-empty cell (accepted + rejected + folded).
        blank_rows: lines of rows whose every cell is empty (skipped: they carry nothing).
    """

    path: str
    sha256: str
    delimiter: str
    header_row: int
    mapping: ColumnMapping
    leads: tuple[LeadDraft, ...]
    rejected: tuple[RejectedRow, ...]
    folded: tuple[FoldedRow, ...]
    warnings: tuple[RowWarning, ...]
    data_rows: int
    blank_rows: tuple[int, ...] = ()


@dataclass(frozen=True)
class ImportResult:
    """What an import did.

    Attributes:
        campaign_id: the campaign the leads went into.
        accepted: rows imported as new leads (== ``leads_created``).
        rejected: rows not imported, with reasons.
        folded: rows whose number was already in the file or the campaign.
        warnings: warnings on imported rows.
        mapping: ``{header: target}`` (a canonical field, ``fields.<key>`` or ``ignore``).
        rejected_report_path: the ``<stem>.rejected.csv`` written next to the input, if any.
        leads_created: Lead rows inserted.
        consents_created: ConsentRecord rows inserted.
        data_rows: data rows in the file (accepted + rejected + folded).
        blank_rows: lines skipped because every cell was empty.
        file_sha256: hex digest of the file's bytes (also in the audit event).
        report_error: why the rejected-rows report could not be written, if it could not.
        notes: mapping decisions worth telling the user.
        registry_scrub: how many new leads are on the national and state DNC lists (the import-time
            batch scrub); None when no registry was given.
        rejected_count: rows rejected (``rejected`` keeps at most the first 10,000; the report has all).
        folded_count: rows folded (``folded`` keeps at most the first 10,000).
        warnings_count: warnings on imported rows (``warnings`` keeps at most the first 10,000).
    """

    campaign_id: int
    accepted: int
    rejected: list[RejectedRow]
    folded: list[FoldedRow]
    warnings: list[RowWarning]
    mapping: dict[str, str]
    rejected_report_path: Path | None
    leads_created: int
    consents_created: int
    data_rows: int = 0
    blank_rows: tuple[int, ...] = ()
    file_sha256: str = ""
    report_error: str | None = None
    notes: tuple[str, ...] = ()
    registry_scrub: ScrubCounts | None = None
    rejected_count: int = 0
    folded_count: int = 0
    warnings_count: int = 0
