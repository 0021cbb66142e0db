"""Campaign assignment rules: a meeting booked on a campaign's call goes to a rep by the campaign's rule.

Rules (issue 10 item 3), written ``none``, ``fixed:<rep>`` or ``round_robin:<rep>,<rep>,...``:

- ``none`` (default): nobody is assigned; ops assign by hand (:mod:`crm.assignments`);
- ``fixed``: one rep owns every meeting of the campaign;
- ``round_robin``: the reps take turns in the order named. Turn ``n`` (1, 2, ...) goes to the
  ``n``-th active rep modulo their number; a disabled (or no longer ``rep``) user is skipped. The
  turn is taken with one ``UPDATE assignment_rules SET turns_taken = turns_taken + 1 ...
  RETURNING``: the row lock is held to the booking's commit, so concurrent bookings get distinct,
  consecutive turns (none given twice, none skipped; a rolled-back booking gives its turn back).

:func:`rep_by_rule` picks the rep when the agent books the meeting; :func:`crm.meetings.book_meeting`
assigns it (:mod:`crm.assignments`), audited as ``meeting.assigned`` with actor ``rule:<kind>``
like a manual assignment; a manual reassignment later replaces it. With no active rep left, the
meeting stays unassigned.

Audit event of a rule change: ``campaign.assignment_rule`` {rule} (the rule as written).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from dialer.accounts import find_user
from dialer.audit import record_event
from dialer.errors import InvalidInputError
from dialer.models import (
    AssignmentRule,
    AssignmentRuleKind,
    AssignmentRuleRep,
    Campaign,
    Role,
    User,
)


@dataclass(frozen=True)
class RuleSpec:
    """A rule as ops write it: its kind and the reps' logins, in turn order.

    Attributes:
        kind: ``none`` (``reps`` empty), ``fixed`` (one rep) or ``round_robin`` (one or more, distinct).
    """

    kind: AssignmentRuleKind = AssignmentRuleKind.NONE
    reps: tuple[str, ...] = ()

    def __str__(self) -> str:
        """``none``, ``fixed:alice`` or ``round_robin:alice,bob`` (what :func:`parse_rule` reads)."""
        return self.kind.value if not self.reps else f"{self.kind.value}:{','.join(self.reps)}"

    def checked(self, where: str = "assignment") -> RuleSpec:
        """This rule with its logins lower-cased, if its shape is right.

        Raises:
            InvalidInputError: reps with ``none``, not exactly one with ``fixed``, none or a repeat
                with ``round_robin``; the message starts with ``where``.
        """
        reps = tuple(r.strip().lower() for r in self.reps)
        if self.kind == AssignmentRuleKind.NONE and reps:
            raise InvalidInputError(f"{where}: the rule 'none' names no reps")
        if self.kind == AssignmentRuleKind.FIXED and len(reps) != 1:
            raise InvalidInputError(f"{where}: 'fixed' names exactly one rep (fixed:<login>)")
        if self.kind == AssignmentRuleKind.ROUND_ROBIN:
            if not reps or not all(reps):
                raise InvalidInputError(f"{where}: 'round_robin' names its reps (round_robin:<a>,<b>)")
            repeated = sorted({r for r in reps if reps.count(r) > 1})
            if repeated:
                raise InvalidInputError(f"{where}: round_robin names {', '.join(repeated)} more than once")
        return RuleSpec(self.kind, reps)


def parse_rule(text: str, *, where: str = "--assign") -> RuleSpec:
    """The rule written as ``none``, ``fixed:<login>`` or ``round_robin:<login>,<login>,...``.

    Raises:
        InvalidInputError: an unknown kind or a malformed list; the message starts with ``where``.
    """
    kind_text, _, names = text.strip().partition(":")
    try:
        kind = AssignmentRuleKind(kind_text.strip().lower())
    except ValueError:
        known = ", ".join(k.value for k in AssignmentRuleKind)
        raise InvalidInputError(f"{where} {text!r}: unknown rule {kind_text!r}; known: {known}") from None
    reps = tuple(names.split(",")) if names.strip() else ()
    return RuleSpec(kind, reps).checked(where)


def _active_rep(user: User | None) -> bool:
    return user is not None and user.role == Role.REP and user.disabled_at is None


def set_rule(session: Session, *, campaign: Campaign, rule: RuleSpec, now: datetime, actor: str) -> RuleSpec:
    """Give the campaign ``rule`` (replacing a different earlier one; the round robin starts over).

    The campaign's current rule again changes nothing (and audits nothing).

    Raises:
        InvalidInputError: a malformed rule, or a login that is not an active rep (named).
    """
    rule = rule.checked()
    if rules_of(session, campaign_ids=[campaign.id])[campaign.id] == rule:
        return rule
    users = [find_user(session, username=name) for name in rule.reps]
    wrong = [name for name, user in zip(rule.reps, users, strict=True) if not _active_rep(user)]
    if wrong:
        raise InvalidInputError(
            f"assignment {rule}: {', '.join(repr(w) for w in wrong)} is not an active rep "
            "(`dialer users list` shows users and roles)"
        )
    session.execute(delete(AssignmentRule).where(AssignmentRule.campaign_id == campaign.id))
    session.flush()
    if rule.kind != AssignmentRuleKind.NONE:
        session.add(AssignmentRule(campaign_id=campaign.id, kind=rule.kind, turns_taken=0))
        session.flush()
        session.add_all(
            AssignmentRuleRep(campaign_id=campaign.id, position=i, user_id=u.id)  # type: ignore[union-attr]
            for i, u in enumerate(users)
        )
    record_event(
        session,
        kind="campaign.assignment_rule",
        occurred_at=now,
        actor=actor,
        campaign_id=campaign.id,
        payload={"rule": str(rule)},
    )
    session.flush()
    return rule


def rules_of(session: Session, *, campaign_ids: Iterable[int]) -> dict[int, RuleSpec]:
    """The rules of these campaigns in one query (a campaign without a rule: ``none``)."""
    ids = list(campaign_ids)
    found = {i: RuleSpec() for i in ids}
    rows = session.execute(
        select(AssignmentRule.campaign_id, AssignmentRule.kind, User.username)
        .join(AssignmentRuleRep, AssignmentRuleRep.campaign_id == AssignmentRule.campaign_id)
        .join(User, User.id == AssignmentRuleRep.user_id)
        .where(AssignmentRule.campaign_id.in_(ids))
        .order_by(AssignmentRule.campaign_id, AssignmentRuleRep.position)
    )
    for campaign_id, kind, username in rows:
        found[campaign_id] = RuleSpec(kind, (*found[campaign_id].reps, username))
    return found


def _next_rep(session: Session, rule: AssignmentRule) -> User | None:
    turn = 1
    if rule.kind == AssignmentRuleKind.ROUND_ROBIN:  # take the turn first: its row lock orders bookings
        turn = int(
            session.scalar(
                update(AssignmentRule)
                .where(AssignmentRule.campaign_id == rule.campaign_id)
                .values(turns_taken=AssignmentRule.turns_taken + 1)
                .returning(AssignmentRule.turns_taken)
            )
            or 1
        )
    users = session.scalars(
        select(User)
        .join(AssignmentRuleRep, AssignmentRuleRep.user_id == User.id)
        .where(AssignmentRuleRep.campaign_id == rule.campaign_id)
        .order_by(AssignmentRuleRep.position)
    )
    reps = [user for user in users if _active_rep(user)]
    return reps[(turn - 1) % len(reps)] if reps else None


def rep_by_rule(session: Session, *, campaign_id: int) -> tuple[User, AssignmentRuleKind] | None:
    """The rep the campaign's rule gives its next meeting to, and the rule's kind (None: no one).

    A ``round_robin`` turn is taken (and locked to commit) by this call: call it once per meeting
    booked, in the booking's transaction.
    """
    rule = session.get(AssignmentRule, campaign_id)
    if rule is None:
        return None
    rep = _next_rep(session, rule)
    return None if rep is None else (rep, rule.kind)
