"""The compliance gate: pure decisions on whether one outbound AI-voice call may be placed now.

Contract:

* ``evaluate(gate_input, now=...)`` takes plain facts gathered at dial time (``GateInput``: the number,
  the seller, the lead's address, its consent records and DNC entries) and an aware instant, and
  returns a ``GateDecision``. No database, network or clock is touched: ``now`` is always an argument.
* It fails closed (DESIGN.md rule 1): whatever cannot be decided blocks (an unresolvable time zone,
  missing consent), and any exception while deciding becomes a block with ``GATE_ERROR``.
* A decision lists every blocking ``ReasonCode`` (in enum order), the candidate time zones, the next
  instant the call could pass when every reason is transient, the rule versions, and the facts it
  used; ``replay(decision.facts, decided_at=...)`` reproduces it for an auditor.
* Rules of this version: valid canonical E.164; US destination (CP-11); time zones = the number's
  NXX zones union the address zones (CP-3); the federal window [08:00, 21:00) local in every zone
  (47 CFR 64.1200(c)(1); 16 CFR 310.4(c); CP-5, CP-6); the internal DNC list (47 CFR 64.1200(d);
  CP-8); prior express written consent for an artificial voice (47 CFR 64.1200(a)(2),(a)(3),(f)(9);
  FCC 24-17; CP-2). Policy references are to ``COMPLIANCE_RULES.md`` section 0.
"""

from compliance.facts import ConsentFact, DncFact, GateDecision, GateInput
from compliance.gate import evaluate, replay
from compliance.numbers import NormalizedPhone, PhoneNumberError, normalize_phone
from compliance.reasons import RULESET_VERSION, TRANSIENT_REASONS, ReasonCode
from compliance.zones import candidate_time_zones

__all__ = [
    "RULESET_VERSION",
    "TRANSIENT_REASONS",
    "ConsentFact",
    "DncFact",
    "GateDecision",
    "GateInput",
    "NormalizedPhone",
    "PhoneNumberError",
    "ReasonCode",
    "candidate_time_zones",
    "evaluate",
    "normalize_phone",
    "replay",
]
