"""The internal do-not-call list: opt-outs are honoured at once, everywhere, forever (CP-8).

Adding an entry, in the caller's transaction: writes the entry; moves every lead with that number,
in every campaign, to ``dnc`` (a lead already claimed by the scheduler is then skipped by its dial
task, which re-reads the lead under a row lock); cancels the number's pending callbacks; and
audits all of it. 47 CFR 64.1200(d)(3) allows up to 10 business days; the product does it before
the agent says goodbye.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dialer.audit import record_event
from dialer.models import Callback, CallbackStatus, DncEntry, Lead, LeadStatus


def add_internal_dnc(
    session: Session,
    *,
    phone_e164: str,
    source: str,
    now: datetime,
    actor: str,
    reason: str = "",
    lead_id: int | None = None,
    attempt_id: int | None = None,
) -> DncEntry:
    """Put ``phone_e164`` on the internal DNC list and apply it everywhere.

    Args:
        source: ``honor_dnc`` (agent tool), ``phrase_check`` (bridge safety net), ``dtmf``
            (key-press opt-out), ``cli`` or ``import``.
        actor: who asked, for the audit log (``agent``, ``system``, ``user:<name>``).

    Returns:
        The new entry (flushed). Repeated requests add repeated entries: each request is evidence.
    """
    entry = DncEntry(
        phone_e164=phone_e164,
        list_name="internal",
        source=source,
        reason=reason,
        lead_id=lead_id,
        attempt_id=attempt_id,
        requested_at=now,
    )
    session.add(entry)
    session.flush()
    lead_ids = session.scalars(
        update(Lead)
        .where(Lead.phone_e164 == phone_e164, Lead.status != LeadStatus.DNC)
        .values(status=LeadStatus.DNC, next_attempt_at=None, queued_at=None)
        .returning(Lead.id)
        .execution_options(synchronize_session="fetch")
    ).all()
    canceled = session.scalars(
        update(Callback)
        .where(Callback.phone_e164 == phone_e164, Callback.status == CallbackStatus.PENDING)
        .values(status=CallbackStatus.CANCELED, canceled_reason=f"DNC request (entry {entry.id})")
        .returning(Callback.id)
        .execution_options(synchronize_session="fetch")
    ).all()
    record_event(
        session,
        kind="dnc.added",
        occurred_at=now,
        actor=actor,
        lead_id=lead_id,
        attempt_id=attempt_id,
        payload={
            "dnc_entry_id": entry.id,
            "phone_e164": phone_e164,
            "list": "internal",
            "source": source,
            "reason": reason,
            "leads_suppressed": sorted(lead_ids),
            "callbacks_canceled": sorted(canceled),
        },
    )
    return entry


def internal_dnc_entries(session: Session, *, phone_e164: str) -> list[DncEntry]:
    """Every internal DNC entry for a number, oldest first."""
    return list(
        session.scalars(
            select(DncEntry)
            .where(DncEntry.phone_e164 == phone_e164, DncEntry.list_name == "internal")
            .order_by(DncEntry.requested_at)
        )
    )
