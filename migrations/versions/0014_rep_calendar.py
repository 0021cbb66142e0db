"""Reps' own calendar feeds and the booking instant of meetings (issue 10 item 3).

``calendar_feeds``: the generation of each user's feed URL (the token is derived, never stored).
``meetings.booked_at``: when the agent booked it on the product's clock (existing rows: their
``created_at``), so the console can show the transcript turns around the booking.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_feeds",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_calendar_feeds_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_calendar_feeds")),
    )
    with op.batch_alter_table("meetings") as batch:
        batch.add_column(sa.Column("booked_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE meetings SET booked_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("meetings") as batch:
        batch.drop_column("booked_at")
    op.drop_table("calendar_feeds")
