"""Consent ledger and the gate's v2 decision record.

Consent records gain further named sellers, a source and evidence fields; revocations from any
channel, EBRs, contacts made outside the dialer (for frequency caps) and compliance flags get tables
of their own; campaigns get the subject frequency caps group by; gate decisions store warnings (the
old ``notes``), a rule trace and the rule-data version instead of per-rule versions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import dialer.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_EMPTY_LIST = sa.text("'[]'")


def _id_table(name: str, *columns: sa.Column) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone_e164", sa.String(length=20), nullable=False),
        *columns,
        sa.Column("created_at", dialer.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
    )
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{name}_phone_e164"), ["phone_e164"], unique=False)


def upgrade() -> None:
    op.create_table(
        "compliance_flags",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_at", dialer.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_compliance_flags")),
    )
    _id_table(
        "consent_revocations",
        sa.Column("revoked_at", dialer.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("consent_record_id", sa.Integer(), nullable=True),
        sa.Column("attempt_id", sa.Integer(), nullable=True),
        sa.Column("dnc_entry_id", sa.Integer(), nullable=True),
    )
    _id_table(
        "contact_attempts",
        sa.Column("attempted_at", dialer.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("caller_id", sa.String(length=20), nullable=True),
        sa.Column("answered", sa.Boolean(), nullable=True),
        sa.Column("source", sa.String(length=300), nullable=False),
    )
    _id_table(
        "ebr_records",
        sa.Column("seller_name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("occurred_at", dialer.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
    )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(length=200), nullable=True))
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("other_sellers", _JSON, nullable=False, server_default=_EMPTY_LIST))
        batch_op.add_column(sa.Column("source", sa.String(length=300), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("evidence_text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("evidence_url", sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column("evidence_ip", sa.String(length=45), nullable=True))
        batch_op.add_column(sa.Column("evidence_form_sha256", sa.String(length=64), nullable=True))
    with op.batch_alter_table("gate_decisions", schema=None) as batch_op:
        batch_op.alter_column("notes", new_column_name="warnings")
        batch_op.add_column(
            sa.Column("rule_data_version", sa.String(length=300), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("trace", _JSON, nullable=False, server_default=_EMPTY_LIST))
        batch_op.drop_column("rule_versions")


def downgrade() -> None:
    with op.batch_alter_table("gate_decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rule_versions", _JSON, nullable=False, server_default=sa.text("'{}'")))
        batch_op.drop_column("trace")
        batch_op.drop_column("rule_data_version")
        batch_op.alter_column("warnings", new_column_name="notes")
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        for column in ("evidence_form_sha256", "evidence_ip", "evidence_url", "evidence_text", "source"):
            batch_op.drop_column(column)
        batch_op.drop_column("other_sellers")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("subject")
    for name in ("ebr_records", "contact_attempts", "consent_revocations"):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{name}_phone_e164"))
        op.drop_table(name)
    op.drop_table("compliance_flags")
