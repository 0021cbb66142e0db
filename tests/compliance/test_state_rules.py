"""The rule table file: every rule carries a citation, and bad data is refused with its location."""

from __future__ import annotations

from datetime import date

import pytest

from compliance.state_rules import (
    DEFAULT_RULES_PATH,
    RULE_KINDS,
    RuleDataError,
    load_rule_table,
    parse_rule_table,
)

GOOD = """
version = "t-1"
[federal]
[[federal.rules]]
kind = "window"
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
start = "08:00"
end = "21:00"
citation = "47 CFR 64.1200(c)(1)"
"""

_FL_EMERGENCY = '[states.FL]\n[[states.FL.rules]]\nkind = "emergency_ban"\n'


def test_every_packaged_rule_has_a_citation_and_a_known_kind():
    table = load_rule_table()
    rules = [*table.federal, *(r for rs in table.states.values() for r in rs)]
    assert len(rules) == 52
    assert all(r.citation and r.kind in RULE_KINDS for r in rules)
    assert table.version.startswith("2026.12-1+") and len(table.version.split("+")[1]) == 12


def test_the_table_covers_every_state_stricter_than_federal_in_compliance_rules_2_1():
    expected = "AL CA CT FL IL KY LA MA MD ME MI MN MS NE NV NM OK PA RI SC TX UT WA WY".split()
    assert sorted(load_rule_table().states) == sorted(expected)


def test_effective_dates_are_half_open():
    (cap,) = [r for r in load_rule_table().rules_for("MD") if r.kind == "frequency_cap"]
    assert not cap.effective_on(date(2023, 12, 31)) and cap.effective_on(date(2024, 1, 1))


def test_mississippi_literal_cst_rule_reads_a_fixed_utc_minus_6_clock():
    fixed = [r for r in load_rule_table().rules_for("MS") if r.clock != "local"]
    assert fixed and all(r.fixed_zone.utcoffset(None).total_seconds() == -6 * 3600 for r in fixed)


def test_the_version_changes_with_the_file():
    assert parse_rule_table(GOOD).version != parse_rule_table(GOOD + "\n# reviewed\n").version


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            '[states.TX]\n[[states.TX.rules]]\nkind = "windw"\ncitation = "x"\n',
            "TX rule 0: kind",
        ),
        # A state's name comes from compliance.states, not from the rule data.
        (
            '[states.TX]\nname = "Texas"\n[[states.TX.rules]]\nkind = "counsel_review"\ncitation = "x"\n',
            "unknown keys ['name']",
        ),
        ('[states.PR]\n[[states.PR.rules]]\nkind = "counsel_review"\ncitation = "x"\n', "not a USPS code"),
        ("[states.TX]\n", "expected [[states.TX.rules]] or a dnc_list"),
        ('[states.TX.dnc_list]\nname = "Texas no-call list"\n', "TX.dnc_list.citation"),
        ('[states.TX.dnc_list]\nname = "x"\ncitation = "y"\nconfidence = "high"\n', "expected P, P- or S"),
        (
            '[states.TX]\n[[states.TX.rules]]\nkind = "window"\ndays = ["sun"]\nstart = "12:00"\n'
            'end = "21:00"\n',
            "missing fields ['citation']",
        ),
        (
            '[states.TX]\n[[states.TX.rules]]\nkind = "window"\ndays = ["sunday"]\nstart = "12:00"\n'
            'end = "21:00"\ncitation = "x"\n',
            "TX rule 0.days",
        ),
        (
            '[states.TX]\n[[states.TX.rules]]\nkind = "window"\ndays = ["sun"]\nstart = "21:00"\n'
            'end = "12:00"\ncitation = "x"\n',
            "is not after start",
        ),
        (
            '[states.FL]\n[[states.FL.rules]]\nkind = "frequency_cap"\nmax_attempts = 0\nhours = 24\n'
            'same_subject = true\ncitation = "x"\n',
            "FL rule 0.max_attempts",
        ),
        (
            '[states.UT]\n[[states.UT.rules]]\nkind = "holiday_ban"\ncalendar = "UT"\ncitation = "x"\n'
            'effective_from = "2026-13-01"\n',
            "UT rule 0.effective_from",
        ),
        ('[states.Tx]\n[[states.Tx.rules]]\nkind = "counsel_review"\ncitation = "x"\n', "not a USPS code"),
        (
            _FL_EMERGENCY + 'flag = "FL Emergency"\ncitation = "x"\n',
            "FL rule 0.flag",
        ),
        (
            _FL_EMERGENCY + 'flag = "fl_emergency"\nreason = "HURRICANE"\ncitation = "x"\n',
            "'HURRICANE' is not a reason code",
        ),
        (
            '[states.TX]\n[[states.TX.rules]]\nkind = "counsel_review"\nreason = "STATE_EMERGENCY"\n'
            'citation = "x"\n',
            "only an emergency_ban names a reason code",
        ),
    ],
)
def test_bad_rule_data_is_refused_naming_the_rule_and_field(extra, message):
    with pytest.raises(RuleDataError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_rule_table(GOOD + extra, origin="rules.toml")


def test_the_packaged_file_is_the_one_reviewed():
    assert DEFAULT_RULES_PATH.name == "state_rules.toml" and DEFAULT_RULES_PATH.is_file()


def test_state_dnc_lists_are_rows_of_the_rule_data():
    table = parse_rule_table(
        GOOD
        + '[states.CO]\n[states.CO.dnc_list]\nname = "Colorado No-Call List"\ncitation = "C.R.S. 6-1-904"\n',
        origin="rules.toml",
    )
    (listed,) = table.dnc_lists.values()
    assert (listed.state, listed.name, listed.citation, listed.confidence) == (
        "CO",
        "Colorado No-Call List",
        "C.R.S. 6-1-904",
        "P",
    )
    assert table.names["CO"] == "Colorado" and "CO" not in table.states  # a list, no stricter rules


def test_emergency_bans_are_rows_naming_their_flag_and_reason():
    table = parse_rule_table(
        GOOD + _FL_EMERGENCY + 'flag = "fl_emergency"\ncitation = "F.S. 501"\n',
        origin="rules.toml",
    )
    (rule,) = table.emergency_flags.values()
    assert (rule.jurisdiction, rule.flag, rule.reason) == ("FL", "fl_emergency", "STATE_EMERGENCY")
    packaged = load_rule_table().emergency_flags
    assert packaged["la_emergency"].jurisdiction == "LA"
    assert packaged["la_emergency"].reason == "STATE_EMERGENCY_LA"
