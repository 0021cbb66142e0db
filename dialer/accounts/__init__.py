"""Accounts of the console and the REST API: users with roles, logins, sessions, API tokens.

Owns the ``users``, ``api_tokens``, ``web_sessions`` and ``login_failures`` tables. Passwords
are argon2id hashes (:mod:`~dialer.accounts.passwords`); API tokens and session ids are random
256-bit secrets stored as sha256 (:mod:`~dialer.accounts.tokens`); failed logins lock an account
or a client IP for a while (:mod:`~dialer.accounts.throttle`). Every login, failure, lockout,
role change, disabled user and token created or revoked is an audit event.

Modules: :mod:`~dialer.accounts.users`, :mod:`~dialer.accounts.api_tokens`,
:mod:`~dialer.accounts.login`, :mod:`~dialer.accounts.errors`.
"""

from dialer.accounts.api_tokens import create_token, list_tokens, revoke_token, user_for_token
from dialer.accounts.errors import (
    CsrfError,
    LoginFailedError,
    LoginThrottledError,
    NotAuthenticatedError,
    RoleRefusedError,
)
from dialer.accounts.login import SESSION_LIFETIME, LoginResult, login, logout, session_user
from dialer.accounts.throttle import LIMITS, ThrottleLimits
from dialer.accounts.tokens import secret_hash
from dialer.accounts.users import (
    check_role,
    create_user,
    disable_user,
    find_user,
    get_user,
    list_users,
    set_hubspot_owner,
    set_role,
)

__all__ = [
    "LIMITS",
    "SESSION_LIFETIME",
    "CsrfError",
    "LoginFailedError",
    "LoginResult",
    "LoginThrottledError",
    "NotAuthenticatedError",
    "RoleRefusedError",
    "ThrottleLimits",
    "check_role",
    "create_token",
    "create_user",
    "disable_user",
    "find_user",
    "get_user",
    "list_tokens",
    "list_users",
    "login",
    "logout",
    "revoke_token",
    "secret_hash",
    "session_user",
    "set_hubspot_owner",
    "set_role",
    "user_for_token",
]
