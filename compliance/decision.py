"""The gate's answer: allow or block, every reason, warnings, when to retry, and the trace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from compliance.facts import iso
from compliance.reasons import ReasonCode, WarningCode


@dataclass(frozen=True, slots=True)
class RuleCheck:
    """One rule the gate checked, for the trace an auditor reads.

    Attributes:
        rule: rule id, with the clock for time rules (``"TX.window.1@America/Chicago"``).
        citation: the rule's source (``"47 CFR 64.1200(c)(2)"``, ``"CP-11"``).
        inputs: the facts the rule looked at, as plain JSON.
        result: ``pass``, ``block`` or ``warn``.
        reason_codes: the codes it contributes (block) or its warnings (warn).
        detail: what was compared, in words.
    """

    rule: str
    citation: str
    inputs: dict[str, Any]
    result: str
    reason_codes: tuple[str, ...] = ()
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "rule": self.rule,
            "citation": self.citation,
            "inputs": self.inputs,
            "result": self.result,
            "reason_codes": list(self.reason_codes),
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether one call may be placed at ``evaluated_at``.

    Attributes:
        decision: ``"allow"`` or ``"block"``.
        reason_codes: every reason that blocks, in ``ReasonCode`` order; empty when allowed.
        warnings: remarks that do not block (``WarningCode`` values), in the order found.
        next_allowed_at: for a block caused only by time, day, holiday or a cap, the earliest instant
            (UTC) at which the same facts pass; else None.
        trace: every rule checked, with inputs, result and citation.
        rule_data_version: ``Policy.version`` of the rules applied.
        evaluated_at: the decision instant (UTC).
        zones: the candidate zones (CP-3); empty when unresolved.
        states: the applicable states (CP-4).
        facts: the facts decided on (``CallFacts.to_dict()``), so the decision can be replayed.
    """

    decision: str
    reason_codes: tuple[ReasonCode, ...]
    warnings: tuple[str, ...]
    next_allowed_at: datetime | None
    trace: tuple[RuleCheck, ...]
    rule_data_version: str
    evaluated_at: datetime
    zones: tuple[str, ...]
    states: tuple[str, ...]
    facts: dict[str, Any]

    @property
    def allowed(self) -> bool:
        """True for ``"allow"``."""
        return self.decision == "allow"

    def summary(self) -> dict[str, Any]:
        """The check command's line: ``decision``, ``reason_codes``, ``warnings``, ``next_allowed_at``."""
        return {
            "decision": self.decision,
            "reason_codes": [str(r) for r in self.reason_codes],
            "warnings": list(self.warnings),
            "next_allowed_at": iso(self.next_allowed_at),
        }

    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-ready: the summary plus trace, versions, zones, states and facts."""
        return {
            **self.summary(),
            "evaluated_at": iso(self.evaluated_at),
            "rule_data_version": self.rule_data_version,
            "zones": list(self.zones),
            "states": list(self.states),
            "trace": [c.to_dict() for c in self.trace],
            "facts": self.facts,
        }


class Findings:
    """Collects a decision's checks as the rules run: reasons, warnings (each once, in order), trace."""

    def __init__(self) -> None:
        self.reasons: set[ReasonCode] = set()
        self.warnings: list[str] = []
        self.trace: list[RuleCheck] = []

    def check(
        self,
        rule: str,
        citation: str,
        inputs: dict[str, Any],
        *,
        block: tuple[ReasonCode, ...] = (),
        warn: tuple[WarningCode, ...] = (),
        detail: str = "",
    ) -> None:
        """Record one rule's result: it blocks with ``block``, warns with ``warn``, else passes."""
        self.reasons.update(block)
        self.warnings += [str(w) for w in warn if str(w) not in self.warnings]
        result = "block" if block else "warn" if warn else "pass"
        codes = tuple(str(c) for c in (block or warn))
        self.trace.append(RuleCheck(rule, citation, inputs, result, codes, detail))
