"""A new revision file, its operations written by Alembic's autogenerate from the difference
between the models and a database at head (a throwaway SQLite file): review it before committing.

Usage: ``python -m geo.storage.migrations.new "add zone colours"``; then set
:data:`geo.storage.schema.HEAD` to the new revision id.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path


def main(message: str) -> None:
    """Write ``versions/<id>_<message>.py`` against a fresh database brought to the current head."""
    from alembic import command

    from geo.storage import schema
    from geo.storage.store import Store

    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{Path(folder) / 'head.sqlite3'}")
        with store.engine.begin() as conn:
            command.revision(schema.alembic_config(conn), message=message, autogenerate=True)
        store.dispose()


if __name__ == "__main__":
    main(" ".join(sys.argv[1:]) or "change")
