"""DNC registry imports and Reassigned Numbers Database (RND) answers.

The registry numbers themselves live in memory-mapped files (:mod:`dialer.registry.store`); the
database keeps what an auditor needs: which file was imported when, with which content hash and
what it did to the registry, and every RND answer the dialer was given.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from dialer.db import Base
from dialer.models._columns import utcnow


class DncSource(Base):
    """One registry file imported into a DNC list (one row per file, never updated).

    Attributes:
        list_name: ``national`` or the USPS code of a state with its own list (``TX``, ...).
        kind: ``full`` (replaces the list) or ``change`` (additions and deletions since the
            organization's previous download).
        file_name: the file's name as given to the import (no directory).
        sha256: hex digest of the file's bytes.
        numbers: numbers in the file (a change list: additions + deletions).
        downloaded_at: when the operator downloaded the file from the registry, UTC; the 31-day
            rule (CP-10, 16 CFR 310.4(b)(3)(iv)) counts from the newest one of the list.
        imported_at: when it was imported, UTC (the product's clock).
        registry_count_after: numbers on the list once the import that carried this file was done.
    """

    __tablename__ = "dnc_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_name: Mapped[str] = mapped_column(String(20), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    file_name: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    numbers: Mapped[int]
    downloaded_at: Mapped[datetime]
    imported_at: Mapped[datetime]
    registry_count_after: Mapped[int]


class RndResult(Base):
    """One answer of the FCC Reassigned Numbers Database (47 CFR 64.1200(m)).

    Attributes:
        phone_e164: the number queried.
        queried_at: when the query was made, UTC.
        consent_date: the date given with the query (when consent was obtained).
        result: ``yes`` (permanently disconnected since ``consent_date``: the number may have been
            reassigned, do not call on the old consent), ``no`` (not disconnected since then: the
            safe harbor of 64.1200(m) applies) or ``no_data``.
        source: where the answer came from (the imported file's name, or ``api``).
        created_at: when the row was written, UTC.
    """

    __tablename__ = "rnd_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_e164: Mapped[str] = mapped_column(String(20), index=True)
    queried_at: Mapped[datetime]
    consent_date: Mapped[date]
    result: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
