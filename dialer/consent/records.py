"""The facts besides consent that the gate reads, as operators record them: EBRs, outside contacts, flags.

An established business relationship exempts a call from the national DNC registry (47 CFR
64.1200(f)(5)); a contact made outside this dialer counts toward the state frequency caps (CP-9); a
compliance flag switches a rule on (``la_emergency``, CP-10). The gate (:mod:`dialer.dialing.gate`)
reads these rows at dial time; their CSV imports are :mod:`dialer.consent.imports`. Every function
works in the caller's transaction (nothing is committed here) and writes an audit event with
:func:`dialer.audit.record_event`. Rows are never updated or deleted, except a compliance flag's
current value, whose every change is audited with the previous one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from compliance import conservative_policy
from compliance.states import STATE_NAMES
from dialer.audit import record_event
from dialer.consent.checks import clip, not_after, to_e164, utc
from dialer.db import lock_for_update
from dialer.errors import InvalidStateError
from dialer.models import ComplianceFlag, ContactAttempt, EbrRecord

EBR_KINDS = ("purchase", "inquiry")
"""EBR kinds (47 CFR 64.1200(f)(5)): a purchase or transaction (18 months), an inquiry or application
(3 months)."""

_EBR_KIND_WORDS = {
    "purchase": "purchase",
    "transaction": "purchase",
    "inquiry": "inquiry",
    "enquiry": "inquiry",
    "application": "inquiry",
}

CONTACT_CHANNELS = ("voice", "sms", "mms", "rvm", "other")
"""Channels of contacts made outside this dialer; frequency caps count all of them (CP-9)."""

KNOWN_FLAGS: dict[str, str] = {
    flag: (
        f"{STATE_NAMES[rule.jurisdiction]} declared emergency: no telephone solicitation into "
        f"{rule.jurisdiction} while it is in force ({rule.citation}; CP-10 {rule.reason})"
    )
    for flag, rule in sorted(conservative_policy().rules.emergency_flags.items())
}
"""Compliance flags an operator may set, with what each one means: one per ``emergency_ban`` row
of the rule data (``compliance/data/state_rules.toml``)."""

SELLER_LIMIT = 200
"""Characters of an EBR's seller name (the column's size)."""

SUBJECT_LIMIT = 200
"""Characters of a contact's subject (the column's size, as a campaign's subject)."""


def ebr_kind(word: str) -> str | None:
    """The EBR kind ``word`` names, in any case, or None.

    ``purchase`` and ``transaction`` are a purchase; ``inquiry``, ``enquiry`` and ``application`` an inquiry.
    """
    return _EBR_KIND_WORDS.get(word.strip().casefold())


# ---------------------------------------------------------------------- EBR, outside contacts


def add_ebr(
    session: Session,
    *,
    phone_e164: str,
    seller_name: str,
    kind: str,
    occurred_at: datetime,
    source: str,
    actor: str,
    now: datetime | None = None,
) -> EbrRecord:
    """Record an established business relationship with a seller (47 CFR 64.1200(f)(5)).

    It exempts calls from the national DNC registry for 18 months after a purchase or 3 months after
    an inquiry (the gate counts from ``occurred_at``); it never replaces PEWC for an AI voice (CP-2).

    Args:
        phone_e164: the customer's number (any common format; stored E.164).
        seller_name: the seller the relationship is with (1-200 characters).
        kind: ``purchase`` or ``inquiry`` (``transaction`` / ``application`` are read as those).
        occurred_at: when the purchase or inquiry happened (aware; stored UTC); not after ``now``.
        source: where the record came from (``api``, ``import:customers.csv row 3``).
        actor: the audit actor.
        now: the product's clock (aware) for the check and the audit event; default: the wall clock.

    Returns:
        The flushed row; one ``ebr.recorded`` audit event is written.

    Raises:
        ValueError: a naive time.
        InvalidStateError: invalid number, empty or over-long seller, unknown kind, future instant.
    """
    phone = to_e164(phone_e164)
    seller = seller_name.strip()
    if not seller or len(seller) > SELLER_LIMIT:
        raise InvalidStateError(f"the seller's name must be 1 to {SELLER_LIMIT} characters")
    word = ebr_kind(kind)
    if word is None:
        raise InvalidStateError(f"EBR kind {kind!r} is not one of {', '.join(EBR_KINDS)}")
    at = datetime.now(UTC) if now is None else utc(now, "now")
    when = not_after(occurred_at, at, "occurred_at")
    row = EbrRecord(phone_e164=phone, seller_name=seller, kind=word, occurred_at=when, source=clip(source))
    session.add(row)
    session.flush()
    record_event(
        session,
        kind="ebr.recorded",
        occurred_at=at,
        actor=actor,
        payload={
            "ebr_record_id": row.id,
            "phone_e164": phone,
            "seller_name": seller,
            "kind": word,
            "occurred_at": when,
            "source": source,
        },
    )
    return row


