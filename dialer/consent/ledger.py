"""Consent revocations and the consent ledger of a number, as auditors read it.

The gate (:mod:`dialer.dialing.gate`) reads these rows at dial time. Revocations are written here (and by the
lead importer's consent records and :func:`~dialer.consent.add_internal_dnc`, which records the revocation
that a DNC request is, CP-8); EBRs, outside contacts and compliance flags in
:mod:`dialer.consent.records`; the CSV imports of all three in :mod:`dialer.consent.imports`. Every
writer works in the caller's transaction (nothing is committed here) and writes an audit event with
:func:`dialer.audit.record_event`. Rows are never updated or deleted, except a compliance flag's
current value, whose every change is audited with the previous one.

Decisions where the brief is silent:

- :func:`revoke_consent` (``dialer consent revoke``, the API) records a **revocation only**, no internal
  DNC entry. A DNC request revokes consent (CP-8) and :func:`~dialer.consent.add_internal_dnc` records both;
  but revoking consent to robocalls is not by itself a company-specific DNC request
  (47 CFR 64.1200(a)(10) vs. (d)). For this dialer both stop every call at once: every call is an
  AI-voice telemarketing call that needs PEWC (CP-1, CP-2), so the gate blocks ``CONSENT_REVOKED``.
  The difference is what restores calling: a PEWC signed after the revocation does; a DNC entry is kept
  and honoured indefinitely. Use ``dialer dnc add`` for a request not to be called.
- A revocation hits every consent for the number obtained at or before ``revoked_at`` (any seller, any
  lead), unless it names one consent record; leads keep their status and the gate blocks them at dial
  time (pending callbacks are not canceled: the gate blocks the callback's call too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dialer.audit import record_event
from dialer.consent.checks import E164, clip, not_after, to_e164, utc
from dialer.errors import InvalidStateError
from dialer.models import (
    REVOCATION_CHANNELS,
    ConsentRecord,
    ConsentRevocation,
    ContactAttempt,
    DncEntry,
    EbrRecord,
    Lead,
    RndResult,
)
from dialer.registry import latest_rnd

REQUESTED_REVOCATION_CHANNELS = ("api", "cli")
"""Channels :func:`revoke_consent` accepts (a person asking through the API or an operator)."""


# ---------------------------------------------------------------------- revocations


def record_revocation(
    session: Session,
    *,
    phone_e164: str,
    revoked_at: datetime,
    channel: str,
    source: str,
    actor: str,
    consent_record_id: int | None = None,
    attempt_id: int | None = None,
    dnc_entry_id: int | None = None,
    now: datetime | None = None,
    reason: str = "",
) -> ConsentRevocation:
    """Record that consent for ``phone_e164`` was revoked at ``revoked_at`` (47 CFR 64.1200(a)(10); CP-8).

    The gate applies it to every consent for the number obtained at or before ``revoked_at`` (or only
    to ``consent_record_id`` when given); only a PEWC obtained later restores calling.

    Args:
        phone_e164: the number, already E.164 (callers normalise user input; an opt-out from a call
            must never fail on number metadata).
        revoked_at: when the person revoked consent (aware; stored UTC); not after ``now``.
        channel: one of :data:`dialer.models.REVOCATION_CHANNELS`.
        source: where it came from (``"call:12 honor_dnc"``, ``"import:optouts.csv row 4"``); at most
            300 characters are kept.
        actor: the audit actor (``agent``, ``system``, ``user:<name>``).
        consent_record_id: the one consent record revoked; None = every record for the number.
        attempt_id: the call it was made on, if any.
        dnc_entry_id: the DNC entry written with it, if any.
        now: the product's clock (aware) for the audit event; default ``revoked_at``.
        reason: free text for the audit event.

    Returns:
        The flushed row; one ``consent.revoked`` audit event is written.

    Raises:
        ValueError: ``channel`` is not a revocation channel, ``phone_e164`` is not E.164, or a time
            is naive.
        InvalidStateError: ``revoked_at`` is after ``now``, or
            ``consent_record_id`` names no record for this number.
    """
    if channel not in REVOCATION_CHANNELS:
        raise ValueError(f"channel {channel!r} is not one of {', '.join(REVOCATION_CHANNELS)}")
    if not E164.fullmatch(phone_e164):
        raise ValueError(f"{phone_e164!r} is not an E.164 number (+ and up to 15 digits)")
    phone = phone_e164
    when = utc(revoked_at, "revoked_at")
    at = when if now is None else utc(now, "now")
    not_after(when, at, "revoked_at")
    lead_id: int | None = None
    if consent_record_id is not None:
        record = session.get(ConsentRecord, consent_record_id)
        if record is None or record.phone_e164 != phone:
            raise InvalidStateError(f"consent record {consent_record_id} is not a consent for {phone}")
        lead_id = record.lead_id
    revocation = ConsentRevocation(
        phone_e164=phone,
        revoked_at=when,
        channel=channel,
        source=clip(source),
        consent_record_id=consent_record_id,
        attempt_id=attempt_id,
        dnc_entry_id=dnc_entry_id,
    )
    session.add(revocation)
    session.flush()
    record_event(
        session,
        kind="consent.revoked",
        occurred_at=at,
        actor=actor,
        lead_id=lead_id,
        attempt_id=attempt_id,
        payload={
            "consent_revocation_id": revocation.id,
            "phone_e164": phone,
            "revoked_at": when,
            "channel": channel,
            "source": source,
            "reason": reason,
            "consent_record_id": consent_record_id,
            "dnc_entry_id": dnc_entry_id,
        },
    )
    return revocation


def revoke_consent(
    session: Session,
    *,
    phone_e164: str,
    now: datetime,
    channel: str,
    source: str,
    actor: str,
    reason: str = "",
) -> ConsentRevocation:
    """A revocation of consent asked for through the API or by an operator, effective ``now`` (CP-8).

    It revokes every consent for the number obtained up to ``now``; the gate blocks the number's next
    call (``CONSENT_REVOKED``) in every campaign, and a PEWC signed later restores calling. It does **not**
    write an internal DNC entry: a revocation of consent is not by itself a company-specific DNC request
    (47 CFR 64.1200(a)(10) vs. 64.1200(d)); use :func:`~dialer.consent.add_internal_dnc` (``dialer dnc add``)
    for that, which records both.

    Args:
        phone_e164: the number (any common format; stored E.164).
        now: the product's clock (aware): the revocation's time.
        channel: ``api`` or ``cli``.
        source: who or what asked (``"cli"``, ``"api:crm-webhook"``); with ``reason`` appended it is
            the stored source (at most 300 characters; the audit event keeps all of it).
        actor: the audit actor.
        reason: why (``"asked by email on 2026-11-02"``).

    Raises:
        ValueError: another channel, or a naive ``now``.
        InvalidStateError: the number is invalid.
    """
    if channel not in REQUESTED_REVOCATION_CHANNELS:
        raise ValueError(
            f"channel {channel!r}: revoke_consent takes {' or '.join(REQUESTED_REVOCATION_CHANNELS)}; "
            "calls use add_internal_dnc, files import_revocations_csv"
        )
    detail = f"{source}: {reason}" if reason.strip() else source
    return record_revocation(
        session,
        phone_e164=to_e164(phone_e164),
        revoked_at=now,
        channel=channel,
        source=detail,
        actor=actor,
        now=now,
        reason=reason,
    )


# ---------------------------------------------------------------------- the ledger, for auditors


@dataclass(frozen=True)
class ConsentLedger:
    """Everything the gate reads about one number's consent, for an auditor.

    Attributes:
        phone_e164: the number, E.164.
        consents: consent records naming the number or belonging to a lead with it (evidence included:
            ``other_sellers``, ``source``, ``evidence*``), oldest first.
        revocations: revocations of consent for the number, oldest ``revoked_at`` first.
        dnc_requests: internal DNC entries for the number, oldest first (each also revokes consent).
        ebrs: established business relationships with any seller, newest ``occurred_at`` first.
        contacts: contacts made outside this dialer, oldest first.
        rnd: the latest Reassigned Numbers Database answer (47 CFR 64.1200(m)), or None.
    """

    phone_e164: str
    consents: tuple[ConsentRecord, ...]
    revocations: tuple[ConsentRevocation, ...]
    dnc_requests: tuple[DncEntry, ...]
    ebrs: tuple[EbrRecord, ...]
    contacts: tuple[ContactAttempt, ...]
    rnd: RndResult | None

    def revoked_at(self, record: ConsentRecord) -> datetime | None:
        """When ``record`` stopped counting, as the gate reads it (:mod:`dialer.dialing.gate`), or None.

        The earliest of the record's own ``revoked_at`` and every revocation for the number (or naming
        this record) made at or after the consent was obtained (any revocation when that is unknown).
        """
        return effective_revocation(record, self.revocations)


def effective_revocation(record: ConsentRecord, revocations: Sequence[ConsentRevocation]) -> datetime | None:
    """When a consent record stopped counting, or None: the one rule the gate and the ledger share.

    The earliest of the record's own ``revoked_at`` and every revocation for its number (or naming
    this record) made at or after the consent was obtained (any revocation when that is unknown).
    A revocation made before the consent does not touch it: a PEWC obtained after a DNC request or a
    revocation restores calling (47 CFR 64.1200(a)(10); CP-8).

    Args:
        record: the consent record.
        revocations: revocations for the record's number (others are the caller's mistake).
    """
    hits = [
        r.revoked_at
        for r in revocations
        if r.consent_record_id in (None, record.id)
        and (record.signed_at is None or r.revoked_at >= record.signed_at)
    ]
    if record.revoked_at is not None:
        hits.append(record.revoked_at)
    return min(hits, default=None)


def consent_ledger(session: Session, phone_e164: str) -> ConsentLedger:
    """The consent ledger of one number (any common format), read in the caller's session.

    Raises:
        InvalidStateError: the number is invalid.
    """
    phone = to_e164(phone_e164)
    lead_ids = select(Lead.id).where(Lead.phone_e164 == phone)
    return ConsentLedger(
        phone_e164=phone,
        consents=tuple(
            session.scalars(
                select(ConsentRecord)
                .where(or_(ConsentRecord.phone_e164 == phone, ConsentRecord.lead_id.in_(lead_ids)))
                .order_by(ConsentRecord.id)
            )
        ),
        revocations=tuple(
            session.scalars(
                select(ConsentRevocation)
                .where(ConsentRevocation.phone_e164 == phone)
                .order_by(ConsentRevocation.revoked_at, ConsentRevocation.id)
            )
        ),
        dnc_requests=tuple(
            session.scalars(
                select(DncEntry)
                .where(DncEntry.phone_e164 == phone, DncEntry.list_name == "internal")
                .order_by(DncEntry.requested_at, DncEntry.id)
            )
        ),
        ebrs=tuple(
            session.scalars(
                select(EbrRecord)
                .where(EbrRecord.phone_e164 == phone)
                .order_by(EbrRecord.occurred_at.desc(), EbrRecord.id.desc())
            )
        ),
        contacts=tuple(
            session.scalars(
                select(ContactAttempt)
                .where(ContactAttempt.phone_e164 == phone)
                .order_by(ContactAttempt.attempted_at, ContactAttempt.id)
            )
        ),
        rnd=latest_rnd(session, phone),
    )
