"""Browser sign-in for writes: a server-side session and its CSRF token.

A civil servant signs in once on ``/aanmelden`` (with the shared API token, or with a user name and
password when accounts are in use). The server keeps a row per session in the database
(:mod:`geo.storage.accounts`; only a hash of its id) and gives the browser an HttpOnly,
SameSite=Strict cookie holding the random id. Signing out deletes the row, so a copied cookie is
worthless from then on; a beheerder can end every session of a user; a session made with the
shared token ends when the token changes. Every write from a page also carries a CSRF token
(``X-CSRF-Token`` header, or a ``csrf_token`` form field): an HMAC of the session id, which a page
of another site cannot read. Without a token and without users, writes from this machine need
neither, as before.

Examples
--------
>>> from geo.storage.store import Store
>>> accounts = Store("sqlite://").accounts
>>> cookie = accounts.start_session(None, shared_key("s3cret"), SESSION_SECONDS)
>>> valid_csrf(cookie, csrf_token(cookie)), valid_csrf(cookie, "forged")
(True, False)
>>> accounts.session(cookie, shared_key("s3cret")) is not None, accounts.session(cookie, shared_key("new"))
(True, None)
"""

from __future__ import annotations

import hmac

from geo.accounts.credentials import derived, secret_hash
from geo.accounts.roles import ACCOUNTS_KEY

COOKIE = "regiomatch_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SESSION_SECONDS = 8 * 3600  # a working day


def shared_key(api_token: str) -> str:
    """What a session made with the shared token is bound to: a hash of that token (so changing
    the token ends those sessions)."""
    return secret_hash("shared-token|" + api_token)


def key_for(api_token: str | None, user: str | None) -> str:
    """The key a session of ``user`` (``None``: the shared token) is made and checked under."""
    return ACCOUNTS_KEY if user is not None or not api_token else shared_key(api_token)


def csrf_token(session_id: str) -> str:
    """The CSRF token that goes with a session (put in pages, sent back with every write)."""
    return derived(session_id, "csrf")


def valid_csrf(session_id: str | None, token: str | None) -> bool:
    """Whether ``token`` is the CSRF token of ``session_id`` (the session itself is checked in
    the database by the caller)."""
    if not session_id or not token:
        return False
    return hmac.compare_digest(token.encode(), csrf_token(session_id).encode())


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (no ``//host`` or scheme).

    Examples
    --------
    >>> safe_next("//evil.example/"), safe_next("/werkbank")
    ('/', '/werkbank')
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
