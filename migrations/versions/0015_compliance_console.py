"""The compliance console: withdrawn DNC entries, audit events found by attempt (issue 10 item 4).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dnc_entries") as batch:
        batch.add_column(sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("removed_by", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("removal_reason", sa.Text(), nullable=True))
    # The evidence page's "audit events of this attempt".
    with op.batch_alter_table("audit_events") as batch:
        batch.create_index(batch.f("ix_audit_events_attempt_id"), ["attempt_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_index(batch.f("ix_audit_events_attempt_id"))
    with op.batch_alter_table("dnc_entries") as batch:
        batch.drop_column("removal_reason")
        batch.drop_column("removed_by")
        batch.drop_column("removed_at")
