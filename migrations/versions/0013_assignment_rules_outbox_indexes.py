"""Campaign assignment rules, reps' HubSpot owner ids, and the outbox's indexes (issue 10 items 3, 5).

- ``assignment_rules`` / ``assignment_rule_reps``: a campaign's ``fixed`` or ``round_robin`` rule
  and its reps in turn order (no row: ``none``);
- ``users.hubspot_owner_id``: the owner of a rep's meetings in HubSpot;
- ``outbox_messages``: the duplicate index on ``event_id`` dropped (the unique
  ``(event_id, destination)`` index serves it), the due index ordered like the claim
  (``next_attempt_at, id``), delivered messages indexed by ``delivered_at`` (pruning, the
  status views' recent deliveries) and dead ones by destination (the status views).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PENDING = sa.text("status = 'pending'")
_DELIVERED = sa.text("status = 'delivered'")
_DEAD = sa.text("status = 'dead'")


def upgrade() -> None:
    op.create_table(
        "assignment_rules",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("turns_taken", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_assignment_rules_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_assignment_rules")),
    )
    op.create_table(
        "assignment_rule_reps",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["assignment_rules.campaign_id"],
            name=op.f("fk_assignment_rule_reps_campaign_id_assignment_rules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_assignment_rule_reps_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("campaign_id", "position", name=op.f("pk_assignment_rule_reps")),
    )
    op.create_index(op.f("ix_assignment_rule_reps_user_id"), "assignment_rule_reps", ["user_id"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("hubspot_owner_id", sa.String(length=40), nullable=True))
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_index("ix_outbox_messages_event_id")
        batch.drop_index("ix_outbox_messages_due")
        batch.create_index(
            "ix_outbox_messages_due",
            ["next_attempt_at", "id"],
            postgresql_where=_PENDING,
            sqlite_where=_PENDING,
        )
        batch.create_index(
            "ix_outbox_messages_delivered",
            ["delivered_at"],
            postgresql_where=_DELIVERED,
            sqlite_where=_DELIVERED,
        )
        batch.create_index(
            "ix_outbox_messages_dead", ["destination"], postgresql_where=_DEAD, sqlite_where=_DEAD
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_index("ix_outbox_messages_dead")
        batch.drop_index("ix_outbox_messages_delivered")
        batch.drop_index("ix_outbox_messages_due")
        batch.create_index(
            "ix_outbox_messages_due", ["next_attempt_at"], postgresql_where=_PENDING, sqlite_where=_PENDING
        )
        batch.create_index("ix_outbox_messages_event_id", ["event_id"])
    with op.batch_alter_table("users") as batch:
        batch.drop_column("hubspot_owner_id")
    op.drop_index(op.f("ix_assignment_rule_reps_user_id"), table_name="assignment_rule_reps")
    op.drop_table("assignment_rule_reps")
    op.drop_table("assignment_rules")
