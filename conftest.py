"""The names the docstring examples of geo/, api/ and maps/ share, as geopandas does.

``pytest --doctest-modules`` runs every example in its module's namespace plus ``doctest_namespace``,
so an example can say ``overlay(assoc, elz)`` the way a reader would, without three lines of set-up
each. The shipped data with the population of 2020 (pinned: a newer year in the data must not change
the printed numbers) and the association layer on 1 December 2026 (``AS_OF``); the catalog is
loaded once per session and only when a doctest runs.

=============  ==========================================================================
name           what
=============  ==========================================================================
catalog        ``load_catalog(None, 2020)``: the shipped catalog, population of 2020
ws             ``open_workspace(None, "sqlite://", 2020)``: a workspace on it, in memory
atoms          ``catalog.atoms``: the municipalities
elz            ``catalog.layer("eerstelijnszone")``: the primary care zones
assoc          ``catalog.layer("samenwerkingsverband")``: the associations of municipalities
provincie      ``catalog.layer("provincie")``
result         ``overlay(assoc, elz)``
m              a fresh, empty regiomatch map (:func:`maps.base.new_map`), one per example
load_catalog   :func:`geo.reference.catalog.load_catalog`
overlay        :func:`geo.engine.overlay.overlay`
=============  ==========================================================================
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest

POPULATION_YEAR = 2020
# The date the association layer is served on (REGIOMATCH_AS_OF, default today), pinned for the
# whole run (tests/conftest.py too): a membership that starts or ends must not change the figures.
AS_OF = "2026-12-01"
os.environ["REGIOMATCH_AS_OF"] = AS_OF


@cache
def _shared() -> dict[str, Any]:
    from geo.engine.overlay import overlay
    from geo.reference.catalog import load_catalog
    from geo.storage.workspace import open_workspace

    catalog = load_catalog(None, POPULATION_YEAR)
    ws = open_workspace(None, "sqlite://", POPULATION_YEAR)
    elz = catalog.layer("eerstelijnszone")
    assoc = catalog.layer("samenwerkingsverband")
    return {"catalog": catalog, "ws": ws, "atoms": catalog.atoms, "elz": elz, "assoc": assoc,
            "provincie": catalog.layer("provincie"), "result": overlay(assoc, elz),
            "load_catalog": load_catalog, "overlay": overlay}


@pytest.fixture(autouse=True)
def _doctest_names(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fill ``doctest_namespace`` for docstring examples only: tests in tests/ pay nothing.

    Examples of api/ that read the settings (``workspace_for(get_settings())``) get the same
    workspace as ``ws``: an in-memory database, never a file under var/.
    """
    from _pytest.doctest import DoctestItem

    if not isinstance(request.node, DoctestItem):
        yield
        return
    from maps.base import new_map

    monkeypatch.setenv("REGIOMATCH_DATABASE_URL", "sqlite://")
    monkeypatch.setenv("REGIOMATCH_POPULATION_YEAR", str(POPULATION_YEAR))  # get_settings() is keyed by it

    names = {**_shared(), "m": new_map("Eerstelijnszones", "", POPULATION_YEAR, "served")}
    namespace = request.getfixturevalue("doctest_namespace")
    module_globals = request.node.dtest.globs
    for name, value in names.items():
        # A module's own name wins (api/serialize.py has its own ``overlay``).
        if name in module_globals and module_globals[name] is not value:
            namespace.pop(name, None)
        else:
            namespace[name] = value
    yield
