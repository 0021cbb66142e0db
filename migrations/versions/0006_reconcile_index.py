"""An index for the reconciler's scan of live calls that have gone silent.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = "status IN ('queued', 'ringing', 'in_progress')"


def upgrade() -> None:
    op.create_index(
        "ix_call_attempts_live_updated",
        "call_attempts",
        ["updated_at"],
        postgresql_where=sa.text(LIVE),
        sqlite_where=sa.text(LIVE),
    )


def downgrade() -> None:
    op.drop_index("ix_call_attempts_live_updated", table_name="call_attempts")
