"""A deterministic opt-out check on the caller's words, backing up the model (DESIGN rule 5).

Whole-phrase, word-boundary patterns over the normalised transcript, never bare substrings ("stop"
matches "stop calling" and "please stop", not "nonstop"; TUTORIAL_NOTES R33, R34). A false positive
costs one lead; a false negative is a violation, so the list leans inclusive.
"""

from __future__ import annotations

import re

_OPT_OUT_PATTERNS = [
    r"\bstop (calling|call|contacting|phoning|ringing)\b",
    r"\b(don'?t|do not|never) (call|contact|phone|ring)( me| us| this number)?\b",
    r"\btake (me|my (phone )?number|this number|us) off\b",
    r"\bremove (me|my (phone )?number|this number|us)\b",
    r"\bput me on (your|the) do not call\b",
    r"\bdo not call list\b",
    r"\bunsubscribe\b",
    r"\bopt (me )?out\b",
    r"\blose my number\b",
    r"^\W*(stop|please stop|stop please|stop it)\W*$",
]
_COMPILED = [re.compile(p) for p in _OPT_OUT_PATTERNS]


def normalize(text: str) -> str:
    """Lower-case, straight apostrophes, single spaces."""
    return " ".join(text.lower().replace("\u2019", "'").split())


def is_opt_out(transcript: str) -> bool:
    """True when the caller's turn asks not to be called (any pattern above)."""
    text = normalize(transcript)
    return any(p.search(text) for p in _COMPILED)
