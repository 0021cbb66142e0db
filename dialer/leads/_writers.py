"""Writing accepted rows in bulk, in the caller's transaction: COPY on PostgreSQL, executemany elsewhere.

Both writers look up which numbers are already in the campaign (the ``(campaign_id, phone_e164)``
unique index serves it: one query per chunk) and write a chunk's leads and consent records
together. Nothing is committed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, exists, insert, select, text
from sqlalchemy.orm import Session

from dialer.leads._chunks import CONSENT_COPY_COLUMNS, LEAD_COPY_COLUMNS, Accepted
from dialer.models import ConsentRecord, Lead

_LEADS = cast(Table, Lead.__table__)  # Core inserts: no ORM bulk-insert bookkeeping
_CONSENTS = cast(Table, ConsentRecord.__table__)

_IN_CHUNK = 500


class BulkWriter:
    """Writes chunks of accepted rows of one campaign (the base: executemany through SQLAlchemy Core)."""

    output = "rows"

    def __init__(self, session: Session, campaign_id: int) -> None:
        self.session = session
        self.campaign_id = campaign_id
        # Leads are only created by imports, which lock the campaign row first: when it had no
        # leads then, a number can only be "already there" from this import's own earlier rows,
        # which the importing process folds itself, so the per-chunk lookup can be skipped.
        self.campaign_was_empty = not session.execute(
            select(exists().where(Lead.campaign_id == campaign_id))
        ).scalar_one()

    def already_in_campaign(self, numbers: Sequence[str]) -> dict[str, int]:
        """``{e164: lead id}`` for the numbers the campaign had before this import (one query per chunk)."""
        if self.campaign_was_empty:
            return {}
        return self.existing(numbers)

    def existing(self, numbers: Sequence[str]) -> dict[str, int]:
        """``{e164: lead id}`` for the numbers already in the campaign."""
        found: dict[str, int] = {}
        for i in range(0, len(numbers), _IN_CHUNK):
            rows = self.session.execute(
                select(Lead.phone_e164, Lead.id).where(
                    Lead.campaign_id == self.campaign_id, Lead.phone_e164.in_(numbers[i : i + _IN_CHUNK])
                )
            ).all()
            found.update({phone: lead_id for phone, lead_id in rows})
        return found

    def write(self, rows: Sequence[Accepted]) -> int:
        """Insert the rows' leads and consent records; returns the consent records written."""
        if not rows:
            return 0
        self.session.execute(insert(_LEADS), [r.lead for r in rows])
        ids = self.existing([r.phone_e164 for r in rows])
        consents = [{**c, "lead_id": ids[r.phone_e164]} for r in rows for c in r.consents]
        if consents:
            self.session.execute(insert(_CONSENTS), consents)
        return len(consents)


class CopyWriter(BulkWriter):
    """PostgreSQL: ids drawn from the table's sequence in one query, then COPY of both tables."""

    output = "copy"

    def __init__(self, session: Session, campaign_id: int) -> None:
        super().__init__(session, campaign_id)
        self._raw: Any = session.connection().connection.driver_connection
        self._lead_copy = f"COPY leads ({', '.join(LEAD_COPY_COLUMNS)}) FROM STDIN"
        self._consent_copy = f"COPY consent_records ({', '.join(CONSENT_COPY_COLUMNS)}) FROM STDIN"

    def existing(self, numbers: Sequence[str]) -> dict[str, int]:
        """``{e164: lead id}`` for the numbers already in the campaign (one query, ``= ANY``)."""
        if not numbers:
            return {}
        rows = self.session.execute(
            text(
                "SELECT phone_e164, id FROM leads "
                "WHERE campaign_id = :c AND phone_e164 = ANY(CAST(:n AS text[]))"
            ),
            {"c": self.campaign_id, "n": "{" + ",".join(numbers) + "}"},  # E.164: digits and '+' only
        ).all()
        return {phone: lead_id for phone, lead_id in rows}

    def write(self, rows: Sequence[Accepted]) -> int:
        """COPY the rows' leads and consent records; returns the consent records written."""
        if not rows:
            return 0
        ids = self.session.execute(
            text("SELECT nextval(pg_get_serial_sequence('leads', 'id')) FROM generate_series(1, :n)"),
            {"n": len(rows)},
        ).scalars()
        ordered = sorted(ids)
        leads = "".join(f"{lead_id}\t{r.lead}" for lead_id, r in zip(ordered, rows, strict=True))
        consents = "".join(
            f"{lead_id}\t{line}" for lead_id, r in zip(ordered, rows, strict=True) for line in r.consents
        )
        with self._raw.cursor() as cursor:
            with cursor.copy(self._lead_copy) as copy:
                copy.write(leads)
            if consents:
                with cursor.copy(self._consent_copy) as copy:
                    copy.write(consents)
        return sum(len(r.consents) for r in rows)


def writer_for(session: Session, campaign_id: int) -> BulkWriter:
    """The fastest writer the session's database has."""
    if session.get_bind().dialect.name == "postgresql":
        return CopyWriter(session, campaign_id)
    return BulkWriter(session, campaign_id)
