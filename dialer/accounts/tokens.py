"""Random bearer secrets (API tokens, session ids, CSRF tokens) and the hashes stored for them."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32
"""Entropy of every secret handed out: 256 bits."""


def new_secret(prefix: str) -> tuple[str, str]:
    """A fresh secret and its stored hash: ``("<prefix>_<43 url-safe chars>", sha256 hex)``.

    The prefix (``dlr`` for API tokens, ``dls`` for sessions) lets secret scanners and people
    tell what a leaked string is.
    """
    value = f"{prefix}_{secrets.token_urlsafe(TOKEN_BYTES)}"
    return value, secret_hash(value)


def secret_hash(value: str) -> str:
    """sha256 (hex, 64 characters) of a secret, the only form of it that is stored."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
