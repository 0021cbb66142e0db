"""Call latency on the attempt: answer and greeting to first agent audio, turn latencies, TSR abandonment.

The abandonment index (0005) carries ``tsr_abandoned`` too, so the gate's 30-day count stays
index-only on PostgreSQL.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = "ix_call_attempts_campaign_answered"


def _abandonment_index(include: list[str]) -> None:
    op.create_index(
        _INDEX,
        "call_attempts",
        ["campaign_id", "answered_at"],
        postgresql_include=include,
        postgresql_where=sa.text("answered_at IS NOT NULL"),
        sqlite_where=sa.text("answered_at IS NOT NULL"),
    )


def upgrade() -> None:
    op.drop_index(_INDEX, table_name="call_attempts")
    with op.batch_alter_table("call_attempts") as batch:
        batch.add_column(sa.Column("answer_to_first_audio_ms", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("greeting_to_first_audio_ms", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column(
                "turn_latencies_ms",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                nullable=False,
                server_default=sa.text("'[]'"),
            )
        )
        batch.add_column(sa.Column("tsr_abandoned", sa.Boolean(), nullable=True))
    _abandonment_index(["answered_by", "ended_at", "stream_started_at", "tsr_abandoned"])


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="call_attempts")
    with op.batch_alter_table("call_attempts") as batch:
        batch.drop_column("tsr_abandoned")
        batch.drop_column("turn_latencies_ms")
        batch.drop_column("greeting_to_first_audio_ms")
        batch.drop_column("answer_to_first_audio_ms")
    _abandonment_index(["answered_by", "ended_at", "stream_started_at"])
