"""Per-campaign call settings: the voice-agent backend, the longest call, the silence timeout.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("voice_agent", sa.String(20), nullable=True))
        batch.add_column(sa.Column("max_call_seconds", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("silence_timeout_seconds", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("silence_timeout_seconds")
        batch.drop_column("max_call_seconds")
        batch.drop_column("voice_agent")
