"""Spreadsheet-safe CSV cells: formula injection neutralised (OWASP "CSV Injection").

A spreadsheet opening a CSV runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula (``=HYPERLINK(...)``, ``@SUM(A1)``, ``-2+3+cmd|' /C calc'!A0``), and a leading tab or
carriage return can hide such a cell's first character. Following the OWASP guidance
(https://owasp.org/www-community/attacks/CSV_Injection), :func:`safe_cell` prefixes such a cell
with a single quote, which spreadsheets show as text and never evaluate; the CSV module then
quotes what needs quoting.

One exception keeps exports usable: a cell that is a plain signed number, ``+15551234567`` (an
E.164 phone number), ``-42`` or ``-3.5``, is written as it is. A spreadsheet reads it as a number,
never as a call to anything, so it cannot carry a payload; prefixing it would corrupt every phone
number column. ``+1-555-0101`` is not a plain number (a spreadsheet would compute it) and gets
the quote.

Every CSV the product writes for people to open (``dialer audit export --format csv``, a lead
import's ``<stem>.rejected.csv``) passes its cells through :func:`safe_row`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet treat a cell as a formula (OWASP's list)."""
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")

__all__ = ["FORMULA_TRIGGERS", "safe_cell", "safe_row"]


def safe_cell(value: object) -> object:
    """``value`` as a CSV cell no spreadsheet evaluates.

    Strings starting with one of :data:`FORMULA_TRIGGERS` get a leading ``'``, unless the whole
    string is a plain signed number (see the module docstring). Anything else (numbers, None,
    other strings) is returned unchanged, for :mod:`csv` to write as usual.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(values: Iterable[object]) -> list[object]:
    """Every cell of a row through :func:`safe_cell`."""
    return [safe_cell(value) for value in values]
