"""Passwords (argon2id, via argon2-cffi) and random secrets (API tokens, session ids), of which
the database keeps only a hash.

Examples
--------
>>> stored = hash_password("lang genoeg wachtwoord")
>>> verify_password(stored, "lang genoeg wachtwoord"), verify_password(stored, "fout")
(True, False)
>>> len(secret_hash("abc"))
64
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets as _random

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from geo.errors import InvalidInput

MIN_PASSWORD = 10
MAX_PASSWORD = 200
TOKEN_PREFIX = "rm_"
_hasher = PasswordHasher()


@functools.cache
def dummy_hash() -> str:
    """A hash to check against when the user does not exist, so that a wrong name costs as much as
    a wrong password (no telling names apart by time). Made once, on first use, not at import: it
    takes a tenth of a second, which the server's start-up would wait for (its warm-up makes it)."""
    return _hasher.hash("no such user, no such password")


def check_password_rules(password: str) -> None:
    """At least :data:`MIN_PASSWORD` characters, at most :data:`MAX_PASSWORD`, no NUL."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"een wachtwoord heeft minstens {MIN_PASSWORD} tekens")
    if len(password) > MAX_PASSWORD or "\x00" in password:
        raise InvalidInput(f"een wachtwoord heeft hoogstens {MAX_PASSWORD} tekens, zonder NUL-teken")


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (salted; what the database keeps)."""
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (``None``: no such user, checked all the same)."""
    try:
        return _hasher.verify(stored or dummy_hash(), password[:MAX_PASSWORD]) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_secret(prefix: str = "") -> str:
    """A fresh random secret (256 bits), for an API token or a session id."""
    return prefix + _random.token_urlsafe(32)


def secret_hash(value: str) -> str:
    """SHA-256 of a random secret: enough for 256 random bits, and cheap on every request."""
    return hashlib.sha256(value.encode("utf-8", errors="surrogateescape")).hexdigest()


def derived(value: str, purpose: str) -> str:
    """A value derived from a secret for one purpose (e.g. a session's CSRF token)."""
    return hmac.new(value.encode("utf-8", errors="surrogateescape"), purpose.encode(), hashlib.sha256).hexdigest()
