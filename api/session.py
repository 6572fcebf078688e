"""Browser sign-in for writes: a session cookie and a CSRF token, both derived from the API token.

When ``REGIOMATCH_API_TOKEN`` is set, API clients send ``Authorization: Bearer <token>``. A
civil servant in the browser types the token once on ``/aanmelden``; the server answers with an
HttpOnly, SameSite=Strict cookie holding an expiry and an HMAC of it keyed by the API token (so
any worker process can check it, nothing is stored, and changing the token signs everyone out).
Every write from a page also carries a CSRF token (``X-CSRF-Token`` header, or a ``csrf_token``
form field for plain forms): an HMAC of the session value, which a page of another site cannot
read. Without a configured token, writes from loopback need neither, as before.

Examples
--------
>>> value = new_session("s3cret", now=1000.0)
>>> valid_session(value, "s3cret", now=1001.0)
True
>>> valid_csrf(value, csrf_token(value, "s3cret"), "s3cret", now=1001.0)
True
>>> valid_session(value, "other", now=1001.0)
False
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

COOKIE = "regiomatch_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SESSION_SECONDS = 8 * 3600  # a working day


def _sign(purpose: str, value: str, key: str) -> str:
    return hmac.new(key.encode(), f"{purpose}|{value}".encode(), hashlib.sha256).hexdigest()


def new_session(api_token: str, now: float | None = None) -> str:
    """A fresh session value ``expiry.nonce.signature``."""
    expiry = int((now if now is not None else time.time()) + SESSION_SECONDS)
    body = f"{expiry}.{secrets.token_hex(8)}"
    return f"{body}.{_sign('session', body, api_token)}"


def valid_session(value: str | None, api_token: str, now: float | None = None) -> bool:
    """Signed with this token and not expired."""
    if not value or not api_token or value.count(".") != 2:
        return False
    body, _, signature = value.rpartition(".")
    if not hmac.compare_digest(signature.encode(), _sign("session", body, api_token).encode()):
        return False
    try:
        expiry = int(body.split(".")[0])
    except ValueError:
        return False
    return expiry > (now if now is not None else time.time())


def csrf_token(session: str, api_token: str) -> str:
    """The CSRF token that goes with a session (put in pages, sent back with every write)."""
    return _sign("csrf", session, api_token)


def valid_csrf(session: str | None, token: str | None, api_token: str, now: float | None = None) -> bool:
    """A valid session and the CSRF token that belongs to it."""
    if not token or not valid_session(session, api_token, now):
        return False
    return hmac.compare_digest(token.encode(), csrf_token(session, api_token).encode())  # type: ignore[arg-type]


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (no ``//host`` or scheme)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
