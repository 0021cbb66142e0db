"""Errors of logging in and of access to the API.

All are :class:`dialer.errors.DialerError`::

DialerError
├── NotAuthenticatedError   no credentials, or ones that are unknown, expired or revoked (401)
├── LoginFailedError        a wrong username or password, or a disabled account (401)
├── LoginThrottledError     too many failed logins lately, for the account or the client (429)
└── AccessDeniedError (403)
    ├── RoleRefusedError    a valid login whose role may not do this (403)
    └── CsrfError           a cookie-authenticated unsafe request without its CSRF token (403)
"""

from __future__ import annotations

from dialer.errors import AccessDeniedError, DialerError


class NotAuthenticatedError(DialerError):
    """No credentials, or credentials that are unknown, expired, revoked or of a disabled user."""

    status_code = 401


class LoginFailedError(DialerError):
    """A login refused: unknown user, wrong password or disabled account (one message for all)."""

    status_code = 401


class LoginThrottledError(DialerError):
    """Too many failed logins: the account or the client is locked out for a while.

    Attributes:
        retry_after_seconds: when the oldest counted failure leaves the window (whole seconds, >= 1).
    """

    status_code = 429

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class RoleRefusedError(AccessDeniedError):
    """A logged-in user whose role may not use this page or endpoint."""


class CsrfError(AccessDeniedError):
    """An unsafe request authenticated by the session cookie without the session's CSRF token."""
