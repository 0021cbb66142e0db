"""The dialer's exception tree: one root, one mapping to HTTP and to the command line.

Every error the product raises on purpose derives from :class:`DialerError`. Each carries what
the API layer needs (``status_code``; the response's ``code`` is :func:`code_of`) and what a
worker needs (``retryable``)::

    DialerError
    ├── ConfigurationError          settings refused at start (placeholder secret, bad URL)
    │   └── SchemaNotReadyError     the database has no schema, or an older one: run `dialer db upgrade`
    ├── DatabaseUnavailableError    the database cannot be reached (retryable)
    ├── NotFoundError               a campaign, lead or attempt id that does not exist
    ├── InvalidStateError           an action not allowed in the row's current state
    │   └── CampaignFieldError      (dialer.campaigns) a campaign setting that cannot be used; names the field
    ├── InvalidRequestError         an HTTP request missing a parameter or carrying an unusable one
    ├── AccessDeniedError           a request without valid credentials (bad signature or token)
    │   ├── RoleRefusedError        a logged-in user whose role may not do this (dialer.accounts)
    │   ├── CsrfError               a cookie-authenticated unsafe request without its CSRF token
    │   └── WebhookSignatureError   (crm.webhooks) a webhook signature missing, wrong or too old
    ├── NotAuthenticatedError       no API token or session, or one unknown, ended or revoked (401)
    ├── LoginFailedError            a wrong username or password, or a disabled account (401)
    ├── LoginThrottledError         too many failed logins for the account or client IP (429)
    ├── InvalidInputError           an input document or value that cannot be used; says where
    │   ├── ProtocolError           a carrier media-stream message that is not one (bridge)
    │   └── FormErrors              (bridge.console) a console form's problems, field by field
    ├── ImportFileError             a lead file that cannot be imported at all (nothing written)
    ├── RegistryError               a DNC registry import or lookup that cannot be done
    │   └── RegistryFileError       a DNC/RND file that cannot be imported (path, line, column)
    ├── AuditExportError            an audit export that cannot be made as asked (nothing written)
    ├── ToolArgumentError           a voice-agent tool called with a bad argument (returned to the model)
    ├── AgentUnavailableError       the voice agent backend could not be reached or refused the session
    ├── CarrierError                the carrier refused or failed a REST request
    │   └── CarrierUnavailableError a transport failure or 5xx/429: safe to retry
    └── DeliveryError               a CRM or webhook destination failed an outbox delivery

The compliance package stays free of ``dialer`` and has its own root,
:class:`compliance.errors.ComplianceError` (bad numbers, rule data, DNC files); :data:`PRODUCT_ERRORS`
names both roots, and the API's one exception handler (``bridge.errors``) and the CLI's entry point
(``dialer.cli.main``) map exactly those: an HTTP response ``{"error": {"code", "message"}}`` with
the error's ``status_code``, or one line on stderr and exit status 2. Anything else is a bug and
keeps its traceback.

Compliance decisions never raise to signal "blocked": the gate returns a decision. An exception
inside the gate is itself a block (``GATE_ERROR``), never a pass.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from compliance.errors import ComplianceError


class DialerError(Exception):
    """Root of every error the product raises on purpose.

    Attributes:
        status_code: HTTP status the API layer answers with.
        retryable: whether a worker may retry the operation unchanged.
    """

    status_code: int = 500
    retryable: bool = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def error_code(cls: type[BaseException]) -> str:
    """``NotFoundError`` -> ``not_found``: the ``code`` of the API's error responses."""
    name = cls.__name__.removesuffix("Error") or cls.__name__
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class ConfigurationError(DialerError):
    """Settings that cannot be used (refused at process start)."""


class SchemaNotReadyError(ConfigurationError):
    """The database has no schema yet, or an older one than the code: run ``dialer db upgrade``."""

    status_code = 503


class DatabaseUnavailableError(DialerError):
    """The database cannot be reached (refused, unknown host, authentication); nothing was done."""

    status_code = 503
    retryable = True


class NotFoundError(DialerError):
    """A row named by id or name does not exist."""

    status_code = 404


