"""Lead files -> :class:`ParsedFile`. Pure: bytes in, drafts out; no database, no clock.

A file is refused as a whole (:class:`~dialer.errors.ImportFileError`, nothing imported) when it
is not UTF-8, is empty, has no data rows, has a header problem (see :mod:`dialer.leads.columns`)
or a quoted cell that is not closed properly. Otherwise every data row ends up accepted,
rejected (exactly one reason, naming the column) or folded:
``accepted + rejected + folded == data rows``.

Rules, including the choices made where the brief is silent:

- Encoding: UTF-8 with or without a BOM; a UTF-16 file is named as such. The first undecodable
  byte is reported with its physical line and byte offset in the file (the BOM counts).
- Delimiter: comma, unless the header line has no comma; then ``;`` or tab as
  :class:`csv.Sniffer` finds on the header line. Blank lines before the header are skipped.
- Row numbers are the physical line (1-based) where the record starts; quoted cells may span
  lines. Sloppy quoting on one line (``"abc" ,x``) is read leniently; a record spanning lines is
  re-read strictly, and a quote that is not closed properly refuses the file (it would silently
  swallow the rows after it).
- A row whose every cell is empty carries nothing: it is not a data row, it is skipped and listed
  in ``blank_rows``.
- More cells than the header: the row is rejected (even when the surplus cells are empty).
  Fewer: the missing cells are empty.
- Checks run in this order and the first failure rejects the row: surplus cells, phone, names,
  email, company, title, consent. A rejected row carries no warnings.
- Phone: phone columns are tried in dial priority. The lead's number is the first valid number
  the gate can dial (a US or territory number with a resolvable time zone, CP-11/CP-3); a
  higher-priority number the gate could never dial is kept as an alternate with a warning. When
  no valid number is dialable, the first valid one is used and a warning says the gate will not
  dial it. Other valid numbers go to ``fields["alt_phones"]`` (E.164; their extensions in
  ``fields["alt_phone_extensions"]``); invalid cells are warnings. No valid number: rejected on
  the first invalid cell with the reason from :class:`compliance.numbers.PhoneNumberError`, or
  on the first phone column with "no phone number" when all are empty.
- Over-long values (longer than the table column: names 200, email 320, company/title 300,
  consent seller 200, the phone cell 64, its extension 20) reject the row.
- Email: several columns are tried in alias order; the first valid address is the lead's
  (domain lowercased); other valid ones go to ``fields["alt_emails"]``; invalid ones are warnings.
- Names: a full-name column is split (first token / rest) only when the row's first and last
  name are both empty; otherwise it is kept in ``fields`` under its header.
- State: codes or names of the 50 states, DC and the five inhabited territories; anything else
  is a warning and no state. ZIP: 5 digits, or ZIP+4 written with ``-``, a space or nothing
  (kept: the first 5); 4 digits (or 4+4) get their lost leading zero back with a warning;
  anything else is a warning and no ZIP.
- Consent: instants are ISO-8601 first, then common spellings read month-first as US CRMs write
  them (US zone abbreviations such as ``CDT`` are honoured); a value without an offset, or a bare
  date, is taken as UTC with a warning; a value missing its year, month or day rejects the row.
  An empty seller is stored as none, an empty evidence as "". With consent type ``none``, filled
  consent cells are warnings (nothing is recorded).
- Consent evidence: ``consent_sellers`` is a ``;``-separated list of further sellers the same
  agreement names (each at most 200 characters); ``consent_url`` an ``http(s)://`` URL (at most
  2000); ``consent_ip`` an IPv4 or IPv6 address (stored compressed); ``consent_form_sha256`` 64 hex
  characters (stored lowercase); ``consent_text`` any text. A bad value rejects the row.
- Every warning of an accepted row is also stored on the lead in ``fields["import_warnings"]``,
  so a value that could not be used is never lost.
- A NUL byte (0x00) in a cell refuses the file, naming the row and the column.
- A phone cell written with letters (``+1 312 555 ABCD``, ``312-555-01O1``) is not a valid number
  (the reason names the letters); with ``allow_vanity`` a vanity number is read as its keypad
  digits, with a warning on the row.
- Duplicates: a row whose number an earlier accepted row already has is folded into that row and
  adds nothing: its other cells, consents and warnings are not imported (the first row wins).
  Only the lead's own number is compared, not alternates; a rejected row never absorbs a later
  row with the same number.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import re
from collections.abc import Iterator, Mapping

import phonenumbers

from dialer.errors import ImportFileError
from dialer.leads._chunks import ChunkSpec, process_chunk
from dialer.leads._stream import LeadStream, iter_records
from dialer.leads._stream import sniff_delimiter as sniff_delimiter  # the ledger importers use it
from dialer.leads.columns import detect_columns
from dialer.leads.schemas import FoldedRow, LeadDraft, ParsedFile, RowWarning

_NEWLINE = re.compile(rb"\r\n|\r|\n")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def decode(data: bytes, *, path: str) -> str:
    """The file's text (UTF-8, BOM dropped).

    Raises:
        ImportFileError: not UTF-8 (names the line and byte offset of the first bad byte), or
            empty / whitespace only.
    """
    if data.startswith(_UTF16_BOMS):
        raise ImportFileError("the file is UTF-16; save it as UTF-8 (in Excel: CSV UTF-8)", path=path, row=1)
    skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + skip
        line = len(_NEWLINE.findall(data, 0, offset)) + 1
        bad = data[offset : offset + 1].hex()
        raise ImportFileError(
            f"the file is not UTF-8: byte 0x{bad} at byte offset {offset} on line {line} cannot be "
            "decoded; save it as UTF-8 (in Excel: CSV UTF-8)",
            path=path,
            row=line,
        ) from None
    if not text.strip():
        raise ImportFileError("the file is empty", path=path)
    return text


def read_records(
    text: str, delimiter: str, path: str, *, strict: bool = False
) -> Iterator[tuple[int, int, list[str]]]:
    """Yield ``(first line, last line, cells)`` per record of ``text``, skipping empty lines.

    Single-line records are read leniently (``"abc" ,x`` is accepted). A record spanning lines
    is re-read strictly: a quote opened and never properly closed swallows the rows after it,
    so the whole file is refused, naming the line where the quote opened.

    Args:
        text: the decoded file (:func:`decode`).
        delimiter: the cell delimiter (:func:`sniff_delimiter`).
        path: how to name the file in messages.
        strict: read every record strictly instead, as written (no space skipped before a quote):
            ``"abc" ,x`` is malformed CSV. The consent ledger importers read their files so.

    Raises:
        ImportFileError: malformed CSV, naming the line where the bad record starts.
    """
    # The same line splitting the csv module sees; the lead importer streams through the same code.
    return iter_records(iter(io.StringIO(text, newline="")), delimiter, path, strict=strict)


def parse_leads(
    data: bytes,
    *,
    path: str,
    mappings: Mapping[str, str] | None = None,
    default_region: str = "US",
    allow_vanity: bool = False,
) -> ParsedFile:
    """Parse a lead file held in memory (a dry run, a preview; the importer streams instead).

    Args:
        data: the file's bytes.
        path: how to name the file in messages.
        mappings: ``--map`` overrides, ``{header as written: canonical field or "ignore"}``.
        default_region: region assumed for numbers written without a country code.
        allow_vanity: accept numbers written with letters as their keypad digits, with a warning.

    Raises:
        ImportFileError: the file cannot be imported at all (see the module docstring), or
            ``default_region`` is not a region code.
    """
    region = check_region(default_region, path=path)
    stream = LeadStream(io.BytesIO(data), path=path)
    mapping = detect_columns(stream.headers, mappings=mappings, path=path, header_row=stream.header_row)
    spec = ChunkSpec(
        path=path,
        mapping=mapping,
        default_region=region,
        delimiter=stream.delimiter,
        allow_vanity=allow_vanity,
    )
    out = process_chunk(spec, list(stream.records()))
    leads: list[LeadDraft] = []
    folded: list[FoldedRow] = []
    warnings: list[RowWarning] = []
    first_row_of: dict[str, int] = {}
    for accepted in out.accepted:
        first = first_row_of.get(accepted.phone_e164)
        if first is not None:
            folded.append(FoldedRow(accepted.row, first, accepted.phone_e164, f"same number as row {first}"))
            continue
        first_row_of[accepted.phone_e164] = accepted.row
        leads.append(accepted.lead)
        warnings.extend(accepted.warnings)
    data_rows = len(leads) + len(out.rejected) + len(folded)
    if data_rows == 0:
        raise ImportFileError("no data rows (the file has a header but no rows under it)", path=path)
    return ParsedFile(
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        delimiter=stream.delimiter,
        header_row=stream.header_row,
        mapping=mapping,
        leads=tuple(leads),
        rejected=tuple(out.rejected),
        folded=tuple(folded),
        warnings=tuple(warnings),
        data_rows=data_rows,
        blank_rows=tuple(out.blank_rows),
    )


def check_region(default_region: str, *, path: str) -> str:
    """``default_region`` as an upper-case region code.

    Raises:
        ImportFileError: not a region ``phonenumbers`` knows.
    """
    region = default_region.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ImportFileError(
            f"{default_region!r} is not a region code; use an ISO 3166 code such as US", path=path
        )
    return region
