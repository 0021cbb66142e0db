"""Every rule of compliance/data/state_rules.toml through the public gate, at its edges.

Each case names the rule's citation in its test id. Instants are local wall times in the lead's zone
(number and address in the same state and zone, so exactly one zone applies). The reference week
Mon 2026-06-22 .. Sun 2026-06-28 has no holiday in any calendar; holiday cases use their 2026 dates
(COMPLIANCE_RULES.md 4.2), actual and observed (CP-12).
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from compliance import conservative_policy, evaluate
from compliance.facts_json import parse_call_facts
from compliance.reasons import WarningCode
from compliance.state_rules import DEFAULT_RULES_PATH, parse_rule_table
from tests.compliance.gate_cases import (
    LOCS,
    MON,
    SAT,
    SUN,
    WINTER_MON,
    WINTER_SAT,
    R,
    assert_allowed,
    assert_blocked_by,
    attempt,
    attempts_before,
    campaign,
    decide,
    lead,
    lead_in,
    local,
    utc,
)

FED = R.OUTSIDE_CALLING_WINDOW
WIN = R.STATE_CALLING_WINDOW
DAY = R.STATE_DAY_PROHIBITED
HOL = R.STATE_HOLIDAY


def case(test_id: str, state: str, day: date, hms: tuple[int, int, int], expected=(), citation=None):
    return pytest.param(state, day, hms, frozenset(expected), citation, id=test_id)


WINDOW_CASES = [
    # Federal window, CP-5 half-open (NY has nothing stricter).
    case("47 CFR 64.1200(c)(1) NY 07:59:59 blocked", "NY", MON, (7, 59, 59), {FED}, "47 CFR 64.1200(c)(1)"),
    case("47 CFR 64.1200(c)(1) NY 08:00:00 allowed", "NY", MON, (8, 0, 0)),
    case("47 CFR 64.1200(c)(1) NY 20:59:59 allowed", "NY", MON, (20, 59, 59)),
    case("47 CFR 64.1200(c)(1) NY 21:00:00 blocked", "NY", MON, (21, 0, 0), {FED}, "47 CFR 64.1200(c)(1)"),
    case("47 CFR 64.1200(c)(1) NY sunday 08:00 allowed", "NY", SUN, (8, 0, 0)),
    case("47 CFR 64.1200(c)(1) WY 21:00 blocked", "WY", MON, (21, 0, 0), {FED}, "47 CFR 64.1200(c)(1)"),
    # AL
    case("Ala 770-X-5-.17 mon 07:59:59 blocked", "AL", MON, (7, 59, 59), {FED, WIN}, "770-X-5-.17"),
    case("Ala 770-X-5-.17 mon 08:00 allowed", "AL", MON, (8, 0, 0)),
    case("Ala 770-X-5-.17 mon 19:59:59 allowed", "AL", MON, (19, 59, 59)),
    case("Ala 770-X-5-.17 mon 20:00 blocked", "AL", MON, (20, 0, 0), {WIN}, "770-X-5-.17"),
    case("Ala 770-X-5-.17 sat 19:59:59 allowed", "AL", SAT, (19, 59, 59)),
    case("Ala 770-X-5-.17 sat 20:00 blocked", "AL", SAT, (20, 0, 0), {WIN}, "770-X-5-.17"),
    case("Ala 770-X-5-.17 sunday noon blocked", "AL", SUN, (12, 0, 0), {DAY}, "770-X-5-.17"),
    # CA ADAD hours (CP-7)
    case("Cal PUC 2871-2874 08:59:59 blocked", "CA", MON, (8, 59, 59), {WIN}, "Cal. Pub. Util. Code 2871"),
    case("Cal PUC 2871-2874 09:00 allowed", "CA", MON, (9, 0, 0)),
    case("Cal PUC 2871-2874 20:59:59 allowed", "CA", MON, (20, 59, 59)),
    case("Cal PUC 2871-2874 21:00 blocked", "CA", MON, (21, 0, 0), {FED, WIN}, "Cal. Pub. Util. Code 2871"),
    case("Cal PUC 2871-2874 sunday 09:00 allowed", "CA", SUN, (9, 0, 0)),
    # CT
    case("Conn 42-288a 08:59:59 blocked", "CT", MON, (8, 59, 59), {WIN}, "42-288a"),
    case("Conn 42-288a 09:00 allowed", "CT", MON, (9, 0, 0)),
    case("Conn 42-288a 19:59:59 allowed", "CT", MON, (19, 59, 59)),
    case("Conn 42-288a 20:00 blocked", "CT", SUN, (20, 0, 0), {WIN}, "42-288a"),
    # FL
    case("Fla 501.616(6) 07:59:59 blocked", "FL", MON, (7, 59, 59), {FED, WIN}, "Fla. Stat. 501.616(6)"),
    case("Fla 501.616(6) 08:00 allowed", "FL", MON, (8, 0, 0)),
    case("Fla 501.616(6) 19:59:59 allowed", "FL", SUN, (19, 59, 59)),
    case("Fla 501.616(6) 20:00 blocked", "FL", MON, (20, 0, 0), {WIN}, "Fla. Stat. 501.616(6)"),
    # IL ADAD hours
    case("815 ILCS 305 08:59:59 blocked", "IL", MON, (8, 59, 59), {WIN}, "815 ILCS 305"),
    case("815 ILCS 305 09:00 allowed", "IL", MON, (9, 0, 0)),
    case("815 ILCS 305 20:59:59 allowed", "IL", MON, (20, 59, 59)),
    case("815 ILCS 305 21:00 blocked", "IL", MON, (21, 0, 0), {FED, WIN}, "815 ILCS 305"),
    # KY
    case("KRS 367.461 09:59:59 blocked", "KY", MON, (9, 59, 59), {WIN}, "KRS 367.461"),
    case("KRS 367.461 10:00 allowed", "KY", MON, (10, 0, 0)),
    case("KRS 367.461 20:59:59 allowed", "KY", MON, (20, 59, 59)),
    case("KRS 367.461 21:00 blocked", "KY", MON, (21, 0, 0), {FED, WIN}, "KRS 367.461"),
    # LA
    case("La RS 45:811 mon 07:59:59 blocked", "LA", MON, (7, 59, 59), {FED, WIN}, "La. R.S. 45:811"),
    case("La RS 45:811 mon 08:00 allowed", "LA", MON, (8, 0, 0)),
    case("La RS 45:811 sat 19:59:59 allowed", "LA", SAT, (19, 59, 59)),
    case("La RS 45:811 mon 20:00 blocked", "LA", MON, (20, 0, 0), {WIN}, "La. R.S. 45:811"),
    case("La RS 45:811 sunday noon blocked", "LA", SUN, (12, 0, 0), {DAY}, "La. R.S. 45:811"),
    # MA
    case("201 CMR 12.02 07:59:59 blocked", "MA", MON, (7, 59, 59), {FED, WIN}, "201 CMR 12.02"),
    case("201 CMR 12.02 08:00 allowed", "MA", MON, (8, 0, 0)),
    case("201 CMR 12.02 19:59:59 allowed", "MA", MON, (19, 59, 59)),
    case("201 CMR 12.02 20:00 blocked", "MA", MON, (20, 0, 0), {WIN}, "201 CMR 12.02"),
    # MD
    case("Md Com Law 14-4502 07:59:59 blocked", "MD", MON, (7, 59, 59), {FED, WIN}, "14-4502"),
    case("Md Com Law 14-4502 08:00 allowed", "MD", MON, (8, 0, 0)),
    case("Md Com Law 14-4502 19:59:59 allowed", "MD", MON, (19, 59, 59)),
    case("Md Com Law 14-4502 20:00 blocked", "MD", MON, (20, 0, 0), {WIN}, "14-4502"),
    # ME ADAD: weekdays 9-17 only (CP-7)
    case("10 MRSA 1498 mon 08:59:59 blocked", "ME", MON, (8, 59, 59), {WIN}, "10 MRSA 1498"),
    case("10 MRSA 1498 mon 09:00 allowed", "ME", MON, (9, 0, 0)),
    case("10 MRSA 1498 fri 16:59:59 allowed", "ME", MON + timedelta(days=4), (16, 59, 59)),
    case("10 MRSA 1498 mon 17:00 blocked", "ME", MON, (17, 0, 0), {WIN}, "10 MRSA 1498"),
    case("10 MRSA 1498 saturday noon blocked", "ME", SAT, (12, 0, 0), {DAY}, "10 MRSA 1498"),
    case("10 MRSA 1498 sunday noon blocked", "ME", SUN, (12, 0, 0), {DAY}, "10 MRSA 1498"),
    # MI, MN
    case("MCL 445.111 08:59:59 blocked", "MI", MON, (8, 59, 59), {WIN}, "MCL 445.111"),
    case("MCL 445.111 09:00 allowed", "MI", MON, (9, 0, 0)),
    case("MCL 445.111 21:00 blocked", "MI", MON, (21, 0, 0), {FED, WIN}, "MCL 445.111"),
    case("Minn 325E.26 08:59:59 blocked", "MN", MON, (8, 59, 59), {WIN}, "325E.26"),
    case("Minn 325E.26 09:00 allowed", "MN", MON, (9, 0, 0)),
    case("Minn 325E.26 20:59:59 allowed", "MN", MON, (20, 59, 59)),
    # MS literal "Central Standard Time" (fixed UTC-6) and local time, both applied.
    case("Miss 77-3-723 CST dst 08:30 CDT blocked", "MS", MON, (8, 30, 0), {WIN}, "Central Standard Time"),
    case(
        "Miss 77-3-723 CST dst 08:59:59 CDT blocked", "MS", MON, (8, 59, 59), {WIN}, "Central Standard Time"
    ),
    case("Miss 77-3-723 CST dst 09:00 CDT allowed", "MS", MON, (9, 0, 0)),
    case("Miss 77-3-723 CST dst 19:59 CDT allowed", "MS", MON, (19, 59, 0)),
    case("Miss 77-3-723 CST dst 20:00 CDT blocked", "MS", MON, (20, 0, 0), {WIN}, "Miss. Code 77-3-723"),
    case("Miss 77-3-723 CST dst sat 09:00 CDT allowed", "MS", SAT, (9, 0, 0)),
    case("Miss 77-3-723 sunday noon blocked", "MS", SUN, (12, 0, 0), {DAY}, "Miss. Code 77-3-723"),
    case("Miss 77-3-723 winter 07:59:59 CST blocked", "MS", WINTER_MON, (7, 59, 59), {FED, WIN}, "77-3-723"),
    case("Miss 77-3-723 winter 08:00 CST allowed", "MS", WINTER_MON, (8, 0, 0)),
    case("Miss 77-3-723 winter sat 08:00 CST allowed", "MS", WINTER_SAT, (8, 0, 0)),
    case("Miss 77-3-723 winter 19:59:59 CST allowed", "MS", WINTER_MON, (19, 59, 59)),
    case("Miss 77-3-723 winter 20:00 CST blocked", "MS", WINTER_MON, (20, 0, 0), {WIN}, "77-3-723"),
    # NE prerecorded messages on Sundays 13-21 (CP-7); weekdays federal only.
    case("Neb 291 ch 11 sec 3 mon 08:00 allowed", "NE", MON, (8, 0, 0)),
    case("Neb 291 ch 11 sec 3 sat 08:00 allowed", "NE", SAT, (8, 0, 0)),
    case("Neb 291 ch 11 sec 3 sunday 12:59:59 blocked", "NE", SUN, (12, 59, 59), {WIN}, "tit. 291 ch. 11"),
    case("Neb 291 ch 11 sec 3 sunday 13:00 allowed", "NE", SUN, (13, 0, 0)),
    case("Neb 291 ch 11 sec 3 sunday 20:59:59 allowed", "NE", SUN, (20, 59, 59)),
    case("Neb 291 ch 11 sec 3 sunday 21:00 blocked", "NE", SUN, (21, 0, 0), {FED, WIN}, "tit. 291 ch. 11"),
    # NM
    case("NMSA 57-12-22 08:59:59 blocked", "NM", MON, (8, 59, 59), {WIN}, "NMSA 57-12-22"),
    case("NMSA 57-12-22 09:00 allowed", "NM", MON, (9, 0, 0)),
    case("NMSA 57-12-22 20:59:59 allowed", "NM", MON, (20, 59, 59)),
    # NV: ADAD 9-21 and the vendor-chart 9-20 (stricter applied)
    case("NRS 597.814 08:59:59 blocked", "NV", MON, (8, 59, 59), {WIN}, "NRS 597.814"),
    case("NRS 597.814 09:00 allowed", "NV", MON, (9, 0, 0)),
    case("NV vendor charts 19:59:59 allowed", "NV", MON, (19, 59, 59)),
    case("NV vendor charts 20:00 blocked", "NV", MON, (20, 0, 0), {WIN}, "vendor charts"),
    # OK: OTSA 8-20 intersected with ADAD 9-21 = 9-20 (CP-7)
    case("15 OS 775C.2 07:59:59 blocked", "OK", MON, (7, 59, 59), {FED, WIN}, "15 O.S. 775C.2"),
    case("15 OS 755.1 08:59:59 blocked", "OK", MON, (8, 59, 59), {WIN}, "15 O.S. 755.1"),
    case("15 OS 755.1 09:00 allowed", "OK", MON, (9, 0, 0)),
    case("15 OS 775C.2 19:59:59 allowed", "OK", SUN, (19, 59, 59)),
    case("15 OS 775C.2 20:00 blocked", "OK", MON, (20, 0, 0), {WIN}, "15 O.S. 775C.2"),
    # PA
    case("73 PS 2245(a)(1) 07:59:59 blocked", "PA", MON, (7, 59, 59), {FED, WIN}, "73 P.S. 2245(a)(1)"),
    case("73 PS 2245(a)(1) 08:00 allowed", "PA", MON, (8, 0, 0)),
    case("73 PS 2245(a)(1) 20:59:59 allowed", "PA", MON, (20, 59, 59)),
    case("73 PS 2245(a)(1) 21:00 blocked", "PA", MON, (21, 0, 0), {FED, WIN}, "73 P.S. 2245(a)(1)"),
    case("44 PS 11 saturday 11:59 allowed", "PA", SAT, (11, 59, 0)),
    case("44 PS 11 saturday 11:59:59 allowed", "PA", SAT, (11, 59, 59)),
    case("44 PS 11 saturday 12:00 blocked", "PA", SAT, (12, 0, 0), {HOL}, "44 P.S. 11"),
    case("44 PS 11 saturday 20:59 blocked", "PA", SAT, (20, 59, 0), {HOL}, "44 P.S. 11"),
    case("73 PS 2245 sunday noon allowed", "PA", SUN, (12, 0, 0)),
    # RI
    case("RI 5-61-2(2) weekday 08:59:59 blocked", "RI", MON, (8, 59, 59), {WIN}, "5-61-2(2)"),
    case("RI 5-61-2(2) weekday 09:00 allowed", "RI", MON, (9, 0, 0)),
    case("RI 5-61-2(2) weekday 17:59:59 allowed", "RI", MON, (17, 59, 59)),
    case("RI 5-61-2(2) weekday 18:00 blocked", "RI", MON, (18, 0, 0), {WIN}, "5-61-2(2)"),
    case("RI 5-61-2(2) sat 09:59:59 blocked", "RI", SAT, (9, 59, 59), {WIN}, "5-61-2(2)"),
    case("RI 5-61-2(2) sat 10:00 allowed", "RI", SAT, (10, 0, 0)),
    case("RI 5-61-2(2) sat 16:59:59 allowed", "RI", SAT, (16, 59, 59)),
    case("RI 5-61-2(2) sat 17:00 blocked", "RI", SAT, (17, 0, 0), {WIN}, "5-61-2(2)"),
    case("RI 5-61-2(2) sunday noon blocked", "RI", SUN, (12, 0, 0), {DAY}, "5-61-2(2)"),
    # SC ADAD hours
    case("SC 16-17-446 07:59:59 blocked", "SC", MON, (7, 59, 59), {FED, WIN}, "16-17-446"),
    case("SC 16-17-446 08:00 allowed", "SC", MON, (8, 0, 0)),
    case("SC 16-17-446 18:59:59 allowed", "SC", MON, (18, 59, 59)),
    case("SC 16-17-446 19:00 blocked", "SC", MON, (19, 0, 0), {WIN}, "16-17-446"),
    # TX
    case("TX Bus&Com 301.051 mon 08:59:59 blocked", "TX", MON, (8, 59, 59), {WIN}, "301.051"),
    case("TX Bus&Com 301.051 mon 09:00 allowed", "TX", MON, (9, 0, 0)),
    case("TX Bus&Com 301.051 mon 20:59:59 allowed", "TX", MON, (20, 59, 59)),
    case("TX Bus&Com 301.051 mon 21:00 blocked", "TX", MON, (21, 0, 0), {FED, WIN}, "301.051"),
    case("TX Bus&Com 301.051 sat 09:00 allowed", "TX", SAT, (9, 0, 0)),
    case("TX Bus&Com 301.051 sunday 11:59 blocked", "TX", SUN, (11, 59, 0), {WIN}, "301.051"),
    case("TX Bus&Com 301.051 sunday 11:59:59 blocked", "TX", SUN, (11, 59, 59), {WIN}, "301.051"),
    case("TX Bus&Com 301.051 sunday 12:00 allowed", "TX", SUN, (12, 0, 0)),
    case("TX Bus&Com 301.051 sunday 20:59:59 allowed", "TX", SUN, (20, 59, 59)),
    case("TX Bus&Com 301.051 sunday 21:00 blocked", "TX", SUN, (21, 0, 0), {FED, WIN}, "301.051"),
    # UT
    case("Utah 13-25a-103(3) 07:59:59 blocked", "UT", MON, (7, 59, 59), {FED, WIN}, "13-25a-103(3)"),
    case("Utah 13-25a-103(3) 08:00 allowed", "UT", MON, (8, 0, 0)),
    case("Utah 13-25a-103(3) sat 20:59:59 allowed", "UT", SAT, (20, 59, 59)),
    case("Utah 13-25a-103(3) 21:00 blocked", "UT", MON, (21, 0, 0), {FED, WIN}, "13-25a-103(3)"),
    case("Utah 13-25a-103(3) sunday noon blocked", "UT", SUN, (12, 0, 0), {DAY}, "13-25a-103(3)"),
    # WA
    case("RCW 19.158.040 07:59:59 blocked", "WA", MON, (7, 59, 59), {FED, WIN}, "RCW 19.158.040"),
    case("RCW 19.158.040 08:00 allowed", "WA", MON, (8, 0, 0)),
    case("RCW 19.158.040 19:59:59 allowed", "WA", MON, (19, 59, 59)),
    case("RCW 19.158.040 20:00 blocked", "WA", MON, (20, 0, 0), {WIN}, "RCW 19.158.040"),
]


@pytest.mark.parametrize(("state", "day", "hms", "expected", "citation"), WINDOW_CASES)
def test_state_window_and_day_rules(state, day, hms, expected, citation):
    loc = LOCS[state]
    decision = decide(lead_in(state), at=local(loc.zone, day, *hms))
    if expected:
        assert_blocked_by(decision, set(expected), citation)
        assert decision.next_allowed_at is not None
        assert decide(lead_in(state), at=decision.next_allowed_at).decision == "allow"
    else:
        assert_allowed(decision)
    assert decision.states == (state,)


def d(y: int, m: int, dd: int) -> date:
    return date(y, m, dd)


HOLIDAY_CASES = [
    # AL (Ala. Code 1-3-8: Sat -> Fri, Sun -> Mon)
    case("Ala Code 1-3-8 2026-01-19 MLK/Lee blocked", "AL", d(2026, 1, 19), (12, 0, 0), {HOL}, "1-3-8"),
    case(
        "Ala Code 1-3-8 2026-04-27 Confederate Memorial blocked",
        "AL",
        d(2026, 4, 27),
        (12, 0, 0),
        {HOL},
        "1-3-8",
    ),
    case(
        "Ala Code 1-3-8 2026-06-01 Jefferson Davis blocked", "AL", d(2026, 6, 1), (12, 0, 0), {HOL}, "1-3-8"
    ),
    case("Ala Code 1-3-8 2026-07-03 observed blocked", "AL", d(2026, 7, 3), (12, 0, 0), {HOL}, "1-3-8"),
    case("Ala Code 1-3-8 2026-07-04 actual sat blocked", "AL", d(2026, 7, 4), (12, 0, 0), {HOL}, "1-3-8"),
    case("Ala Code 1-3-8 2026-07-06 mon allowed", "AL", d(2026, 7, 6), (12, 0, 0)),
    case("Ala Code 1-3-8 2026-12-25 blocked", "AL", d(2026, 12, 25), (12, 0, 0), {HOL}, "1-3-8"),
    case("Ala Code 1-3-8 2027-12-24 observed christmas blocked", "AL", d(2027, 12, 24), (12, 0, 0), {HOL}),
    case(
        "Ala Code 1-3-8 2027-12-31 new year 2028 observed blocked", "AL", d(2027, 12, 31), (12, 0, 0), {HOL}
    ),
    case("Ala Code 1-3-8 2027-07-05 sunday holiday observed mon", "AL", d(2027, 7, 5), (12, 0, 0), {HOL}),
    # LA (LPSC subset; Sat holiday blocks Fri before and Mon after)
    case("La RS 45:811 2026-01-19 MLK blocked", "LA", d(2026, 1, 19), (12, 0, 0), {HOL}, "R-29617"),
    case("La RS 45:811 2026-02-16 washington not LPSC allowed", "LA", d(2026, 2, 16), (12, 0, 0)),
    case("La RS 45:811 2026-02-17 mardi gras blocked", "LA", d(2026, 2, 17), (12, 0, 0), {HOL}, "R-29617"),
    case("La RS 45:811 2026-04-03 good friday blocked", "LA", d(2026, 4, 3), (12, 0, 0), {HOL}, "R-29617"),
    case("La RS 45:811 2026-07-03 observed fri blocked", "LA", d(2026, 7, 3), (12, 0, 0), {HOL}, "R-29617"),
    case("La RS 45:811 2026-07-04 actual sat blocked", "LA", d(2026, 7, 4), (12, 0, 0), {HOL}, "R-29617"),
    case("La RS 45:811 2026-07-06 observed mon blocked", "LA", d(2026, 7, 6), (12, 0, 0), {HOL}, "R-29617"),
    case("La RS 45:811 2027-12-24 christmas fri before blocked", "LA", d(2027, 12, 24), (12, 0, 0), {HOL}),
    case("La RS 45:811 2027-12-27 christmas mon after blocked", "LA", d(2027, 12, 27), (12, 0, 0), {HOL}),
    case("La RS 45:811 2026-11-26 thanksgiving blocked", "LA", d(2026, 11, 26), (12, 0, 0), {HOL}, "R-29617"),
    # MS: no holiday ban since 2024
    case("Miss 77-3-723 no holiday ban 2026-01-19 allowed", "MS", d(2026, 1, 19), (12, 0, 0)),
    case("Miss 77-3-723 no holiday ban 2026-12-25 allowed", "MS", d(2026, 12, 25), (12, 0, 0)),
    case("Miss 77-3-723 no holiday ban 2026-07-03 allowed", "MS", d(2026, 7, 3), (12, 0, 0)),
    # NE holiday window 13-21 (Neb. Rev. Stat. 25-2221 holidays)
    case(
        "Neb 25-2221 2026-04-24 arbor day 12:59:59 blocked",
        "NE",
        d(2026, 4, 24),
        (12, 59, 59),
        {HOL},
        "25-2221",
    ),
    case("Neb 25-2221 2026-04-24 arbor day 13:00 allowed", "NE", d(2026, 4, 24), (13, 0, 0)),
    case("Neb 25-2221 2026-07-03 observed 12:00 blocked", "NE", d(2026, 7, 3), (12, 0, 0), {HOL}, "25-2221"),
    case("Neb 25-2221 2026-07-03 observed 13:00 allowed", "NE", d(2026, 7, 3), (13, 0, 0)),
    case("Neb 25-2221 2026-07-04 actual 12:59 blocked", "NE", d(2026, 7, 4), (12, 59, 0), {HOL}, "25-2221"),
    case("Neb 25-2221 2026-11-27 day after thanksgiving blocked", "NE", d(2026, 11, 27), (9, 0, 0), {HOL}),
    case(
        "Neb 25-2221 2027-12-31 new year 2028 observed 12:00 blocked",
        "NE",
        d(2027, 12, 31),
        (12, 0, 0),
        {HOL},
    ),
    case("Neb 25-2221 2026-11-27 20:59:59 allowed", "NE", d(2026, 11, 27), (20, 59, 59)),
    # PA (44 P.S. 11: Sunday -> Monday)
    case(
        "73 PS 2245(a)(10) 2026-02-16 presidents day blocked",
        "PA",
        d(2026, 2, 16),
        (12, 0, 0),
        {HOL},
        "2245(a)(10)",
    ),
    case(
        "73 PS 2245(a)(10) 2026-04-03 good friday blocked",
        "PA",
        d(2026, 4, 3),
        (12, 0, 0),
        {HOL},
        "2245(a)(10)",
    ),
    case("73 PS 2245(a)(10) 2026-06-14 flag day sunday blocked", "PA", d(2026, 6, 14), (12, 0, 0), {HOL}),
    case("73 PS 2245(a)(10) 2026-06-15 flag day observed blocked", "PA", d(2026, 6, 15), (12, 0, 0), {HOL}),
    case(
        "73 PS 2245(a)(10) 2026-07-04 sat morning blocked",
        "PA",
        d(2026, 7, 4),
        (11, 0, 0),
        {HOL},
        "2245(a)(10)",
    ),
    case("73 PS 2245(a)(10) 2026-07-03 fri allowed", "PA", d(2026, 7, 3), (12, 0, 0)),
    case("73 PS 2245(a)(10) 2027-07-05 sunday holiday observed mon", "PA", d(2027, 7, 5), (12, 0, 0), {HOL}),
    case("73 PS 2245(a)(10) 2028-01-03 saturday holiday not moved", "PA", d(2028, 1, 3), (12, 0, 0)),
    case("73 PS 2245(a)(10) 2026-11-03 election day blocked", "PA", d(2026, 11, 3), (12, 0, 0), {HOL}),
    # RI (state 25-1-1 and federal holidays)
    case(
        "RI 5-61-2 2026-02-16 federal washington blocked", "RI", d(2026, 2, 16), (12, 0, 0), {HOL}, "5-61-2"
    ),
    case("RI 5-61-2 2026-05-04 RI independence blocked", "RI", d(2026, 5, 4), (12, 0, 0), {HOL}, "25-1-1"),
    case("RI 5-61-2 2026-06-19 juneteenth blocked", "RI", d(2026, 6, 19), (12, 0, 0), {HOL}, "5-61-2"),
    case("RI 5-61-2 2026-07-03 federal observed blocked", "RI", d(2026, 7, 3), (12, 0, 0), {HOL}, "5-61-2"),
    case("RI 5-61-2 2026-07-04 actual sat blocked", "RI", d(2026, 7, 4), (12, 0, 0), {HOL}, "5-61-2"),
    case("RI 25-1-1 2026-07-06 state observed blocked", "RI", d(2026, 7, 6), (12, 0, 0), {HOL}, "25-1-1"),
    case("RI 25-1-1 2026-08-10 victory day blocked", "RI", d(2026, 8, 10), (12, 0, 0), {HOL}, "25-1-1"),
    case("RI 25-1-1 2026-11-03 election day blocked", "RI", d(2026, 11, 3), (12, 0, 0), {HOL}, "25-1-1"),
    case(
        "RI 5-61-2 2027-12-31 new year 2028 federal observed blocked",
        "RI",
        d(2027, 12, 31),
        (12, 0, 0),
        {HOL},
    ),
    case("RI 25-1-1 2028-01-03 new year 2028 state observed blocked", "RI", d(2028, 1, 3), (12, 0, 0), {HOL}),
    case("RI 25-1-1 2027-11-02 odd-year election allowed", "RI", d(2027, 11, 2), (12, 0, 0)),
    # UT (63G-1-301)
    case(
        "Utah 63G-1-301 2026-06-15 juneteenth observed blocked",
        "UT",
        d(2026, 6, 15),
        (12, 0, 0),
        {HOL},
        "63G-1-301",
    ),
    case(
        "Utah 63G-1-301 2026-06-19 juneteenth actual blocked",
        "UT",
        d(2026, 6, 19),
        (12, 0, 0),
        {HOL},
        "63G-1-301",
    ),
    case("Utah 63G-1-301 2026-07-03 observed blocked", "UT", d(2026, 7, 3), (12, 0, 0), {HOL}, "63G-1-301"),
    case("Utah 63G-1-301 2026-07-04 actual sat blocked", "UT", d(2026, 7, 4), (12, 0, 0), {HOL}, "63G-1-301"),
    case(
        "Utah 63G-1-301 2026-07-24 pioneer day blocked", "UT", d(2026, 7, 24), (12, 0, 0), {HOL}, "63G-1-301"
    ),
    case(
        "Utah 63G-1-301 2027-12-31 new year 2028 observed blocked", "UT", d(2027, 12, 31), (12, 0, 0), {HOL}
    ),
    case("Utah 63G-1-301 2028-06-19 juneteenth monday blocked", "UT", d(2028, 6, 19), (12, 0, 0), {HOL}),
    case("Utah 63G-1-301 2027-06-21 juneteenth sat observed mon", "UT", d(2027, 6, 21), (12, 0, 0), {HOL}),
    case("Utah 63G-1-301 2026-04-05 easter sunday blocked", "UT", d(2026, 4, 5), (12, 0, 0), {DAY, HOL}),
    case("Utah 63G-1-301 good friday 2026-04-03 not yet allowed", "UT", d(2026, 4, 3), (12, 0, 0)),
    case(
        "Utah 63G-1-301 good friday 2027-03-26 blocked", "UT", d(2027, 3, 26), (12, 0, 0), {HOL}, "63G-1-301"
    ),
]


@pytest.mark.parametrize(("state", "day", "hms", "expected", "citation"), HOLIDAY_CASES)
def test_state_holidays_actual_and_observed(state, day, hms, expected, citation):
    loc = LOCS[state]
    decision = decide(lead_in(state), at=local(loc.zone, day, *hms))
    if expected:
        assert_blocked_by(decision, set(expected), citation)
        assert decision.next_allowed_at is not None
        assert decide(lead_in(state), at=decision.next_allowed_at).decision == "allow"
    else:
        assert_allowed(decision)


def test_holiday_trace_names_the_holiday_and_observance():
    decision = decide(lead_in("AL"), at=local("America/Chicago", d(2026, 7, 3)))
    blocked = [c for c in decision.trace if c.result == "block"]
    assert len(blocked) == 1
    assert "Independence Day (observed)" in blocked[0].detail


@pytest.mark.parametrize(
    ("phone", "zip_code", "expected"),
    [
        pytest.param("+12515550101", "36602", {HOL}, id="Ala Code 1-3-8(a) mardi gras Mobile County blocked"),
        pytest.param(
            "+12055550101", "35203", set(), id="Ala Code 1-3-8(a) mardi gras Jefferson County allowed"
        ),
        pytest.param("+12515550101", None, {HOL}, id="Ala Code 1-3-8(a) mardi gras county unknown blocked"),
    ],
)
def test_alabama_mardi_gras_is_county_limited(phone, zip_code, expected):
    lead_dict = lead(phone_e164=phone, address={"state": "AL", "zip": zip_code, "tz": None})
    decision = decide(lead_dict, at=local("America/Chicago", d(2026, 2, 17)))
    if expected:
        assert_blocked_by(decision, expected, "Ala. Code 1-3-8")
        assert any("Mardi Gras" in c.detail for c in decision.trace if c.result == "block")
    else:
        assert_allowed(decision)


def test_pennsylvania_saturday_next_allowed_is_monday_morning():
    decision = decide(lead_in("PA"), at=local("America/New_York", SAT, 12, 0))
    # Sunday is not banned in PA: the next allowed instant is Sunday 08:00 local.
    assert decision.next_allowed_at == local("America/New_York", SUN, 8, 0)


def test_time_only_block_with_pewc_carries_policy_warning():
    decision = decide(lead_in("TX"), at=local("America/Chicago", SUN, 11, 0))
    assert decision.reason_codes == (WIN,)
    assert str(WarningCode.PEWC_EXEMPTION_IGNORED_BY_POLICY) in decision.warnings
    assert decision.next_allowed_at == local("America/Chicago", SUN, 12, 0)


@pytest.mark.parametrize(
    "state",
    [
        pytest.param("CA", id="Cal PUC 2873-2874 counsel review"),
        pytest.param("WA", id="RCW 80.36.400 counsel review"),
        pytest.param("WY", id="Wyo 40-12-303 counsel review"),
    ],
)
def test_counsel_review_states_warn_but_allow(state):
    loc = LOCS[state]
    decision = decide(lead_in(state), at=local(loc.zone, MON, 12))
    assert_allowed(decision)
    assert str(WarningCode.STATE_AI_VOICE_COUNSEL_REVIEW) in decision.warnings


# --------------------------------------------------------------------------------------------------
# Area-code state and address state both apply (CP-4).


def test_area_code_state_applies_with_an_address_elsewhere():
    # A Texas number, a New York address: Texas's Sunday noon start still applies.
    lead_dict = lead(address={"state": "NY", "zip": "10001", "tz": None})
    decision = decide(lead_dict, at=local("America/New_York", SUN, 12, 30))  # 11:30 CDT
    assert_blocked_by(decision, {WIN}, "301.051")
    assert decision.states == ("NY", "TX")


def test_address_state_applies_with_a_number_elsewhere():
    # A New York number, a Rhode Island address: RI's Sunday ban applies.
    lead_dict = lead(phone_e164="+12125550101", address={"state": "RI", "zip": "02903", "tz": None})
    decision = decide(lead_dict, at=local("America/New_York", SUN, 12))
    assert_blocked_by(decision, {DAY}, "5-61-2(2)")
    assert decision.states == ("NY", "RI")


def test_zip_state_applies_when_the_address_state_is_missing():
    lead_dict = lead(phone_e164="+12125550101", address={"state": None, "zip": "84101", "tz": None})
    decision = decide(lead_dict, at=local("America/Denver", SUN, 12))
    assert R.STATE_DAY_PROHIBITED in decision.reason_codes
    assert "UT" in decision.states


# --------------------------------------------------------------------------------------------------
# Frequency caps (CP-9): FL, OK, MD 3 per rolling 24 h on the same subject; ME 1 per 8 h.

CAP_CITATIONS = {
    "FL": "Fla. Stat. 501.616(6)",
    "OK": "15 O.S. 775C.2",
    "MD": "Md. Code, Com. Law 14-4502",
}
CAP_STATES = [pytest.param(s, id=f"{c} cap") for s, c in CAP_CITATIONS.items()]


def _cap_at(state: str):
    return local(LOCS[state].zone, MON, 12)


@pytest.mark.parametrize("state", CAP_STATES)
def test_three_same_subject_attempts_in_24h_block(state):
    at = _cap_at(state)
    history = attempts_before(at, 1, 2, 23.5)
    decision = decide(lead_in(state, call_history=history), at=at)
    assert_blocked_by(decision, {R.FREQUENCY_CAP_EXCEEDED}, CAP_CITATIONS[state])
    # The oldest of the three leaves the rolling window 24 h after it was made.
    assert decision.next_allowed_at == at - timedelta(hours=23.5) + timedelta(hours=24)
    assert decide(lead_in(state, call_history=history), at=decision.next_allowed_at).decision == "allow"


@pytest.mark.parametrize("state", CAP_STATES)
def test_two_attempts_pass(state):
    at = _cap_at(state)
    assert_allowed(decide(lead_in(state, call_history=attempts_before(at, 1, 2)), at=at))


@pytest.mark.parametrize("state", CAP_STATES)
def test_rolling_window_is_24_hours(state):
    at = _cap_at(state)
    assert_allowed(decide(lead_in(state, call_history=attempts_before(at, 1, 2, 24)), at=at))
    history = attempts_before(at, 1, 2, 23 + 59 / 60)
    assert decide(lead_in(state, call_history=history), at=at).reason_codes == (R.FREQUENCY_CAP_EXCEEDED,)


@pytest.mark.parametrize("state", CAP_STATES)
def test_other_subject_attempts_do_not_count(state):
    at = _cap_at(state)
    other = attempts_before(at, 1, 2, 3, subject="billing")
    assert_allowed(decide(lead_in(state, call_history=other), at=at))
    mixed = attempts_before(at, 1, 2) + attempts_before(at, 3, subject="billing")
    assert_allowed(decide(lead_in(state, call_history=mixed), at=at))


@pytest.mark.parametrize("state", CAP_STATES)
@pytest.mark.parametrize(
    "variant",
    [
        pytest.param({"channel": "sms"}, id="sms counts"),
        pytest.param({"channel": "mms"}, id="mms counts"),
        pytest.param({"answered": False}, id="unanswered counts"),
        pytest.param({"answered": None}, id="unknown outcome counts"),
        pytest.param({"caller_id": "+13125550188"}, id="another caller id counts"),
        pytest.param({"caller_id": None}, id="no caller id counts"),
        pytest.param({"subject": None}, id="attempt without subject counts"),
        pytest.param({"subject": "DATA PLATFORM"}, id="subject compared case-insensitively"),
    ],
)
def test_every_channel_caller_id_and_outcome_counts(state, variant):
    at = _cap_at(state)
    history = attempts_before(at, 1, 2) + attempts_before(at, 3, **variant)
    decision = decide(lead_in(state, call_history=history), at=at)
    assert_blocked_by(decision, {R.FREQUENCY_CAP_EXCEEDED}, CAP_CITATIONS[state])


@pytest.mark.parametrize("state", CAP_STATES)
def test_campaign_without_subject_counts_every_attempt(state):
    at = _cap_at(state)
    history = attempts_before(at, 1, 2, 3, subject="billing")
    decision = decide(lead_in(state, call_history=history), campaign(subject=None), at=at)
    assert decision.reason_codes == (R.FREQUENCY_CAP_EXCEEDED,)


def test_no_cap_in_texas():
    at = local("America/Chicago", MON, 12)
    history = attempts_before(at, *[0.1 * i for i in range(1, 11)])
    assert_allowed(decide(lead(call_history=history), at=at))


def test_cap_follows_the_area_code_state():
    # A Florida number with a Texas address: Florida's cap applies (CP-4).
    at = local("America/Chicago", MON, 12)
    lead_dict = lead(phone_e164="+13055550101", call_history=attempts_before(at, 1, 2, 3))
    decision = decide(lead_dict, at=at)
    assert_blocked_by(decision, {R.FREQUENCY_CAP_EXCEEDED}, "Fla. Stat. 501.616(6)")


def test_cap_follows_the_address_state():
    at = local("America/New_York", MON, 12)
    lead_dict = lead(
        address={"state": "MD", "zip": "21201", "tz": None}, call_history=attempts_before(at, 1, 2, 3)
    )
    decision = decide(lead_dict, at=at)
    assert_blocked_by(decision, {R.FREQUENCY_CAP_EXCEEDED}, "14-4502")


def test_cap_next_allowed_across_dst_start_is_not_too_early():
    # Three FL attempts at 2026-03-07 13:00Z; the cap lifts 2026-03-08 13:00Z (09:00 EDT).
    history = [attempt(utc(2026, 3, 7, 13))] * 3
    decision = decide(lead_in("FL", call_history=history), at=utc(2026, 3, 7, 14))
    assert decision.reason_codes == (R.FREQUENCY_CAP_EXCEEDED,)
    assert decision.next_allowed_at == utc(2026, 3, 8, 13)


def test_cap_next_allowed_across_dst_end_is_not_a_day_late():
    # Three FL attempts at 2026-10-31 13:00Z; the cap lifts 2026-11-01 13:00Z (08:00 EST), which is allowed.
    history = [attempt(utc(2026, 10, 31, 13))] * 3
    assert_allowed(decide(lead_in("FL", call_history=history), at=utc(2026, 11, 1, 13)))
    decision = decide(lead_in("FL", call_history=history), at=utc(2026, 10, 31, 14))
    assert decision.next_allowed_at == utc(2026, 11, 1, 13)


def test_cap_itself_is_a_true_24_hours_across_dst():
    # Evaluated directly (UTC instants), the rolling window is 24 real hours on DST days.
    history = [attempt(utc(2026, 3, 7, 13))] * 3
    assert decide(lead_in("FL", call_history=history), at=utc(2026, 3, 8, 12, 59)).reason_codes == (
        R.FREQUENCY_CAP_EXCEEDED,
    )
    assert_allowed(decide(lead_in("FL", call_history=history), at=utc(2026, 3, 8, 13)))


def test_future_dated_attempts_count():
    at = _cap_at("FL")
    history = attempts_before(at, 1, 2) + [attempt(at + timedelta(minutes=5))]
    assert decide(lead_in("FL", call_history=history), at=at).reason_codes == (R.FREQUENCY_CAP_EXCEEDED,)


@pytest.mark.parametrize(
    ("state", "before", "after", "citation"),
    [
        pytest.param(
            "FL", d(2021, 6, 30), d(2021, 7, 1), "501.616(6)", id="Fla 501.616(6) cap effective 2021-07-01"
        ),
        pytest.param(
            "MD", d(2023, 12, 31), d(2024, 1, 1), "14-4502", id="Md 14-4502 cap effective 2024-01-01"
        ),
        pytest.param(
            "OK", d(2022, 10, 31), d(2022, 11, 1), "775C.2", id="15 OS 775C.2 cap effective 2022-11-01"
        ),
    ],
)
def test_cap_effective_dates(state, before, after, citation):
    old_consent = {"consent_obtained_at": "2020-01-01T00:00:00Z"}
    for day, blocked in ((before, False), (after, True)):
        at = local(LOCS[state].zone, day, 12)
        decision = decide(lead_in(state, call_history=attempts_before(at, 1, 2, 3), **old_consent), at=at)
        if blocked:
            assert_blocked_by(decision, {R.FREQUENCY_CAP_EXCEEDED}, citation)
        else:
            assert_allowed(decision)


def test_oklahoma_otsa_window_effective_2022_11_01():
    old_consent = {"consent_obtained_at": "2020-01-01T00:00:00Z"}
    before = decide(lead_in("OK", **old_consent), at=local("America/Chicago", d(2022, 10, 31), 20, 30))
    assert_allowed(before)  # only the ADAD 9-21 limit before OTSA
    after = decide(lead_in("OK", **old_consent), at=local("America/Chicago", d(2022, 11, 1), 20, 30))
    assert_blocked_by(after, {WIN}, "775C.2")


def test_pennsylvania_holiday_rules_effective_2019_12_03():
    old_consent = {"consent_obtained_at": "2019-01-01T00:00:00Z"}
    ny = "America/New_York"
    assert_allowed(decide(lead_in("PA", **old_consent), at=local(ny, d(2019, 11, 30), 12, 30)))  # Saturday
    assert_blocked_by(
        decide(lead_in("PA", **old_consent), at=local(ny, d(2019, 12, 7), 12, 30)), {HOL}, "44 P.S. 11"
    )
    assert_allowed(decide(lead_in("PA", **old_consent), at=local(ny, d(2019, 11, 28), 12)))  # Thanksgiving
    assert_blocked_by(decide(lead_in("PA", **old_consent), at=local(ny, d(2019, 12, 25), 12)), {HOL})


ME_CITATION = "10 MRSA 1498"


def test_maine_one_call_per_8_hours_any_subject():
    at = local("America/New_York", MON, 12)
    history = attempts_before(at, 7 + 59 / 60, subject="billing", channel="sms", answered=False)
    decision = decide(lead_in("ME", call_history=history), at=at)
    assert_blocked_by(decision, {R.FREQUENCY_CAP_EXCEEDED}, ME_CITATION)
    assert decision.next_allowed_at == at + timedelta(minutes=1)


def test_maine_attempt_8_hours_ago_does_not_count():
    at = local("America/New_York", MON, 12)
    assert_allowed(decide(lead_in("ME", call_history=attempts_before(at, 8)), at=at))


def test_maine_cap_lift_after_window_waits_for_next_weekday_window():
    at = local("America/New_York", d(2026, 6, 26), 16)  # Friday 16:00
    decision = decide(lead_in("ME", call_history=attempts_before(at, 1)), at=at)
    assert decision.reason_codes == (R.FREQUENCY_CAP_EXCEEDED,)
    # Lifts Friday 23:00, outside the window; weekends are banned: Monday 09:00.
    assert decision.next_allowed_at == local("America/New_York", d(2026, 6, 29), 9)


# --------------------------------------------------------------------------------------------------
# Louisiana emergency (CP-10).


@pytest.mark.parametrize(
    ("flag", "blocked"),
    [
        pytest.param(True, True, id="La RS 45:844.31 emergency true blocked"),
        pytest.param(None, True, id="La RS 45:844.31 emergency unknown blocked"),
        pytest.param(False, False, id="La RS 45:844.31 emergency false passes"),
    ],
)
def test_louisiana_emergency_flag(flag, blocked):
    decision = decide(lead_in("LA"), campaign(la_emergency_active=flag), at=local("America/Chicago", MON, 12))
    if blocked:
        assert_blocked_by(decision, {R.STATE_EMERGENCY_LA}, "45:844.31")
        assert decision.next_allowed_at is None
    else:
        assert_allowed(decision)


def test_louisiana_emergency_flag_absent_blocks():
    camp = campaign()
    del camp["la_emergency_active"]
    decision = decide(lead_in("LA"), camp, at=local("America/Chicago", MON, 12))
    assert_blocked_by(decision, {R.STATE_EMERGENCY_LA}, "45:844.31")


def test_louisiana_emergency_does_not_reach_other_states():
    decision = decide(lead(), campaign(la_emergency_active=True), at=local("America/Chicago", MON, 12))
    assert_allowed(decision)


def test_louisiana_emergency_applies_through_the_address():
    lead_dict = lead(address={"state": "LA", "zip": "70112", "tz": None})
    decision = decide(lead_dict, campaign(la_emergency_active=True), at=local("America/Chicago", MON, 12))
    assert_blocked_by(decision, {R.STATE_EMERGENCY_LA})


def _policy_with_florida_emergency():
    text = DEFAULT_RULES_PATH.read_text(encoding="utf-8") + (
        '\n[[states.FL.rules]]\nkind = "emergency_ban"\nflag = "fl_emergency"\ncitation = "test row"\n'
    )
    return dataclasses.replace(conservative_policy(), rules=parse_rule_table(text, origin="test"))


@pytest.mark.parametrize(
    ("active", "blocked"),
    [
        pytest.param(["fl_emergency"], True, id="second state's flag on blocks"),
        pytest.param(None, True, id="flags unknown block"),
        pytest.param([], False, id="no flag on passes"),
        pytest.param(["la_emergency"], False, id="another state's flag does not reach FL"),
    ],
)
def test_a_second_states_emergency_ban_is_one_data_row(active, blocked):
    facts = parse_call_facts(lead_in("FL"), campaign(la_emergency_active=None, active_emergencies=active))
    decision = evaluate(facts, _policy_with_florida_emergency(), local("America/New_York", MON, 12))
    if blocked:
        assert_blocked_by(decision, {R.STATE_EMERGENCY})
    else:
        assert_allowed(decision)


def test_la_emergency_active_and_active_emergencies_are_one_fact():
    on = campaign(la_emergency_active=None, active_emergencies=["la_emergency"])
    assert_blocked_by(decide(lead_in("LA"), on, at=NOON), {R.STATE_EMERGENCY_LA})
    assert_allowed(decide(lead_in("LA"), campaign(la_emergency_active=None, active_emergencies=[]), at=NOON))
    facts = parse_call_facts(lead_in("LA"), campaign(active_emergencies=["la_emergency"]))
    assert facts.errors and "not both" in facts.errors[0].message


# --------------------------------------------------------------------------------------------------
# Campaign gates (CP-10).

NOON = local("America/Chicago", MON, 12)


@pytest.mark.parametrize(
    ("age", "blocked"),
    [
        pytest.param(0, False, id="64.1200(c)(2)(i)(D) age 0 passes"),
        pytest.param(31, False, id="64.1200(c)(2)(i)(D) age 31 passes"),
        pytest.param(31.5, True, id="64.1200(c)(2)(i)(D) age 31.5 DNC_SCRUB_STALE"),
        pytest.param(32, True, id="64.1200(c)(2)(i)(D) age 32 DNC_SCRUB_STALE"),
        pytest.param(None, True, id="64.1200(c)(2)(i)(D) age unknown DNC_SCRUB_STALE"),
    ],
)
def test_dnc_scrub_age(age, blocked):
    decision = decide(lead(), campaign(dnc_data_age_days=age), at=NOON)
    if blocked:
        assert_blocked_by(decision, {R.DNC_SCRUB_STALE}, "64.1200(c)(2)(i)(D)")
        assert decision.next_allowed_at is None
    else:
        assert_allowed(decision)


def test_dnc_scrub_age_absent_blocks():
    camp = campaign()
    del camp["dnc_data_age_days"]
    assert_blocked_by(decide(lead(), camp, at=NOON), {R.DNC_SCRUB_STALE})


@pytest.mark.parametrize(
    ("rate", "blocked"),
    [
        pytest.param(0.0, False, id="64.1200(a)(7) rate 0 passes"),
        pytest.param(0.03, False, id="64.1200(a)(7) rate 0.03 passes"),
        pytest.param(0.0301, True, id="64.1200(a)(7) rate 0.0301 ABANDONMENT_RATE_EXCEEDED"),
        pytest.param(1.0, True, id="64.1200(a)(7) rate 1.0 ABANDONMENT_RATE_EXCEEDED"),
    ],
)
def test_abandonment_rate(rate, blocked):
    decision = decide(lead(), campaign(abandonment_rate_30d=rate), at=NOON)
    if blocked:
        assert_blocked_by(decision, {R.ABANDONMENT_RATE_EXCEEDED}, "64.1200(a)(7)")
        assert decision.next_allowed_at is None
    else:
        assert_allowed(decision)


@pytest.mark.parametrize(
    "rate", [None, 3, -0.01, "0.01"], ids=["null", "3 (percent, not fraction)", "negative", "string"]
)
def test_abandonment_rate_malformed_is_facts_invalid(rate):
    decision = decide(lead(), campaign(abandonment_rate_30d=rate), at=NOON)
    assert decision.decision == "block"
    assert R.FACTS_INVALID in decision.reason_codes


# --------------------------------------------------------------------------------------------------
# Federal window at the second (CP-5), through a utc instant.


@pytest.mark.parametrize(
    ("instant", "allowed"),
    [
        pytest.param(utc(2026, 6, 22, 11, 59, 59), False, id="64.1200(c)(1) 07:59:59 EDT blocked"),
        pytest.param(utc(2026, 6, 22, 12, 0, 0), True, id="64.1200(c)(1) 08:00:00 EDT allowed"),
        pytest.param(utc(2026, 6, 23, 0, 59, 59), True, id="64.1200(c)(1) 20:59:59 EDT allowed"),
        pytest.param(utc(2026, 6, 23, 1, 0, 0), False, id="64.1200(c)(1) 21:00:00 EDT blocked"),
    ],
)
def test_federal_window_half_open(instant, allowed):
    decision = decide(lead_in("NY"), at=instant)
    if allowed:
        assert_allowed(decision)
    else:
        assert_blocked_by(decision, {FED}, "47 CFR 64.1200(c)(1)")


def test_fractional_second_before_the_window_is_blocked():
    decision = decide(lead_in("NY"), at=utc(2026, 6, 22, 11, 59, 59) + timedelta(microseconds=999_999))
    assert_blocked_by(decision, {FED})
    assert decision.next_allowed_at == utc(2026, 6, 22, 12, 0, 0)
