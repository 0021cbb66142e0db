"""Reason codes the compliance gate gives for a block, and warning codes for what does not block.

A ``Decision`` lists every reason that applies (not just the first), in this enum's order. Codes are
stable strings: they are stored with each decision and read by auditors, so a code is never renamed
or reused. Codes named in ``COMPLIANCE_RULES.md`` (``TZ_UNRESOLVED``, ``NON_US_DESTINATION``,
``DNC_SCRUB_STALE``, ``ABANDONMENT_RATE_EXCEEDED``, ``STATE_EMERGENCY_LA``,
``CONSENT_OLDER_THAN_18_MONTHS``) keep those exact names; the document's reason-code table is missing
from our copy, so the other names are ours, each with its source below.
"""

from __future__ import annotations

from enum import StrEnum


class ReasonCode(StrEnum):
    """Why the gate blocked a call; the value is the code stored with the decision.

    The declaration order is the order reasons are listed in a decision.
    """

    FACTS_INVALID = "FACTS_INVALID"
    """A fact the gate needs is malformed or missing (the decision's trace names the field); fail closed,
    DESIGN.md rule 1."""

    INVALID_NUMBER = "INVALID_NUMBER"
    """Not a valid, canonical E.164 telephone number (phonenumbers ``is_valid_number``)."""

    NON_US_DESTINATION = "NON_US_DESTINATION"
    """A valid number outside the US and its NANP territories (US, PR, GU, VI, AS, MP); CP-11."""

    TZ_UNRESOLVED = "TZ_UNRESOLVED"
    """The number's time zone cannot be resolved (non-geographic, unknown, or too many zones); CP-3."""

    OUTSIDE_CALLING_WINDOW = "OUTSIDE_CALLING_WINDOW"
    """A candidate zone is outside [08:00, 21:00) local; 47 CFR 64.1200(c)(1); 16 CFR 310.4(c); CP-5, CP-6."""

    STATE_CALLING_WINDOW = "STATE_CALLING_WINDOW"
    """Outside an applicable state's calling hours for that day, ADAD hours for AI voice included (CP-4,
    CP-7); the rule's statute is in the trace (e.g. Tex. Bus. & Com. Code 301.051)."""

    STATE_DAY_PROHIBITED = "STATE_DAY_PROHIBITED"
    """An applicable state bans such calls on this day of the week (e.g. Sundays in AL, LA, MS, RI, UT;
    weekends for Maine ADAD calls); CP-4."""

    STATE_HOLIDAY = "STATE_HOLIDAY"
    """A state legal holiday (actual or observed date, CP-12) or Pennsylvania's Saturday-afternoon
    half-holiday (44 P.S. 11) in an applicable state; CP-4."""

    FREQUENCY_CAP_EXCEEDED = "FREQUENCY_CAP_EXCEEDED"
    """An applicable state's cap on attempts is reached (Fla. Stat. 501.616(6), 15 O.S. 775C.2,
    Md. Com. Law 14-4502: 3 per rolling 24 h on the same subject; 10 MRSA 1498: 1 per 8 h); every
    channel counts (CP-9)."""

    STATE_EMERGENCY_LA = "STATE_EMERGENCY_LA"
    """Louisiana is applicable and a declared emergency bans telephonic solicitation (La. R.S. 45:844.31);
    CP-10."""

    STATE_EMERGENCY = "STATE_EMERGENCY"
    """Another applicable state's declared emergency bans solicitation calls: an ``emergency_ban``
    row of the rule data whose flag is in force or unknown (CP-10 applied to that state)."""

    DNC_NATIONAL = "DNC_NATIONAL"
    """On the national DNC registry with no PEWC naming the seller and number and no EBR; 47 CFR
    64.1200(c)(2); 16 CFR 310.4(b)(1)(iii)(B)."""

    DNC_STATE = "DNC_STATE"
    """On a state's own DNC list with no PEWC naming the seller and number (e.g. Tex. Bus. & Com. Code
    304.052; Fla. Stat. 501.059); the exemption follows 47 CFR 64.1200(c)(2)(ii)."""

    DNC_INTERNAL = "DNC_INTERNAL"
    """The number is on the seller's internal (company-specific) do-not-call list and no PEWC was given
    after the request; 47 CFR 64.1200(d); 16 CFR 310.4(b)(1)(iii)(A); CP-8."""

    DNC_SCRUB_STALE = "DNC_SCRUB_STALE"
    """The national DNC data used is older than 31 days, or its age is unknown; 47 CFR
    64.1200(c)(2)(i)(D); 16 CFR 310.4(b)(3)(iv); CP-10."""

    ABANDONMENT_RATE_EXCEEDED = "ABANDONMENT_RATE_EXCEEDED"
    """The campaign abandoned more than 3 % of live-answered calls in the last 30 days; 47 CFR
    64.1200(a)(7); 16 CFR 310.4(b)(4)(i); CP-10."""

    CONSENT_MISSING = "CONSENT_MISSING"
    """No PEWC (or none obtained at or before now); 47 CFR 64.1200(a)(2),(a)(3); FCC 24-17; CP-2."""

    CONSENT_NOT_WRITTEN = "CONSENT_NOT_WRITTEN"
    """Only oral consent (or an EBR), which do not suffice for an AI-voice telemarketing call; CP-2."""

    CONSENT_SELLER_MISMATCH = "CONSENT_SELLER_MISMATCH"
    """The PEWC does not name the campaign's seller; 47 CFR 64.1200(f)(9); CP-2."""

    CONSENT_NUMBER_MISMATCH = "CONSENT_NUMBER_MISMATCH"
    """The PEWC does not identify the number being dialed; 47 CFR 64.1200(f)(9); CP-2."""

    CONSENT_NO_ARTIFICIAL_VOICE = "CONSENT_NO_ARTIFICIAL_VOICE"
    """The PEWC does not authorise artificial/prerecorded (AI) voice; 47 CFR 64.1200(f)(9); FCC 24-17."""

    CONSENT_REVOKED = "CONSENT_REVOKED"
    """The consent was revoked, or predates a DNC request; 47 CFR 64.1200(a)(10); CP-8."""

    NUMBER_REASSIGNED = "NUMBER_REASSIGNED"
    """The Reassigned Numbers Database reports the number permanently disconnected since the consent
    date, so the consent was given by someone else; 47 CFR 64.1200(m)."""

    GATE_ERROR = "GATE_ERROR"
    """The gate raised while deciding; the call is blocked (fail closed, DESIGN.md rule 1)."""


