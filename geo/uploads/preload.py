"""Imported once by the upload sandbox's fork server (never by the service itself): the shipped
catalog and municipal outlines, so every child that reads an upload starts with them in memory
(copy-on-write) instead of spending two seconds of its CPU budget loading them."""

from __future__ import annotations

try:
    from geo.reference.catalog import load_catalog

    load_catalog()
except Exception:  # noqa: BLE001 - no shipped data here: each child loads its own catalog
    pass
