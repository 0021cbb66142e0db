"""Lead import: CSV exports from CRMs -> Lead and ConsentRecord rows, losing nothing.

The importer is forgiving about formats (header aliases, phone formats, BOMs, ``;``/tab
delimiters, state names, ZIPs that lost their leading zero) and strict about losing nothing:

- a file that cannot be imported at all raises :class:`~dialer.errors.ImportFileError` naming the
  file, the line and the column, and nothing is written;
- otherwise every data row is accepted, rejected (one reason, written to ``<stem>.rejected.csv``
  next to the file) or folded into an earlier row or existing lead with the same number, and
  ``accepted + rejected + folded == data rows``;
- a value that could not be used on an accepted row is a warning, also kept on the lead
  (``fields["import_warnings"]``).

Modules: :mod:`~dialer.leads.columns` (header detection, ``--map``), :mod:`~dialer.leads.parser`
(pure parsing), :mod:`~dialer.leads.schemas` (drafts and results), :mod:`~dialer.leads.service`
(``import_leads``: checking the inputs, locking the campaign, the audit event and the result),
:mod:`~dialer.leads.report` (the rejected-rows CSV, put in place on commit). Private:
``_stream`` (reading records in bounded memory), ``_pool`` (chunks parsed in file order, on a
worker pool for big files), ``_chunks`` (a chunk of records -> rows ready to write, in a worker),
``_tally`` (the write phase: folding, writing, scrubbing and counting each chunk), ``_writers``
(COPY / executemany), ``_rows`` and ``_values`` (one row).
"""

from dialer.leads.columns import (
    CANONICAL_FIELDS,
    FIELD_ALIASES,
    IGNORE,
    PHONE_FIELDS,
    Column,
    ColumnMapping,
    detect_columns,
    normalize_header,
)
from dialer.leads.parser import parse_leads
from dialer.leads.report import rejected_report_path, write_rejected_report
from dialer.leads.schemas import (
    ConsentDraft,
    FoldedRow,
    ImportResult,
    LeadDraft,
    ParsedFile,
    RejectedRow,
    RowWarning,
)
from dialer.leads.service import ImportProgress, attestation_consent, import_leads, parse_lead_file

__all__ = [
    "CANONICAL_FIELDS",
    "FIELD_ALIASES",
    "IGNORE",
    "PHONE_FIELDS",
    "Column",
    "ColumnMapping",
    "ConsentDraft",
    "FoldedRow",
    "ImportProgress",
    "ImportResult",
    "LeadDraft",
    "ParsedFile",
    "RejectedRow",
    "RowWarning",
    "attestation_consent",
    "detect_columns",
    "import_leads",
    "normalize_header",
    "parse_lead_file",
    "parse_leads",
    "rejected_report_path",
    "write_rejected_report",
]
