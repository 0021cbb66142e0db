"""Count the voice-agent reconnects of each call attempt (issue 9, item 6).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("call_attempts") as batch:
        batch.add_column(sa.Column("agent_reconnects", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("call_attempts") as batch:
        batch.drop_column("agent_reconnects")
