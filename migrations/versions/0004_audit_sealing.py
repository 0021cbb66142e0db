"""Audit log sealing: content-hashed events, audit_seals, no chain head row.

Appends no longer lock ``audit_chain_head``: each event keeps its own content hash (sha256 over
its canonical JSON, without a link to the previous event) and ``audit_seals`` chains them in
batches (see ``dialer.audit.sealing``). Existing events are checked against the old chain first,
then re-hashed; when there were any, an ``audit.migrated`` event records how many and whether
the old chain verified (and where it broke), so that evidence survives the change of scheme.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
FIELDS = ("occurred_at", "kind", "actor", "campaign_id", "lead_id", "attempt_id", "payload")


def _events(with_prev: bool) -> sa.TableClause:
    columns = [
        sa.column("id", sa.Integer),
        sa.column("occurred_at", sa.DateTime(timezone=True)),
        sa.column("kind", sa.String),
        sa.column("actor", sa.String),
        sa.column("campaign_id", sa.Integer),
        sa.column("lead_id", sa.Integer),
        sa.column("attempt_id", sa.Integer),
        sa.column("payload", JSON),
        sa.column("hash", sa.String),
    ]
    if with_prev:
        columns.append(sa.column("prev_hash", sa.String))
    return sa.table("audit_events", *columns)


def _body(row: Any) -> dict[str, Any]:
    at = row.occurred_at
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return {name: (at.isoformat() if name == "occurred_at" else getattr(row, name)) for name in FIELDS}


def _sha(value: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()


def upgrade() -> None:
    bind = op.get_bind()
    old = _events(with_prev=True)
    rows = bind.execute(sa.select(old).order_by(old.c.id)).all()
    prev, first_bad, problem = GENESIS, None, None
    for row in rows:
        if first_bad is None and row.prev_hash != prev:
            first_bad, problem = row.id, "link to the previous event is broken"
        elif first_bad is None and row.hash != _sha({"prev_hash": prev, **_body(row)}):
            first_bad, problem = row.id, "event content does not match its hash"
        prev = row.hash
    head = bind.execute(sa.text("SELECT last_hash FROM audit_chain_head WHERE id = 1")).scalar()
    if rows and first_bad is None and head != prev:
        problem = "chain head does not match the last event (events removed?)"

    op.create_table(
        "audit_seals",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("first_id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("gaps", JSON, nullable=False),
        sa.Column("event_hashes", sa.LargeBinary(), nullable=False),
        sa.Column("merkle_root", sa.String(length=64), nullable=False),
        sa.Column("prev_seal_hash", sa.String(length=64), nullable=False),
        sa.Column("seal_hash", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_seals")),
        sa.UniqueConstraint("first_id", name=op.f("uq_audit_seals_first_id")),
        sa.UniqueConstraint("seal_hash", name=op.f("uq_audit_seals_seal_hash")),
    )
    now_default = "clock_timestamp()" if bind.dialect.name == "postgresql" else "CURRENT_TIMESTAMP"
    with op.batch_alter_table("audit_events", recreate="auto") as batch_op:
        batch_op.drop_constraint("uq_audit_events_hash", type_="unique")
        batch_op.drop_column("prev_hash")
        batch_op.add_column(
            sa.Column(
                "recorded_at", sa.DateTime(timezone=True), server_default=sa.text(now_default), nullable=True
            )
        )
    new = _events(with_prev=False)
    for row in rows:
        bind.execute(sa.update(new).where(new.c.id == row.id).values(hash=_sha(_body(row))))
    if rows:
        payload = {
            "legacy_events": len(rows),
            "legacy_chain_ok": first_bad is None and problem is None,
            "first_bad_event_id": first_bad,
            "problem": problem,
            "legacy_last_hash": prev,
        }
        occurred_at = datetime.now(UTC).replace(microsecond=0)
        fields = {"occurred_at": occurred_at, "kind": "audit.migrated", "actor": "system"}
        fields |= {"campaign_id": None, "lead_id": None, "attempt_id": None, "payload": payload}
        hashed = _sha({**fields, "occurred_at": occurred_at.isoformat()})
        bind.execute(sa.insert(new).values(**fields, hash=hashed))
    op.drop_table("audit_chain_head")


def downgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=True),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    with op.batch_alter_table("audit_events", recreate="auto") as batch_op:
        batch_op.drop_column("recorded_at")
        batch_op.add_column(
            sa.Column("prev_hash", sa.String(length=64), nullable=False, server_default=GENESIS)
        )
    old = _events(with_prev=True)
    prev, last_id = GENESIS, None
    for row in bind.execute(sa.select(old).order_by(old.c.id)).all():
        chained = _sha({"prev_hash": prev, **_body(row)})
        bind.execute(sa.update(old).where(old.c.id == row.id).values(prev_hash=prev, hash=chained))
        prev, last_id = chained, row.id
    with op.batch_alter_table("audit_events", recreate="auto") as batch_op:
        batch_op.alter_column("prev_hash", server_default=None)
        batch_op.create_unique_constraint(batch_op.f("uq_audit_events_hash"), ["hash"])
    bind.execute(
        sa.text("INSERT INTO audit_chain_head (id, last_event_id, last_hash) VALUES (1, :e, :h)"),
        {"e": last_id, "h": prev},
    )
    op.drop_table("audit_seals")
