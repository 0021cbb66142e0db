"""The internal do-not-call list: opt-outs are honoured at once, everywhere, forever (CP-8).

Adding an entry, in the caller's transaction: writes the entry; moves every lead with that number,
in every campaign, to ``dnc`` (a lead already claimed by the scheduler is then skipped by its dial
task, which re-reads the lead under a row lock); cancels the number's pending callbacks; records
the consent revocation the request also is (CP-8: only a PEWC dated after it restores calling);
and audits all of it. 47 CFR 64.1200(d)(3) allows up to 10 business days; the product does it before
the agent says goodbye. A file of numbers is added all or nothing by :func:`import_internal_list`.
An entry made in error is withdrawn, never deleted, by :func:`remove_internal_dnc` (admins).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dialer.audit import record_event
from dialer.consent.ledger import record_revocation
from dialer.errors import InvalidInputError, InvalidStateError, NotFoundError
from dialer.models import Callback, CallbackStatus, DncEntry, Lead, LeadStatus
from dialer.outbox import publish_dnc_added
from dialer.registry import read_number_file

REVOCATION_CHANNEL_BY_SOURCE: dict[str, str] = {
    "honor_dnc": "honor_dnc",
    "phrase_check": "transcript",
    "dtmf": "dtmf",
    "cli": "cli",
    "import": "import",
    "api": "api",
    "console": "console",
}
"""DNC entry source -> the channel of the consent revocation written with it."""


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

    A DNC request also revokes every consent for the number obtained up to ``now`` (CP-8;
    47 CFR 64.1200(a)(10), (d)(3)): a :class:`~dialer.models.ConsentRevocation` with ``dnc_entry_id``
    is written with the entry, its channel mapped from ``source`` by
    :data:`REVOCATION_CHANNEL_BY_SOURCE` (``phrase_check`` -> ``transcript``, the others keep their name).

    Args:
        source: ``honor_dnc`` (agent tool), ``phrase_check`` (bridge safety net), ``dtmf``
            (key-press opt-out), ``cli``, ``import``, ``api`` or ``console``.
        now: the product's clock (aware): when the request is honoured.
        actor: who asked, for the audit log (``agent``, ``system``, ``user:<name>``).

    Returns:
        The new entry (flushed). Repeated requests add repeated entries: each request is evidence.
        Audit: ``dnc.added`` and ``consent.revoked``; outbox: ``dnc.added`` (webhooks).

    Raises:
        ValueError: ``source`` is not one of :data:`REVOCATION_CHANNEL_BY_SOURCE` (nothing written).
    """
    channel = REVOCATION_CHANNEL_BY_SOURCE.get(source)
    if channel is None:
        raise ValueError(f"DNC source {source!r} is not one of {', '.join(REVOCATION_CHANNEL_BY_SOURCE)}")
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
    where = f"call:{attempt_id}" if attempt_id is not None else f"dnc:{entry.id}"
    record_revocation(
        session,
        phone_e164=phone_e164,
        revoked_at=now,
        channel=channel,
        source=f"{where} {source}",
        actor=actor,
        attempt_id=attempt_id,
        dnc_entry_id=entry.id,
        now=now,
        reason=reason,
    )
    publish_dnc_added(session, entry=entry, now=now)
    return entry


def remove_internal_dnc(
    session: Session, *, entry_id: int, now: datetime, actor: str, reason: str
) -> DncEntry:
    """Withdraw an internal DNC entry made in error (admins only: the caller checks the role).

    The entry is kept (CP-8: evidence is never deleted) with ``removed_at``, ``removed_by`` and
    ``removal_reason``, and the gate stops blocking on it (``DNC_INTERNAL``). What the request
    did stays done: the consent revocation written with it still stands (only a PEWC obtained
    later restores calling, 47 CFR 64.1200(a)(10)), the leads it suppressed stay ``dnc`` and its
    canceled callbacks stay canceled; other entries for the number still block.

    Args:
        entry_id: the entry.
        now: the product's clock (aware).
        actor: who withdrew it (``user:<name>``).
        reason: why (required: the audit log must say).

    Returns:
        The entry, withdrawn. Audit: ``dnc.removed`` (entry, number, its source and reason, why).

    Raises:
        NotFoundError: there is no such entry.
        InvalidStateError: it was withdrawn already.
        InvalidInputError: ``reason`` is blank.
    """
    if not reason.strip():
        raise InvalidInputError("removing a DNC entry needs a reason (it is audited)")
    entry = session.get(DncEntry, entry_id, with_for_update=True)
    if entry is None:
        raise NotFoundError(f"there is no DNC entry {entry_id}")
    if entry.removed_at is not None:
        raise InvalidStateError(
            f"DNC entry {entry_id} was removed already ({entry.removed_at.isoformat()} by {entry.removed_by})"
        )
    entry.removed_at, entry.removed_by, entry.removal_reason = now, actor, reason.strip()
    record_event(
        session,
        kind="dnc.removed",
        occurred_at=now,
        actor=actor,
        lead_id=entry.lead_id,
        attempt_id=entry.attempt_id,
        payload={
            "dnc_entry_id": entry.id,
            "phone_e164": entry.phone_e164,
            "list": entry.list_name,
            "source": entry.source,
            "requested_at": entry.requested_at.isoformat(),
            "entry_reason": entry.reason,
            "reason": entry.removal_reason,
        },
    )
    session.flush()
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


def import_internal_list(
    session: Session, path: Path, *, now: datetime, actor: str, reason: str = ""
) -> list[DncEntry]:
    """Add every number of ``path`` to the internal DNC list (source ``import``), in the caller's transaction.

    The file is read completely first; a bad line raises before anything is written, and the
    caller's single commit makes the import all-or-nothing.

    Raises:
        RegistryFileError: as :func:`dialer.registry.imports.read_number_file`.
    """
    numbers = read_number_file(path)
    why = reason or f"imported from {Path(path).name}"
    return [
        add_internal_dnc(session, phone_e164=e164, source="import", now=now, actor=actor, reason=why)
        for e164 in numbers
    ]