class WarningCode(StrEnum):
    """Remarks on a decision that do not block it."""

    CONSENT_OLDER_THAN_18_MONTHS = "CONSENT_OLDER_THAN_18_MONTHS"
    """The PEWC relied on is more than 18 months old: still valid, but worth refreshing."""

    PEWC_EXEMPTION_IGNORED_BY_POLICY = "PEWC_EXEMPTION_IGNORED_BY_POLICY"
    """Blocked only by time rules that arguably do not bind consented calls (47 CFR 64.1200(f)(15); Utah
    13-25a-103(3)); CP-6 applies them anyway (COMPLIANCE_RULES 0.1 item 3, open question 2)."""

    PURPOSE_TREATED_AS_TELEMARKETING = "PURPOSE_TREATED_AS_TELEMARKETING"
    """The campaign declares another purpose; CP-1 treats every call as telemarketing."""

    VOICE_TREATED_AS_ARTIFICIAL = "VOICE_TREATED_AS_ARTIFICIAL"
    """The campaign declares a live voice; CP-1 treats every call as AI/artificial voice (FCC 24-17)."""

    EBR_DOES_NOT_REPLACE_PEWC = "EBR_DOES_NOT_REPLACE_PEWC"
    """An EBR is on file but an AI-voice telemarketing call still needs PEWC (47 CFR 64.1200(a)(2))."""

    RND_NOT_QUERIED = "RND_NOT_QUERIED"
    """No Reassigned Numbers Database result on file: the 64.1200(m) safe harbor is not available."""

    RND_NO_DATA = "RND_NO_DATA"
    """The Reassigned Numbers Database had no data for the number (no safe harbor; 47 CFR 64.1200(m))."""

    RND_QUERY_STALE = "RND_QUERY_STALE"
    """The RND result predates the latest monthly RND update (more than 31 days old)."""

    STATE_AI_VOICE_COUNSEL_REVIEW = "STATE_AI_VOICE_COUNSEL_REVIEW"
    """An applicable state restricts recorded/automated sales messages in a way that may reach an AI
    agent (CA Pub. Util. Code 2874, WA RCW 80.36.400, WY 40-12-303); COMPLIANCE_RULES 2.2, 6.1."""

    NATIONAL_DNC_EXEMPT_BY_PEWC = "NATIONAL_DNC_EXEMPT_BY_PEWC"
    """On the national DNC registry, exempt by a PEWC naming the seller and number (64.1200(c)(2)(ii))."""

    NATIONAL_DNC_EXEMPT_BY_EBR = "NATIONAL_DNC_EXEMPT_BY_EBR"
    """On the national DNC registry, exempt by an established business relationship (64.1200(f)(5))."""

    STATE_DNC_EXEMPT_BY_PEWC = "STATE_DNC_EXEMPT_BY_PEWC"
    """On a state DNC list, exempt by a PEWC naming the seller and number."""

    NO_COMMON_WINDOW_IN_LOOKAHEAD = "NO_COMMON_WINDOW_IN_LOOKAHEAD"
    """Blocked only by time rules, but no instant within the lookahead passes them all."""


TRANSIENT_REASONS: frozenset[ReasonCode] = frozenset(
    {
        ReasonCode.OUTSIDE_CALLING_WINDOW,
        ReasonCode.STATE_CALLING_WINDOW,
        ReasonCode.STATE_DAY_PROHIBITED,
        ReasonCode.STATE_HOLIDAY,
        ReasonCode.FREQUENCY_CAP_EXCEEDED,
    }
)
"""Reasons that pass with time alone: a decision blocked only by these carries ``next_allowed_at``."""


def ordered(codes: set[ReasonCode]) -> tuple[ReasonCode, ...]:
    """Reason codes in declaration order (the order a decision lists them)."""
    return tuple(code for code in ReasonCode if code in codes)
