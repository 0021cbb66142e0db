"""The policy the gate applies: the rule data plus the thresholds of the conservative policy (CP).

``conservative_policy()`` is the product's default (COMPLIANCE_RULES.md section 0.2, CP-1 .. CP-12)
with the packaged rule table and holiday calendars. A ``Policy`` is plain data: a test or an auditor
can build one from other rule files and replay decisions under it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from compliance.holiday_data import load_holiday_calendars
from compliance.holidays import HolidayCalendars
from compliance.state_rules import RuleTable, load_rule_table


@dataclass(frozen=True, slots=True)
class Policy:
    """Rule data and thresholds for ``evaluate``.

    Attributes:
        rules: the federal and state rule table (``compliance/data/state_rules.toml``).
        holidays: the holiday calendars (``compliance/data/holidays.toml``).
        dnc_max_age_days: national DNC data older than this blocks (``DNC_SCRUB_STALE``; 47 CFR
            64.1200(c)(2)(i)(D): a registry version obtained no more than 31 days before the call).
        abandonment_max_rate: a campaign abandonment rate above this fraction blocks (47 CFR
            64.1200(a)(7): 3 % of live-answered calls per 30 days).
        consent_warning_months: PEWC older than this many months is flagged
            (``CONSENT_OLDER_THAN_18_MONTHS``).
        rnd_max_age_days: an RND result older than this is flagged (``RND_QUERY_STALE``; the RND is
            updated monthly).
        lookahead_days: how far ahead ``next_allowed_at`` is searched, in days.
    """

    rules: RuleTable
    holidays: HolidayCalendars
    name: str = "CP"
    dnc_max_age_days: float = 31
    abandonment_max_rate: float = 0.03
    consent_warning_months: int = 18
    rnd_max_age_days: float = 31
    lookahead_days: int = 14

    @property
    def version(self) -> str:
        """The rule-data version stored with every decision: policy, rule table and holiday data."""
        return f"{self.name};rules={self.rules.version};holidays={self.holidays.version}"


@cache
def conservative_policy() -> Policy:
    """The default policy (CP) with the packaged rule data; built once per process."""
    return Policy(rules=load_rule_table(), holidays=load_holiday_calendars())


def policy_from_files(rules_path: Path | None = None, holidays_path: Path | None = None) -> Policy:
    """CP thresholds with rule data from other files (None = the packaged one).

    Raises:
        compliance.errors.RuleDataError: a file is malformed.
        OSError: a file cannot be read.
    """
    return Policy(rules=load_rule_table(rules_path), holidays=load_holiday_calendars(holidays_path))
