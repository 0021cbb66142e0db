"""What the caller heard of each agent turn, beside its full transcript (issue 9 item 3).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("transcript_turns") as batch:
        batch.add_column(sa.Column("heard_text", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transcript_turns") as batch:
        batch.drop_column("heard_text")
