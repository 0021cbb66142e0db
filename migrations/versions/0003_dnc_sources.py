"""DNC registry imports (dnc_sources) and Reassigned Numbers Database answers (rnd_results).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dnc_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_name", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("numbers", sa.Integer(), nullable=False),
        sa.Column("downloaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registry_count_after", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dnc_sources")),
    )
    with op.batch_alter_table("dnc_sources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dnc_sources_list_name"), ["list_name"], unique=False)

    op.create_table(
        "rnd_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone_e164", sa.String(length=20), nullable=False),
        sa.Column("queried_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consent_date", sa.Date(), nullable=False),
        sa.Column("result", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rnd_results")),
    )
    with op.batch_alter_table("rnd_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rnd_results_phone_e164"), ["phone_e164"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rnd_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rnd_results_phone_e164"))
    op.drop_table("rnd_results")
    with op.batch_alter_table("dnc_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dnc_sources_list_name"))
    op.drop_table("dnc_sources")
