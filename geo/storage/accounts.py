"""Users, their API tokens, browser sessions and the audit trail, in the store's database
(schema version 3).

Only hashes of secrets are kept: an argon2id hash of each password, a SHA-256 of each API token
and session id (256 random bits each). A session is a row: signing out deletes it, and a
beheerder can end every session of a user. Every write to a scenario or an imported layer adds an
audit row in the same transaction (who, what, when, version before and after), so the trail
holds exactly the writes that were acknowledged.

Examples
--------
>>> from geo.storage.store import Store
>>> accounts = Store("sqlite://").accounts
>>> accounts.add_user("ann", "bijdrager", "een lang wachtwoord").role
'bijdrager'
>>> accounts.check_password("ann", "een lang wachtwoord").name, accounts.check_password("ann", "fout")
('ann', None)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from geo.accounts.credentials import (
    TOKEN_PREFIX,
    check_password_rules,
    hash_password,
    new_secret,
    secret_hash,
    verify_password,
)
from geo.accounts.roles import Actor, check_role
from geo.errors import Conflict, InvalidInput, NotFound

metadata = MetaData()

users = Table(
    "users", metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(200), nullable=True),  # None: API tokens only, no sign-in
    Column("created_at", DateTime(timezone=True), nullable=False),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_name", String(64), nullable=False, index=True),
    Column("label", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

sessions = Table(
    "sessions", metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_name", String(64), nullable=True, index=True),  # None: signed in with the shared token
    Column("key", String(64), nullable=False),  # which shared token (its hash) or "accounts"
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

audit = Table(
    "audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(16), nullable=False),  # create, update, delete
    Column("kind", String(16), nullable=False),  # scenario, layer, user, token, sessions
    Column("object_id", String(100), nullable=False),
    Column("before_version", String(40), nullable=True),
    Column("after_version", String(40), nullable=True),
    Column("detail", Text, nullable=False, default=""),
)

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")


@dataclass(frozen=True)
class User:
    """A user account as stored (no password hash)."""

    name: str
    role: str
    created_at: datetime
    can_sign_in: bool = True
    tokens: int = 0

    @property
    def actor(self) -> Actor:
        """The user as an :class:`Actor` (name and role)."""
        return Actor(self.name, self.role)


@dataclass(frozen=True)
class Session:
    """A signed-in browser: its user (``None`` for the shared token) and when it ends."""

    user: User | None
    expires_at: datetime


@dataclass(frozen=True)
class AuditEntry:
    """One row of the audit log."""

    id: int
    at: datetime
    actor: str
    action: str
    kind: str
    object_id: str
    before_version: str | None
    after_version: str | None
    detail: str


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def check_name(name: str) -> str:
    """A user name: 1-64 lowercase letters, digits, '.', '_', '@' or '-'.

    Examples
    --------
    >>> check_name("w13.planner")
    'w13.planner'
    """
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise InvalidInput(f"gebruikersnaam {name!r} moet uit 1 tot 64 kleine letters, cijfers, '.', '_', '@' of '-' "
                           "bestaan")
    return name


def record(conn: Any, actor: Actor | None, action: str, kind: str, object_id: str,
           before: object = None, after: object = None, detail: str = "") -> None:
    """Add an audit row inside the caller's transaction (the write and its row commit together)."""
    conn.execute(insert(audit).values(
        at=_now(), actor=(actor.who if actor is not None else "opdrachtregel")[:64], action=action, kind=kind,
        object_id=str(object_id)[:100], before_version=None if before is None else str(before)[:40],
        after_version=None if after is None else str(after)[:40], detail=detail[:2000]))


