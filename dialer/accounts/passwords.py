"""Password hashing with argon2id (RFC 9106) through argon2-cffi's :class:`argon2.PasswordHasher`.

The hasher's defaults (argon2id, t=3, m=64 MiB, p=4: RFC 9106's second recommended option) are
kept; a stored hash made with other parameters is re-hashed at the next successful login.
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from dialer.errors import InvalidInputError

MIN_LENGTH = 12
"""Shortest password accepted (NIST SP 800-63B 5.1.1.2 asks for at least 8; we ask 12)."""
MAX_LENGTH = 1024
"""Longest password accepted (argon2 takes any length; this bounds the work per request)."""

_HASHER = PasswordHasher()


def check_password(password: str) -> str:
    """``password`` if it may be set.

    Raises:
        InvalidInputError: shorter than :data:`MIN_LENGTH` or longer than :data:`MAX_LENGTH` characters.
    """
    if len(password) < MIN_LENGTH:
        raise InvalidInputError(
            f"the password has {len(password)} characters; at least {MIN_LENGTH} are needed"
        )
    if len(password) > MAX_LENGTH:
        raise InvalidInputError(f"the password is longer than {MAX_LENGTH} characters")
    return password


def hash_password(password: str) -> str:
    """The argon2id PHC string of a password that passes :func:`check_password`.

    Raises:
        InvalidInputError: the password is too short or too long.
    """
    return _HASHER.hash(check_password(password))


def verify_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches the PHC string ``stored`` (False for a malformed ``stored``)."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether ``stored`` was made with other parameters than the current hasher's."""
    return _HASHER.check_needs_rehash(stored)


@lru_cache(maxsize=1)
def decoy_hash() -> str:
    """A hash to verify against when the user does not exist, so that both cost the same time."""
    return _HASHER.hash("decoy password, never set for anyone")
