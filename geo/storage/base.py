"""What the store's table modules share: the tables' metadata, ids that exist nowhere, times
with their zone, and database failures said by name (a full disk, a damaged database).

Kept apart from :mod:`geo.storage.store` so that the job and account tables
(:mod:`geo.storage.jobs`, :mod:`geo.storage.accounts`) use it without importing the store that uses them.

Examples
--------
>>> valid_id("3f2a9c"), valid_id("a" * 65)
(True, False)
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timezone

from sqlalchemy import MetaData
from sqlalchemy.exc import DBAPIError, OperationalError

from geo.errors import DatabaseUnavailable, StorageFull

metadata = MetaData()


def valid_id(value: str) -> bool:
    """Ids with NUL or over 64 characters exist nowhere (PostgreSQL would fail on the NUL)."""
    return "\x00" not in value and len(value) <= 64


_DISK_FULL = ("database or disk is full", "disk is full", "no space left", "could not extend file",
              "diskfull", "disk quota exceeded")
_DAMAGED = ("malformed", "not a database", "file is encrypted", "disk i/o error", "unable to open database")


@contextlib.contextmanager
def translated():
    """Database failures that are not bugs, said by name: a full disk (507), a damaged or
    unreachable database (503)."""
    try:
        yield
    except OperationalError as exc:
        message = str(exc.orig if getattr(exc, "orig", None) is not None else exc).lower()
        sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None) or ""
        if any(words in message for words in _DISK_FULL) or sqlstate.startswith("53"):
            raise StorageFull("the database's disk is full: nothing was saved. Free disk space (or raise the "
                              "quota) and try again") from None
        if any(words in message for words in _DAMAGED):
            raise DatabaseUnavailable(f"the database cannot be read: {message.splitlines()[0][:200]}") from None
        raise
    except DBAPIError as exc:
        message = str(exc).lower()
        if any(words in message for words in _DISK_FULL):
            raise StorageFull("the database's disk is full: nothing was saved. Free disk space and try again") \
                from None
        raise


def aware(value: datetime) -> datetime:
    """The datetime with UTC as time zone when it has none."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
