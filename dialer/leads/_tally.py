"""The import's write phase, in the importing process: fold, write and scrub each parsed chunk, and count.

Chunks arrive in file order (:mod:`dialer.leads._pool`). Each accepted row is folded into the first
row with the same number (this import's earlier rows, remembered as ``{number: first row}``) or into
a lead the campaign already has (one indexed query per chunk); the rest are written in bulk
(:mod:`dialer.leads._writers`) and, with a registry, scrubbed against the DNC lists in one batch.
The running counts are totals; the lists of rows kept for the result stop at :data:`RESULT_ROWS`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import TypeVar

from dialer.leads._chunks import Accepted, ChunkOut
from dialer.leads._writers import BulkWriter
from dialer.leads.report import PendingReport
from dialer.leads.schemas import FoldedRow, RejectedRow, RowWarning
from dialer.registry import RegistryStore, ScrubCounts

RESULT_ROWS = 10_000
"""At most this many rejected rows, folded rows and warnings are kept in the result."""

_T = TypeVar("_T")


@dataclass
class Tally:
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
        """Fold, write and scrub one chunk, add its rejections to ``report``, and count it all."""
        new, folded = self._fold(out.accepted, writer)
        self.consents += writer.write(new)
        self.imported += len(new)
        if registry is not None:
            self.scrub = add_scrub(self.scrub, registry.scrub_counts([a.phone_e164 for a in new]))
        report.add(out.rejected)
        self.data_rows += len(out.accepted) + len(out.rejected)
        self.folded_count += len(folded)
        keep(self.folded, folded)
        keep(self.rejected, out.rejected)
        for accepted in new:
            self.warnings_count += len(accepted.warnings)
            keep(self.warnings, accepted.warnings)
        self.blank_rows.extend(out.blank_rows)

    def _fold(
        self, accepted_rows: Iterable[Accepted], writer: BulkWriter
    ) -> tuple[list[Accepted], list[FoldedRow]]:
        """Split a chunk's accepted rows into new leads and rows folded into an earlier row or lead.

        Returns:
            ``(new, folded)``: the rows to write, in file order, and the folded rows sorted by row.
        """
        fresh = []
        folded: list[FoldedRow] = []
        for accepted in accepted_rows:
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
        return new, folded


def keep(kept: list[_T], more: Iterable[_T]) -> None:
    """Append to ``kept`` as many of ``more`` as fit under :data:`RESULT_ROWS`."""
    room = RESULT_ROWS - len(kept)
    if room > 0:
        kept.extend(islice(more, room))


def add_scrub(total: ScrubCounts | None, more: ScrubCounts) -> ScrubCounts:
    """The DNC scrub counts of two batches added up (None: no batch yet, so ``more``)."""
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
