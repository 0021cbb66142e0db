"""The hopper's lead priority and partial indexes; indexes for the gate's call-history queries.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _partial(status: str) -> dict[str, object]:
    return {
        "postgresql_where": sa.text(f"status = '{status}'"),
        "sqlite_where": sa.text(f"status = '{status}'"),
    }


def upgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("priority", sa.SmallInteger(), server_default=sa.text("0"), nullable=False)
        )
    op.create_index(
        "ix_leads_hopper_waiting",
        "leads",
        ["campaign_id", "priority", "next_attempt_at", "id"],
        **_partial("waiting"),
    )
    op.create_index(
        "ix_leads_hopper_pending", "leads", ["campaign_id", "priority", "id"], **_partial("pending")
    )
    op.create_index("ix_leads_hopper_queued", "leads", ["campaign_id", "queued_at"], **_partial("queued"))
    op.create_index("ix_callbacks_hopper_due", "callbacks", ["campaign_id", "due_at"], **_partial("pending"))
    op.create_index("ix_call_attempts_to_requested", "call_attempts", ["to_e164", "requested_at"])
    op.create_index(
        "ix_call_attempts_campaign_answered",
        "call_attempts",
        ["campaign_id", "answered_at"],
        postgresql_include=["answered_by", "ended_at", "stream_started_at"],
        postgresql_where=sa.text("answered_at IS NOT NULL"),
        sqlite_where=sa.text("answered_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_call_attempts_campaign_answered", table_name="call_attempts")
    op.drop_index("ix_call_attempts_to_requested", table_name="call_attempts")
    op.drop_index("ix_callbacks_hopper_due", table_name="callbacks")
    op.drop_index("ix_leads_hopper_queued", table_name="leads")
    op.drop_index("ix_leads_hopper_pending", table_name="leads")
    op.drop_index("ix_leads_hopper_waiting", table_name="leads")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_column("priority")
