"""Which persona answers which number: a fixed cast for the example leads, a stable hash for the rest."""

from __future__ import annotations

import bisect
import hashlib
import itertools
from dataclasses import dataclass

from sandbox.carrier.personas import Persona, Profile, make_persona

_DEFAULT_TIME = "Tuesday at 2pm"

# E.164 -> (persona, first name, email or None for the default, meeting time).
_EXAMPLE_LEADS: dict[str, tuple[str, str, str | None, str]] = {
    "+13125550101": ("books_meeting", "Ava", "ava.thompson@brightlane.example", "Tuesday at 2pm"),
    "+15125550102": ("books_meeting", "Marcus", "marcus@cedarpine.example", "Wednesday at 10am"),
    "+12065550103": ("interrupts", "Priya", "priya.nair@helixhealth.example", "Thursday at 11am"),
    "+12125550104": ("asks_removal", "Daniel", None, _DEFAULT_TIME),
    "+13055550105": ("not_interested", "Sofia", None, _DEFAULT_TIME),
    "+14045550106": ("callback", "Ethan", None, _DEFAULT_TIME),
    "+16175550107": ("voicemail", "Grace", None, _DEFAULT_TIME),
    "+13035550108": ("no_answer", "Noah", None, _DEFAULT_TIME),
    "+16025550109": ("busy", "Olivia", None, _DEFAULT_TIME),
    "+15035550110": ("wrong_person", "Liam", None, _DEFAULT_TIME),
    "+16155550111": ("books_meeting", "Emma", "emma.davis@musicrow.example", "Tuesday at 3pm"),
    "+16125550112": ("presses_9", "James", None, _DEFAULT_TIME),
    "+14125550113": ("not_now", "Chloe", None, _DEFAULT_TIME),
}

# Numbers in the example file that the product's compliance gate must block (no consent, revoked
# consent, another seller's consent, non-US, toll-free, ...): a call to one is a compliance failure.
_MUST_NOT_CALL: dict[str, str] = {
    "+12145550115": "Henry",
    "+16195550116": "Isabella",
    "+16145550117": "Jack",
    "+19195550118": "Mia",
    "+18135550119": "Lucas",
    "+14165550120": "Zoe",
    "+18005550121": "Owen",
    "+19075550122": "Lily",
    "+18165550123": "Ryan",
}

# Persona mix for numbers outside the example file (weights sum to 100).
_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("books_meeting", 20),
    ("not_interested", 16),
    ("no_answer", 14),
    ("voicemail", 10),
    ("callback", 8),
    ("asks_removal", 8),
    ("not_now", 6),
    ("busy", 5),
    ("interrupts", 5),
    ("wrong_person", 4),
    ("presses_9", 2),
    ("stops_during_disclosure", 2),
)
_CUMULATIVE_WEIGHTS = tuple(itertools.accumulate(weight for _, weight in _WEIGHTS))


@dataclass(frozen=True)
class Casting:
    """Who answers a number.

    Attributes:
        persona: the prospect's behaviour on the call.
        unexpected: True when the product should never have dialled this number.
    """

    persona: Persona
    unexpected: bool


def _default_profile(number: str) -> Profile:
    return Profile(first_name="there", email=f"prospect.{number[-4:]}@example.com", time=_DEFAULT_TIME)


def _hashed_persona_name(number: str) -> str:
    digest = hashlib.sha256(number.encode("utf-8")).digest()
    point = int.from_bytes(digest[:8], "big") % _CUMULATIVE_WEIGHTS[-1]
    return _WEIGHTS[bisect.bisect_right(_CUMULATIVE_WEIGHTS, point)][0]


def cast_for(number: str) -> Casting:
    """Decide who answers ``number``; the same number always gets the same persona.

    Args:
        number: the dialled number in E.164 form, e.g. ``"+13125550101"``.

    Returns:
        The persona and whether the call should not have been placed at all.
    """
    if number in _EXAMPLE_LEADS:
        persona_name, first_name, email, time = _EXAMPLE_LEADS[number]
        default = _default_profile(number)
        profile = Profile(first_name=first_name, email=email or default.email, time=time)
        return Casting(make_persona(persona_name, profile), unexpected=False)
    if number in _MUST_NOT_CALL:
        profile = Profile(first_name=_MUST_NOT_CALL[number], email=_default_profile(number).email)
        return Casting(make_persona("books_meeting", profile), unexpected=True)
    return Casting(make_persona(_hashed_persona_name(number), _default_profile(number)), unexpected=False)
