"""Alembic's environment for regiomatch's tables, configured in code (no ``alembic.ini``).

:func:`geo.storage.schema.upgrade` runs it on the connection in ``config.attributes``; for a new
revision, ``python -m geo.storage.migrations.new "what changes"`` (CONTRIBUTING.md, "Schema changes").
Imported as a plain module (the structure test imports every module) it does nothing.
"""

from __future__ import annotations

from alembic import context


def target_metadata() -> list:
    """The tables as the models say (both metadata objects: the store's and the accounts')."""
    from geo.storage import accounts, store  # the store's module imports the job table's

    return [store.metadata, accounts.metadata]


def run() -> None:
    """Run the revisions on the given connection (SQLite alters a table by copying it: batch mode)."""
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=target_metadata(), render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if __name__ != "geo.storage.migrations.env":
    run()
