"""The consent ledger's other half, and the facts the gate needs beyond leads and calls.

Consent records live with the lead (``dialer.models.lead.ConsentRecord``); here are the revocations
that can come from any channel, established business relationships, contacts made outside this
dialer (other channels count towards frequency caps, CP-9) and compliance flags an operator sets
(the Louisiana emergency, CP-10). Rows are never deleted or updated in place, except a flag's
current value, whose every change is audited.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dialer.db import Base
from dialer.models._columns import utcnow

REVOCATION_CHANNELS = ("honor_dnc", "transcript", "dtmf", "api", "import", "cli", "console")
"""Where a revocation can come from: the agent's tool, the transcript phrase check, the key press,
the API, a file import, an operator at the command line or in the web console."""


class ConsentRevocation(Base):
    """A revocation of consent for a number, from any channel (47 CFR 64.1200(a)(10); CP-8).

    It applies to every consent for the number obtained at or before ``revoked_at``; only a PEWC
    obtained later restores calling.

    Attributes:
        phone_e164: the number whose consent is revoked.
        revoked_at: when the person revoked it, UTC.
        channel: one of ``REVOCATION_CHANNELS``.
        source: detail of where it came from (``"call:12 honor_dnc"``, ``"import:optouts.csv row 4"``).
        consent_record_id: the record revoked, when one was named; None = every record for the number.
        attempt_id: the call it was made on, if any.
        dnc_entry_id: the DNC entry written with it, if any (a DNC request is also a revocation).
    """

    __tablename__ = "consent_revocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_e164: Mapped[str] = mapped_column(String(20), index=True)
    revoked_at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(300), default="")
    consent_record_id: Mapped[int | None]
    attempt_id: Mapped[int | None]
    dnc_entry_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EbrRecord(Base):
    """An established business relationship with a seller (47 CFR 64.1200(f)(5)).

    It exempts a call from the national DNC registry for 18 months after a purchase or 3 months after
    an inquiry, but never replaces PEWC for an AI voice.

    Attributes:
        phone_e164: the customer's number.
        seller_name: the seller the relationship is with.
        kind: ``purchase`` or ``inquiry``.
        occurred_at: when the purchase or inquiry happened, UTC.
        source: where the record came from (a file name, ``api``).
    """

    __tablename__ = "ebr_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_e164: Mapped[str] = mapped_column(String(20), index=True)
    seller_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    occurred_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContactAttempt(Base):
    """An attempt to reach a number made outside this dialer (an SMS, another dialer's call).

    Frequency caps count every attempt on any channel (CP-9); this dialer's own calls are read from
    ``call_attempts``, everything else from here.

    Attributes:
        phone_e164: the number contacted.
        attempted_at: when, UTC.
        channel: ``voice``, ``sms``, ``mms``, ``rvm`` or ``other``.
        subject: what it was about (compared with the campaign subject), or None (counts as any).
        caller_id: the number it came from, if known.
        answered: whether it was answered, if known.
        source: where the record came from.
    """

    __tablename__ = "contact_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_e164: Mapped[str] = mapped_column(String(20), index=True)
    attempted_at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str | None] = mapped_column(String(200))
    caller_id: Mapped[str | None] = mapped_column(String(20))
    answered: Mapped[bool | None]
    source: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ComplianceFlag(Base):
    """A switch an operator sets from an outside notice, e.g. ``la_emergency`` (La. R.S. 45:844.31).

    Attributes:
        name: the flag (``la_emergency``).
        active: its current value.
        note: why it was set (the notice it follows).
        updated_at: when it was last set, UTC.
        updated_by: who set it.
    """

    __tablename__ = "compliance_flags"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    active: Mapped[bool]
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(200))
