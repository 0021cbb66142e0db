"""The dialer's exception tree.

Every error the product raises on purpose derives from :class:`DialerError`. Each carries what
the API layer needs (``status_code``) and what a worker needs (``retryable``)::

    DialerError
    ├── ConfigurationError          settings refused at start (placeholder secret, bad URL)
    ├── NotFoundError               a campaign, lead or attempt id that does not exist
    ├── InvalidStateError           an action not allowed in the row's current state
    ├── ImportFileError             a lead file that cannot be imported at all (nothing written)
    ├── ToolArgumentError           a voice-agent tool called with a bad argument (returned to the model)
    └── CarrierError                the carrier refused or failed a REST request
        └── CarrierUnavailableError a transport failure or 5xx/429: safe to retry

Compliance decisions never raise to signal "blocked": the gate returns a decision. An exception
inside the gate is itself a block (``GATE_ERROR``), never a pass.
"""

from __future__ import annotations


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


class ConfigurationError(DialerError):
    """Settings that cannot be used (refused at process start)."""


class NotFoundError(DialerError):
    """A row named by id or name does not exist."""

    status_code = 404


class InvalidStateError(DialerError):
    """The action is not allowed in the row's current state."""

    status_code = 409


class ImportFileError(DialerError):
    """A lead file that cannot be imported at all; nothing was written.

    Attributes:
        path: the file.
        row: 1-based physical line number where the problem is, when it is in one place.
        column: the column header concerned, if any.
    """

    status_code = 422

    def __init__(self, message: str, *, path: str, row: int | None = None, column: str | None = None):
        where = path
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.row = row
        self.column = column


class InvalidInputError(DialerError):
    """Input that cannot be used at all (an unreadable document or rule file); the message says where."""

    status_code = 422


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
