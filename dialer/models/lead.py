"""Leads and the consent evidence attached to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from dialer.db import Base, StrEnumColumn
from dialer.models._columns import Timestamped, utcnow
from dialer.models.enums import ConsentMethod, ConsentType, LeadStatus


class Lead(Timestamped, Base):
    """A person to call in one campaign; one row per (campaign, E.164 number).

    Attributes:
        phone_e164: the number dialed, E.164.
        phone_extension: an extension found in the source cell; kept, never dialed.
        phone_raw: the cell as it appeared in the file.
        fields: every other column of the source row (header -> value), usable in the script.
        next_attempt_at: UTC instant before which the lead is not dialed (retry, callback, or the
            ``next_allowed_at`` of a gate decision that deferred it).
        priority: the hopper dials higher priorities first within each queue (default 0).
        queued_at: when the scheduler last claimed the lead (for re-enqueueing lost tasks).
        source_file / source_row: provenance (file name, 1-based physical line).
    """

    __tablename__ = "leads"
    __table_args__ = (
        UniqueConstraint("campaign_id", "phone_e164"),
        Index("ix_leads_dialable", "campaign_id", "status", "next_attempt_at"),
        Index("ix_leads_phone_e164", "phone_e164"),
        # The hopper's queues (dialer.dialing.hopper), one partial index per status it reads.
        Index(
            "ix_leads_hopper_waiting",
            "campaign_id",
            "priority",
            "next_attempt_at",
            "id",
            postgresql_where=text("status = 'waiting'"),
            sqlite_where=text("status = 'waiting'"),
        ),
        Index(
            "ix_leads_hopper_pending",
            "campaign_id",
            "priority",
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index(
            "ix_leads_hopper_queued",
            "campaign_id",
            "queued_at",
            postgresql_where=text("status = 'queued'"),
            sqlite_where=text("status = 'queued'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    phone_e164: Mapped[str] = mapped_column(String(20))
    phone_extension: Mapped[str | None] = mapped_column(String(20))
    phone_raw: Mapped[str] = mapped_column(String(64))
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    company: Mapped[str | None] = mapped_column(String(300))
    title: Mapped[str | None] = mapped_column(String(300))
    state: Mapped[str | None] = mapped_column(String(2))
    zip: Mapped[str | None] = mapped_column(String(10))
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[LeadStatus] = mapped_column(StrEnumColumn(LeadStatus, 20), default=LeadStatus.PENDING)
    attempt_count: Mapped[int] = mapped_column(default=0)
    priority: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None]
    queued_at: Mapped[datetime | None]
    last_disposition: Mapped[str | None] = mapped_column(String(32))
    source_file: Mapped[str] = mapped_column(String(500), default="")
    source_row: Mapped[int] = mapped_column(default=0)


class ConsentRecord(Base):
    """Evidence of consent to be called, as captured or attested.

    Attributes:
        phone_e164: the number the consent names (PEWC must identify the number called).
        seller_name: the seller the consent names (PEWC must identify the seller).
        other_sellers: further sellers the same agreement names (multi-seller consent is lawful when
            each seller is identified; *Insurance Marketing Coalition v. FCC*, 11th Cir. 2025).
        source: where the record came from (``"import:leads.csv row 7"``, ``"api"``).
        evidence_text: the consent language shown to the person.
        evidence_url: the page it was captured on.
        evidence_ip: the person's IP address at capture.
        evidence_form_sha256: hex sha256 of the signed form as stored.
        covers_artificial_voice: the agreement authorizes calls with an artificial or
            prerecorded voice (FCC 24-17: AI voices are artificial).
        signed_at: when the consumer gave consent, UTC, if known.
        revoked_at: when the consumer revoked it, UTC.
        method: ``csv_columns`` (from the row) or ``attestation`` (a statement recorded at import
            that consent was captured elsewhere; ``evidence`` holds its text).
        attested_by: who made the attestation (the OS user running the import).
    """

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    phone_e164: Mapped[str] = mapped_column(String(20))
    seller_name: Mapped[str | None] = mapped_column(String(200))
    other_sellers: Mapped[list[Any]] = mapped_column(default=list)
    consent_type: Mapped[ConsentType] = mapped_column(StrEnumColumn(ConsentType, 10))
    covers_artificial_voice: Mapped[bool] = mapped_column(default=False)
    signed_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    method: Mapped[ConsentMethod] = mapped_column(StrEnumColumn(ConsentMethod, 20))
    evidence: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(300), default="")
    evidence_text: Mapped[str | None] = mapped_column(Text)
    evidence_url: Mapped[str | None] = mapped_column(String(2000))
    evidence_ip: Mapped[str | None] = mapped_column(String(45))
    evidence_form_sha256: Mapped[str | None] = mapped_column(String(64))
    attested_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
