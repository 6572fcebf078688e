"""Alembic's revisions of regiomatch's tables: ``env.py`` and ``versions/`` (read by Alembic, not
imported by the application). :mod:`geo.storage.schema` runs them on start; how to add one is in
CONTRIBUTING.md ("Schema changes")."""
