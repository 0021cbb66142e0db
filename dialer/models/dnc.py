"""Do-not-call entries (internal list). Entries are never deleted (CP-8: kept indefinitely).

An admin may withdraw an entry made in error (:func:`dialer.consent.remove_internal_dnc`): the
row stays, with who withdrew it, when and why, and the gate stops reading it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dialer.db import Base
from dialer.models._columns import utcnow


class DncEntry(Base):
    """One do-not-call request or suppression.

    Attributes:
        phone_e164: the suppressed number.
        list_name: ``internal`` (company-specific list, 47 CFR 64.1200(d)).
        source: what recorded it: ``honor_dnc`` (the agent's tool), ``phrase_check`` (the bridge's
            transcript safety net), ``dtmf`` (key-press opt-out), ``cli`` (an operator), ``import``
            (a file), ``api``, ``console``.
        requested_at: when the request was honoured, UTC (the product's clock).
        removed_at: when an admin withdrew the entry (UTC), or None while it is in force.
        removed_by: who withdrew it (``user:<name>``).
        removal_reason: why, in the admin's words.
    """

    __tablename__ = "dnc_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_e164: Mapped[str] = mapped_column(String(20), index=True)
    list_name: Mapped[str] = mapped_column(String(20), default="internal")
    source: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    lead_id: Mapped[int | None]
    attempt_id: Mapped[int | None]
    requested_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]
    removed_by: Mapped[str | None] = mapped_column(String(200))
    removal_reason: Mapped[str | None] = mapped_column(Text)