def record_contact_attempt(
    session: Session,
    *,
    phone_e164: str,
    attempted_at: datetime,
    channel: str,
    source: str,
    actor: str,
    now: datetime,
    subject: str | None = None,
    caller_id: str | None = None,
    answered: bool | None = None,
) -> ContactAttempt:
    """Record a contact made outside this dialer (an SMS, another dialer's call); caps count it (CP-9).

    Frequency caps (FL 501.616(6), OK OTSA, MD: 3 per rolling 24 h, same subject) count every attempt on
    any channel, from any caller ID, answered or not.

    Args:
        phone_e164: the number contacted (any common format; stored E.164).
        attempted_at: when (aware; stored UTC); not after ``now``.
        channel: ``voice``, ``sms``, ``mms``, ``rvm`` or ``other``.
        source: where the record came from.
        actor: the audit actor.
        now: the product's clock (aware).
        subject: what it was about (compared with the campaign's subject); None counts as any subject.
        caller_id: the number it came from (stored E.164), if known.
        answered: whether it was answered, if known.

    Returns:
        The flushed row; one ``contact.recorded`` audit event is written.

    Raises:
        ValueError: a naive time.
        InvalidStateError: invalid number or caller ID, unknown channel, over-long subject, future instant.
    """
    phone = to_e164(phone_e164)
    if channel not in CONTACT_CHANNELS:
        raise InvalidStateError(f"channel {channel!r} is not one of {', '.join(CONTACT_CHANNELS)}")
    subject = (subject or "").strip() or None
    if subject is not None and len(subject) > SUBJECT_LIMIT:
        raise InvalidStateError(f"the subject is {len(subject)} characters; the limit is {SUBJECT_LIMIT}")
    from_e164 = to_e164(caller_id) if caller_id and caller_id.strip() else None
    at = utc(now, "now")
    when = not_after(attempted_at, at, "attempted_at")
    row = ContactAttempt(
        phone_e164=phone,
        attempted_at=when,
        channel=channel,
        subject=subject,
        caller_id=from_e164,
        answered=answered,
        source=clip(source),
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        kind="contact.recorded",
        occurred_at=at,
        actor=actor,
        payload={
            "contact_attempt_id": row.id,
            "phone_e164": phone,
            "attempted_at": when,
            "channel": channel,
            "subject": subject,
            "caller_id": from_e164,
            "answered": answered,
            "source": source,
        },
    )
    return row


# ---------------------------------------------------------------------- compliance flags


def set_compliance_flag(
    session: Session, *, name: str, active: bool, note: str, actor: str, now: datetime
) -> ComplianceFlag:
    """Set a compliance flag (``la_emergency``: La. R.S. 45:844.31, CP-10) and audit the change.

    The row is created or updated in place under a row lock; the ``compliance.flag_set`` event carries
    the new and the previous value (None when the flag was never set), so the flag's history is the
    audit log. Setting the value it already has is still recorded (the note may change).

    Args:
        name: one of :data:`KNOWN_FLAGS`.
        active: the new value.
        note: why (the notice it follows); required when turning a flag on.
        actor: the audit actor; also stored as ``updated_by``.
        now: the product's clock (aware); stored as ``updated_at`` (UTC).

    Raises:
        InvalidStateError: an unknown flag name, or no note when turning a flag on.
        ValueError: a naive ``now``.
    """
    if name not in KNOWN_FLAGS:
        raise InvalidStateError(f"unknown compliance flag {name!r}; known flags: {', '.join(KNOWN_FLAGS)}")
    if active and not note.strip():
        raise InvalidStateError(f"turning {name} on needs a note saying which notice it follows")
    at = utc(now, "now")
    flag = session.execute(
        lock_for_update(select(ComplianceFlag).where(ComplianceFlag.name == name), session)
    ).scalar_one_or_none()
    previous: dict[str, Any] | None = None
    if flag is None:
        flag = ComplianceFlag(name=name, active=active, note=note.strip(), updated_at=at, updated_by=actor)
        session.add(flag)
    else:
        previous = {
            "active": flag.active,
            "note": flag.note,
            "updated_at": flag.updated_at,
            "updated_by": flag.updated_by,
        }
        flag.active, flag.note, flag.updated_at, flag.updated_by = active, note.strip(), at, actor
    session.flush()
    record_event(
        session,
        kind="compliance.flag_set",
        occurred_at=at,
        actor=actor,
        payload={"name": name, "active": active, "note": note.strip(), "previous": previous},
    )
    return flag


def compliance_flags(session: Session) -> list[tuple[str, str, ComplianceFlag | None]]:
    """Every known flag as ``(name, meaning, row or None when never set)``, in :data:`KNOWN_FLAGS` order."""
    rows = {f.name: f for f in session.scalars(select(ComplianceFlag))}
    return [(name, meaning, rows.get(name)) for name, meaning in KNOWN_FLAGS.items()]
