"""The compliance gate: pure decisions on whether one outbound AI-voice call may be placed now.

Contract:

* ``evaluate(facts, policy, at)`` takes plain facts (``CallFacts``: the lead's number, line type,
  address, consent records, EBR, DNC memberships, call history on every channel and RND answer; the
  campaign's seller, subject, DNC data age, abandonment rate and the Louisiana emergency flag), a
  ``Policy`` (None = the conservative policy, CP-1 .. CP-12 of COMPLIANCE_RULES.md) and an aware
  instant, and returns a ``Decision``. No database, network or clock is touched.
* A decision lists every blocking ``ReasonCode``, the ``WarningCode``s, ``next_allowed_at`` for a block
  caused only by time, day, holiday or a cap, and a trace of every rule checked with its inputs, result
  and citation, plus the rule-data version. ``replay`` re-evaluates a stored decision.
* It fails closed (DESIGN.md rule 1): malformed facts block with ``FACTS_INVALID``; an exception while
  deciding becomes a block with ``GATE_ERROR``.
* The rules are data: ``compliance/data/state_rules.toml`` (federal and state windows, banned days,
  holidays, caps, flags, each with its citation) and ``compliance/data/holidays.toml`` (holiday
  calendars computed for any year).
* ``dialer compliance check`` and the dial task both call ``evaluate``: there is no second
  implementation. ``compliance.dnc_registry`` holds the national DNC registry as a memory-mapped bitmap.
"""

from compliance.consent import normalize_seller_name, same_seller
from compliance.decision import Decision, RuleCheck
from compliance.errors import ComplianceError
from compliance.facts import (
    Address,
    CallFacts,
    CampaignFacts,
    Consent,
    Ebr,
    FactError,
    HistoryEntry,
    LeadFacts,
    RndResult,
)
from compliance.facts_json import call_facts_from_dict, parse_call_facts
from compliance.gate import calling_time_blocks, error_decision, evaluate, replay
from compliance.numbers import NormalizedPhone, PhoneNumberError, normalize_phone
from compliance.policy import Policy, conservative_policy
from compliance.reasons import TRANSIENT_REASONS, ReasonCode, WarningCode

__all__ = [
    "TRANSIENT_REASONS",
    "Address",
    "CallFacts",
    "CampaignFacts",
    "ComplianceError",
    "Consent",
    "Decision",
    "Ebr",
    "FactError",
    "HistoryEntry",
    "LeadFacts",
    "NormalizedPhone",
    "PhoneNumberError",
    "Policy",
    "ReasonCode",
    "RndResult",
    "RuleCheck",
    "WarningCode",
    "call_facts_from_dict",
    "calling_time_blocks",
    "conservative_policy",
    "error_decision",
    "evaluate",
    "normalize_phone",
    "normalize_seller_name",
    "parse_call_facts",
    "replay",
    "same_seller",
]