class Accounts:
    """Users, tokens, sessions and the audit trail on the store's engine."""

    def __init__(self, engine: Engine, translated: Any):
        self.engine = engine
        self._translated = translated  # the store's translation of database failures

    # -- users ---------------------------------------------------------------------------------
    def has_users(self) -> bool:
        """Whether accounts are in use (any user exists): then every write needs a user."""
        with self._translated(), self.engine.connect() as conn:
            return conn.execute(select(users.c.name).limit(1)).first() is not None

    def add_user(self, name: str, role: str, password: str | None, actor: Actor | None = None) -> User:
        """Create a user (name, role and password checked) and record it in the audit log."""
        check_name(name)
        check_role(role)
        if password is not None:
            check_password_rules(password)
        now = _now()
        try:
            with self._translated(), self.engine.begin() as conn:
                conn.execute(insert(users).values(name=name, role=role, created_at=now,
                                                  password_hash=None if password is None else hash_password(password)))
                record(conn, actor, "create", "user", name, detail=f"rol {role}")
        except IntegrityError:
            raise Conflict(f"er bestaat al een gebruiker {name!r}") from None
        return User(name, role, now, password is not None)

    def set_password(self, name: str, password: str, actor: Actor | None = None) -> None:
        """Set a user's password (rules checked) and record it in the audit log."""
        check_password_rules(password)
        with self._translated(), self.engine.begin() as conn:
            if conn.execute(update(users).where(users.c.name == name)
                            .values(password_hash=hash_password(password))).rowcount != 1:
                raise NotFound(f"onbekende gebruiker {name!r}")
            conn.execute(delete(sessions).where(sessions.c.user_name == name))
            record(conn, actor, "update", "user", name, detail="wachtwoord gewijzigd, sessies beëindigd")

    def get_user(self, name: str) -> User | None:
        """The user with this name, or None."""
        if not isinstance(name, str) or len(name) > 64:
            return None
        with self._translated(), self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).mappings().first()
        return None if row is None else _user(row)

    def list_users(self) -> list[User]:
        """All users, by name."""
        with self._translated(), self.engine.connect() as conn:
            counts: dict[str, int] = dict(conn.execute(select(api_tokens.c.user_name, func.count())
                                       .group_by(api_tokens.c.user_name)).all())
            rows = conn.execute(select(users).order_by(users.c.name)).mappings().all()
        return [_user(row, counts.get(row["name"], 0)) for row in rows]

    def remove_user(self, name: str, actor: Actor | None = None) -> None:
        """Delete a user, its tokens and sessions; what it owns stays (a beheerder may change it)."""
        with self._translated(), self.engine.begin() as conn:
            row = conn.execute(select(users.c.role).where(users.c.name == name)).first()
            if row is None:
                raise NotFound(f"onbekende gebruiker {name!r}")
            if row[0] == "beheerder":
                others = conn.execute(select(func.count()).select_from(users).where(users.c.role == "beheerder")
                                      .where(users.c.name != name)).scalar_one()
                if others == 0:
                    raise Conflict(f"{name!r} is de laatste beheerder; voeg eerst een andere beheerder toe")
            conn.execute(delete(api_tokens).where(api_tokens.c.user_name == name))
            conn.execute(delete(sessions).where(sessions.c.user_name == name))
            conn.execute(delete(users).where(users.c.name == name))
            record(conn, actor, "delete", "user", name, detail=f"rol {row[0]}")

    def check_password(self, name: str, password: str) -> User | None:
        """The user if ``password`` is theirs (argon2id; as slow for an unknown name)."""
        user_row = None
        if isinstance(name, str) and len(name) <= 64:
            with self._translated(), self.engine.connect() as conn:
                user_row = conn.execute(select(users).where(users.c.name == name)).mappings().first()
        stored = user_row["password_hash"] if user_row is not None else None
        if verify_password(stored, password) and user_row is not None:
            return _user(user_row)
        return None

    # -- API tokens ------------------------------------------------------------------------------
    def add_token(self, name: str, label: str = "", actor: Actor | None = None) -> str:
        """A new API token for user ``name``; returned once, only its hash is kept."""
        token = new_secret(TOKEN_PREFIX)
        with self._translated(), self.engine.begin() as conn:
            if conn.execute(select(users.c.name).where(users.c.name == name)).first() is None:
                raise NotFound(f"onbekende gebruiker {name!r}")
            conn.execute(insert(api_tokens).values(token_hash=secret_hash(token), user_name=name,
                                                   label=label[:200], created_at=_now()))
            record(conn, actor, "create", "token", name, detail=label[:200])
        return token

    def revoke_tokens(self, name: str, actor: Actor | None = None) -> int:
        """Revoke all API tokens of a user; returns how many were revoked."""
        with self._translated(), self.engine.begin() as conn:
            count = conn.execute(delete(api_tokens).where(api_tokens.c.user_name == name)).rowcount
            record(conn, actor, "delete", "token", name, detail=f"{count} sleutel(s) ingetrokken")
        return count

    def token_user(self, token: str) -> User | None:
        """The user an API token belongs to, or ``None``."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        with self._translated(), self.engine.connect() as conn:
            row = conn.execute(select(users).join(api_tokens, api_tokens.c.user_name == users.c.name)
                               .where(api_tokens.c.token_hash == secret_hash(token))).mappings().first()
        return None if row is None else _user(row)

    # -- sessions --------------------------------------------------------------------------------
    def start_session(self, user: str | None, key: str, seconds: int) -> str:
        """A new session for ``user`` (``None``: the shared token whose hash is ``key``); its id,
        which only the browser's cookie holds."""
        session_id = new_secret()
        now = _now()
        with self._translated(), self.engine.begin() as conn:
            # Ended sessions are cleared as new ones start: the table holds live sessions only.
            conn.execute(delete(sessions).where(sessions.c.expires_at < now))
            conn.execute(insert(sessions).values(id_hash=secret_hash(session_id), user_name=user, key=key,
                                                 created_at=now, expires_at=now + timedelta(seconds=seconds)))
        return session_id

    def session(self, session_id: str | None, key: str) -> Session | None:
        """The live session with this id made under ``key``, or ``None`` (unknown, ended, expired,
        or made under another shared token)."""
        if not session_id or len(session_id) > 100:
            return None
        with self._translated(), self.engine.connect() as conn:
            row = conn.execute(select(sessions).where(sessions.c.id_hash == secret_hash(session_id))).mappings().first()
            if row is None or row["key"] != key or _aware(row["expires_at"]) <= _now():
                return None
            user = None
            if row["user_name"] is not None:
                found = conn.execute(select(users).where(users.c.name == row["user_name"])).mappings().first()
                if found is None:
                    return None
                user = _user(found)
        return Session(user, _aware(row["expires_at"]))

    def end_session(self, session_id: str | None) -> bool:
        """Sign out: the session is deleted, so a copied cookie is worth nothing from now on."""
        if not session_id or len(session_id) > 100:
            return False
        with self._translated(), self.engine.begin() as conn:
            return conn.execute(delete(sessions).where(sessions.c.id_hash == secret_hash(session_id))).rowcount == 1

    def revoke_sessions(self, user: str | None, actor: Actor | None = None) -> int:
        """End every session of ``user`` (``None``: every session signed in with the shared token)."""
        condition = sessions.c.user_name.is_(None) if user is None else sessions.c.user_name == user
        with self._translated(), self.engine.begin() as conn:
            count = conn.execute(delete(sessions).where(condition)).rowcount
            record(conn, actor, "delete", "sessions", user or "gedeelde sleutel", detail=f"{count} sessie(s) beëindigd")
        return count

    def session_count(self, user: str | None = None) -> int:
        """Number of unexpired sessions (of ``user``, or of everyone when None)."""
        with self._translated(), self.engine.connect() as conn:
            query = select(func.count()).select_from(sessions).where(sessions.c.expires_at > _now())
            if user is not None:
                query = query.where(sessions.c.user_name == user)
            return int(conn.execute(query).scalar_one())

    # -- audit -----------------------------------------------------------------------------------
    def audit_trail(self, limit: int = 200, before_id: int | None = None, object_id: str | None = None,
                    actor: str | None = None) -> list[AuditEntry]:
        """The latest audit rows first (``before_id``: the page after the one ending there)."""
        query = select(audit).order_by(audit.c.id.desc()).limit(max(1, min(limit, 1000)))
        if before_id is not None:
            query = query.where(audit.c.id < before_id)
        if object_id is not None:
            query = query.where(audit.c.object_id == object_id)
        if actor is not None:
            query = query.where(audit.c.actor == actor)
        with self._translated(), self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [AuditEntry(r["id"], _aware(r["at"]), r["actor"], r["action"], r["kind"], r["object_id"],
                           r["before_version"], r["after_version"], r["detail"] or "") for r in rows]


def _user(row: Any, tokens: int = 0) -> User:
    return User(row["name"], row["role"], _aware(row["created_at"]), row["password_hash"] is not None, tokens)
