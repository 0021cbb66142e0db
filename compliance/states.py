"""US states, DC and the inhabited territories: the one table of their USPS codes and names.

Everything that names a state reads it from here: lead imports (``IL``, ``Illinois``, ``N.Y.``),
the number geocoder's descriptions (``"Illinois"``, ``"Washington State"``) and the rule data
(``state_rules.toml`` keys its states by these codes and refuses any other).
"""

from __future__ import annotations

import re

STATE_NAMES: dict[str, str] = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "DC": "District of Columbia",
    "FL": "Florida",
    "GA": "Georgia",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": "Louisiana",
    "ME": "Maine",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": "Mississippi",
    "MO": "Missouri",
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": "New Hampshire",
    "NJ": "New Jersey",
    "NM": "New Mexico",
    "NY": "New York",
    "NC": "North Carolina",
    "ND": "North Dakota",
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": "Oregon",
    "PA": "Pennsylvania",
    "RI": "Rhode Island",
    "SC": "South Carolina",
    "SD": "South Dakota",
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": "West Virginia",
    "WI": "Wisconsin",
    "WY": "Wyoming",
    "PR": "Puerto Rico",
    "GU": "Guam",
    "VI": "U.S. Virgin Islands",
    "AS": "American Samoa",
    "MP": "Northern Mariana Islands",
}
"""The 50 states, DC and the five inhabited territories (the places the dialer may call)."""

TERRITORIES: frozenset[str] = frozenset({"PR", "GU", "VI", "AS", "MP"})
"""The inhabited territories: callable, but no state calling rules apply to them."""

_EXTRA_NAMES = {
    "washington dc": "DC",
    "washington d c": "DC",
    "d c": "DC",
    "virgin islands": "VI",
    "us virgin islands": "VI",
    "united states virgin islands": "VI",
    "northern marianas": "MP",
    "commonwealth of puerto rico": "PR",
    "washington state": "WA",  # the phonenumbers geocoder's name for WA area codes
}


def _key(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.casefold()).split())


_LOOKUP: dict[str, str] = {
    **{_key(code): code for code in STATE_NAMES},
    **{_key(name): code for code, name in STATE_NAMES.items()},
    **_EXTRA_NAMES,
}


def state_code(text: str) -> str | None:
    """The USPS code for a code or name (any case, dots and extra spaces ignored), or None.

    ``"il"``, ``"N.Y."``, ``"Illinois"``, ``"Washington D.C."`` -> ``"IL"``, ``"NY"``, ``"IL"``,
    ``"DC"``; None for anything that is not a state, DC or an inhabited territory.
    """
    key = _key(text)
    compact = key.replace(" ", "").upper()
    if len(compact) == 2 and compact in STATE_NAMES:  # "il", "N.Y."
        return compact
    return _LOOKUP.get(key)
