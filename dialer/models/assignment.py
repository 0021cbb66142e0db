"""Campaign assignment rules: which rep a meeting booked on a campaign's call goes to.

A campaign without an :class:`AssignmentRule` row has the rule ``none``: ops assign by hand
(``PUT /api/meetings/{id}/rep``). The rule lives in its own table, not on ``campaigns``, so the
round robin's counter lock never waits on (or blocks) the dialer's ``FOR UPDATE`` of campaigns.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from dialer.db import Base, StrEnumColumn


class AssignmentRuleKind(StrEnum):
    """``none`` (by hand), ``fixed`` (one rep owns every meeting), ``round_robin`` (reps in turn)."""

    NONE = "none"
    FIXED = "fixed"
    ROUND_ROBIN = "round_robin"


class AssignmentRule(Base):
    """A campaign's rule (``fixed`` or ``round_robin``; ``none`` has no row).

    Attributes:
        turns_taken: meetings the round robin has handed out so far; the next booking takes turn
            ``turns_taken + 1`` by incrementing it in one ``UPDATE ... RETURNING`` (a row lock
            held to commit, so two bookings never get the same turn).
    """

    __tablename__ = "assignment_rules"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[AssignmentRuleKind] = mapped_column(StrEnumColumn(AssignmentRuleKind, 20))
    turns_taken: Mapped[int] = mapped_column(BigInteger, default=0)


class AssignmentRuleRep(Base):
    """One rep of a rule, at its place in the turn order (``fixed``: the one rep, position 0).

    Attributes:
        position: 0, 1, ... in the order the rule names the reps.
    """

    __tablename__ = "assignment_rule_reps"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("assignment_rules.campaign_id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
