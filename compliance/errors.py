"""The compliance package's exception root (the package stays free of ``dialer``).

Every error the compliance package raises on purpose derives from :class:`ComplianceError`
(itself a :class:`ValueError`, so callers that treat bad input as a value error keep working)::

    ComplianceError
    ├── PhoneNumberError      a value that is not a dialable telephone number
    ├── CheckDocumentError    a ``dialer compliance check`` document that is not one
    ├── RuleDataError         malformed rule data (state_rules.toml, holidays.toml)
    ├── RegistryFormatError   a DNC registry bitmap file that is not one
    └── DncFileError          a DNC download line in no accepted layout

The dialer maps the whole tree like its own :class:`dialer.errors.InvalidInputError` (HTTP 422, one
line on the command line). Facts a gate cannot use are not errors: the gate blocks with
``FACTS_INVALID`` (:class:`compliance.facts.FactError` is a record, not an exception).
"""

from __future__ import annotations


class ComplianceError(ValueError):
    """Root of every error the compliance package raises on purpose; the message says what and where.

    Attributes:
        status_code: HTTP status an API answers with (422: the input cannot be used).
    """

    status_code: int = 422


class RuleDataError(ComplianceError):
    """A rule data file (state rules, holidays) is malformed; the message names the file and field."""