class InvalidStateError(DialerError):
    """The action is not allowed in the row's current state."""

    status_code = 409


class InvalidRequestError(DialerError):
    """An HTTP request missing a required parameter or carrying one that cannot be used."""

    status_code = 400


class AccessDeniedError(DialerError):
    """A request without valid credentials (a webhook signature, a feed token)."""

    status_code = 403


class ImportFileError(DialerError):
    """A lead file that cannot be imported at all; nothing was written.

    Attributes:
        path: the file.
        row: 1-based physical line number where the problem is, when it is in one place.
        column: the column header concerned, if any.
        reason: what is wrong, without the place (``message`` is ``"<path>, row <r>, column <c>: <reason>"``).
    """

    status_code = 422

    def __init__(self, message: str, *, path: str, row: int | None = None, column: str | None = None):
        where = path
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {message}")
        self.reason = message
        self.path = path
        self.row = row
        self.column = column


class InvalidInputError(DialerError):
    """Input that cannot be used at all (an unreadable document or rule file); the message says where."""

    status_code = 422


class ProtocolError(InvalidInputError):
    """A carrier media-stream message that is not one: invalid JSON, unknown event, bad fields."""


class RegistryError(DialerError):
    """A registry import or lookup that cannot be done (unknown list, bad time, unreadable file)."""

    status_code = 422


class RegistryFileError(RegistryError):
    """An input file that cannot be imported; nothing was written.

    Attributes:
        path: the file.
        line: 1-based line (or CSV row) of the problem, when it is in one place.
        column: 1-based column, or the CSV column's name, when known.
    """

    def __init__(self, message: str, *, path: Path | str, line: int | None = None, column: Any = None):
        where = str(path)
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column}"
        super().__init__(message if message.startswith(where) else f"{where}: {message}")
        self.path = str(path)
        self.line = line
        self.column = column

    @classmethod
    def unreadable(cls, exc: OSError, path: Path | str) -> RegistryFileError:
        """The error for a file the operating system would not read (missing, permissions, I/O)."""
        return cls(f"cannot read the file: {exc.strerror or exc}", path=path)


class AuditExportError(DialerError):
    """An export that cannot be made as asked (e.g. a range that is not sealed); nothing written."""

    status_code = 409


class AgentUnavailableError(DialerError):
    """The voice agent backend could not be reached or refused the session."""

    status_code = 503


class ToolArgumentError(DialerError):
    """A tool argument the model supplied is invalid; the message goes back to the model."""

    status_code = 422


class CarrierError(DialerError):
    """The carrier refused or failed a REST request.

    Attributes:
        code: the carrier's error code (Twilio's ``code``), if any.
        http_status: the HTTP status of the failed request, if any.
    """

    status_code = 502

    def __init__(self, message: str, *, code: int | None = None, http_status: int | None = None):
        super().__init__(message)
        self.code = code
        self.http_status = http_status


class CarrierUnavailableError(CarrierError):
    """A transport failure, 5xx or 429 (Twilio 20429): the request was not processed; retry."""

    retryable = True


class DeliveryError(DialerError):
    """A CRM or webhook destination did not accept an outbox delivery.

    Attributes:
        retryable: True for a timeout, a connection failure, a 5xx, 408 or 429 (try again later);
            False for any other refusal (the message goes to the dead letters at once).
        http_status: the destination's HTTP status, if it answered.
    """

    status_code = 502

    def __init__(self, message: str, *, retryable: bool, http_status: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.http_status = http_status


PRODUCT_ERRORS: tuple[type[Exception], ...] = (DialerError, ComplianceError)
"""The roots the API handler and the CLI map to a clean answer; anything else is a bug."""


def status_of(exc: Exception) -> int:
    """The HTTP status for a product error (``status_code``; 422 for a compliance error)."""
    return int(getattr(exc, "status_code", 500))


def message_of(exc: Exception) -> str:
    """The one-line message of a product error."""
    return exc.message if isinstance(exc, DialerError) else str(exc)


def code_of(exc: Exception) -> str:
    """The snake_case ``code`` of a product error (``not_found``, ``phone_number``...)."""
    return error_code(type(exc))
