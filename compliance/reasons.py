"""Reason codes the compliance gate gives for a block, and the versions of the rules behind them.

A ``GateDecision`` lists every reason that applies, in this enum's order. Codes are stable strings:
they are stored with each decision and read by auditors, so a code is never renamed or reused.
Sources: ``/work/shared/reference/COMPLIANCE_RULES.md`` (the conservative policy CP-1..CP-12 and the
federal rules of section 1).
"""

from __future__ import annotations

from enum import StrEnum


class ReasonCode(StrEnum):
    """Why the gate blocked a call; the value is the code stored with the decision.

    The declaration order is the order reasons are listed in a decision.
    """

    INVALID_NUMBER = "INVALID_NUMBER"
    """Not a valid, canonical E.164 telephone number (phonenumbers ``is_valid_number``)."""

    NON_US_DESTINATION = "NON_US_DESTINATION"
    """A valid number outside the US and its NANP territories (US, PR, GU, VI, AS, MP); CP-11."""

    TZ_UNRESOLVED = "TZ_UNRESOLVED"
    """The number's time zone cannot be resolved (non-geographic or unknown); CP-3."""

    OUTSIDE_CALLING_WINDOW = "OUTSIDE_CALLING_WINDOW"
    """A candidate zone is outside [08:00, 21:00) local; 47 CFR 64.1200(c)(1); 16 CFR 310.4(c); CP-5, CP-6."""

    DNC_INTERNAL = "DNC_INTERNAL"
    """The number is on the seller's internal (company-specific) do-not-call list; 47 CFR 64.1200(d); CP-8."""

    CONSENT_MISSING = "CONSENT_MISSING"
    """No PEWC record (or none dated on or before now); 47 CFR 64.1200(a)(2),(a)(3); FCC 24-17; CP-2."""

    CONSENT_NOT_WRITTEN = "CONSENT_NOT_WRITTEN"
    """Only oral consent or an EBR, which do not suffice for an AI-voice telemarketing call; CP-2."""

    CONSENT_SELLER_MISMATCH = "CONSENT_SELLER_MISMATCH"
    """The PEWC does not name the campaign's seller; 47 CFR 64.1200(f)(9); CP-2."""

    CONSENT_NUMBER_MISMATCH = "CONSENT_NUMBER_MISMATCH"
    """The PEWC does not identify the number being dialed; 47 CFR 64.1200(f)(9); CP-2."""

    CONSENT_NO_ARTIFICIAL_VOICE = "CONSENT_NO_ARTIFICIAL_VOICE"
    """The PEWC does not authorise artificial/prerecorded (AI) voice; 47 CFR 64.1200(f)(9); FCC 24-17."""

    CONSENT_REVOKED = "CONSENT_REVOKED"
    """The consent was revoked, or predates a DNC request; 47 CFR 64.1200(a)(10); CP-8."""

    GATE_ERROR = "GATE_ERROR"
    """The gate raised while deciding; the call is blocked (fail closed, DESIGN.md rule 1)."""


TRANSIENT_REASONS: frozenset[ReasonCode] = frozenset({ReasonCode.OUTSIDE_CALLING_WINDOW})
"""Reasons that pass with time alone: a decision blocked only by these carries ``next_allowed_at``."""

RULESET_VERSION = "2026.11-1"
"""Version of the whole rule set; stored with every decision."""

RULE_VERSIONS: dict[str, str] = {
    "number_validity": "1; phonenumbers is_valid_number on canonical E.164",
    "us_destination": "1; CP-11 (US, PR, GU, VI, AS, MP)",
    "time_zones": "1; CP-3 number NXX zones union address ZIP/state zones; unresolved number zone blocks",
    "federal_calling_window": "1; 47 CFR 64.1200(c)(1); 16 CFR 310.4(c); CP-5 [08:00,21:00) local; CP-6",
    "internal_dnc": "1; 47 CFR 64.1200(d); 16 CFR 310.4(b)(1)(iii)(A); CP-8 honored immediately",
    "consent_pewc": "1; 47 CFR 64.1200(a)(2),(a)(3),(f)(9); FCC 24-17; CP-2; revocation 64.1200(a)(10), CP-8",
}
"""Version and citation of each rule the gate applies, keyed by rule id; stored with every decision."""
