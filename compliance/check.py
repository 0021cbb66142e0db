"""Checking a document of cases against the gate, for auditors and integrations.

The input is ``{"cases": [{"id": str, "lead": {...}, "campaign": {...}, "attempt_utc": "...Z"}]}``
(the ``lead`` / ``campaign`` schema is ``compliance.facts.parse_call_facts``'s; README, "Compliance
check"). Each case yields one result line ``{"id", "decision", "reason_codes", "warnings",
"next_allowed_at"}``, plus ``errors`` when a fact was malformed and ``trace`` on request. A malformed
case is answered with a block, never skipped; only a document that is not a ``cases`` list at all is
refused (``CheckDocumentError``). The same ``evaluate`` decides here and in the dial task.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

from compliance.errors import ComplianceError
from compliance.facts import FactError
from compliance.facts_json import parse_call_facts, parse_instant
from compliance.gate import evaluate
from compliance.policy import Policy
from compliance.reasons import ReasonCode

_CASE_KEYS = frozenset({"id", "lead", "campaign", "attempt_utc"})


class CheckDocumentError(ComplianceError):
    """The document is not JSON, or not ``{"cases": [...]}``; the message says where."""


def load_document(text: str, *, origin: str) -> list[Any]:
    """Decode a check document and return its ``cases`` list.

    Raises:
        CheckDocumentError: invalid JSON (with line and column), no top-level object, or no ``cases`` list.
    """
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CheckDocumentError(f"{origin}: line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("cases"), list):
        raise CheckDocumentError(f'{origin}: expected an object {{"cases": [...]}}')
    unknown = sorted(set(doc) - {"cases"})
    if unknown:
        raise CheckDocumentError(f"{origin}: unknown top-level field(s) {unknown}")
    return doc["cases"]


def check_case(case: object, index: int, policy: Policy | None, *, trace: bool = False) -> dict[str, Any]:
    """Decide one case; a malformed case is a block with ``FACTS_INVALID`` and its ``errors``.

    Args:
        case: one element of ``cases``.
        index: its position, for error paths (``cases[3].lead.phone_e164``).
        policy: None for the conservative policy.
        trace: include the decision's trace, rule-data version and zones/states.

    Returns:
        The result line as a dict.
    """
    prefix = f"cases[{index}]"
    if not isinstance(case, dict):
        return _invalid(None, [FactError(prefix, f"expected an object, got {type(case).__name__}")])
    case_id = case.get("id")
    errors = [FactError(f"{prefix}.{k}", "unknown field") for k in sorted(set(case) - _CASE_KEYS)]
    if not isinstance(case_id, str) or not case_id:
        errors.append(FactError(f"{prefix}.id", "required: a non-empty string"))
        case_id = None
    try:
        at = parse_instant(case.get("attempt_utc"))
    except ValueError as exc:
        return _invalid(case_id, [*errors, FactError(f"{prefix}.attempt_utc", str(exc))])
    facts = parse_call_facts(case.get("lead"), case.get("campaign"), path=f"{prefix}.")
    if errors:
        facts = dataclasses.replace(facts, errors=(*errors, *facts.errors))
    decision = evaluate(facts, policy, at)
    line: dict[str, Any] = {"id": case_id, **decision.summary()}
    if facts.errors:
        line["errors"] = [str(e) for e in facts.errors]
    if trace:
        full = decision.to_dict()
        for key in ("evaluated_at", "rule_data_version", "zones", "states", "trace"):
            line[key] = full[key]
    return line


def _invalid(case_id: str | None, errors: list[FactError]) -> dict[str, Any]:
    return {
        "id": case_id,
        "decision": "block",
        "reason_codes": [str(ReasonCode.FACTS_INVALID)],
        "warnings": [],
        "next_allowed_at": None,
        "errors": [str(e) for e in errors],
    }


def check_cases(cases: list[Any], policy: Policy | None, *, trace: bool = False) -> Iterator[dict[str, Any]]:
    """Decide every case in order (see ``check_case``)."""
    for index, case in enumerate(cases):
        yield check_case(case, index, policy, trace=trace)
