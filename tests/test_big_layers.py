"""Big imported layers (issue 13, item 5): an imported grid of squares is handed to the workspace by
its import (the first overlay does not read it back) and its stored outlines are parsed only when a
map needs them. One zone's members, for a map's popup, come from ``/api/v1/layers/{layer}/zones/{code}``.

A small grid keeps these fast; they assert behaviour, never timings.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from api.settings import get_settings, workspace_for
from benchmarks.grid import grid_geojson
from geo.geometry import zone_polygons
from geo.overlay import overlay
from geo.store import Store
from geo.workspace import Workspace

SQUARES = 150


@pytest.fixture(scope="module")
def grid() -> bytes:
    """About 150 squares over Flanders and Brussels (EPSG:31370)."""
    return grid_geojson(SQUARES)


@pytest.fixture
def raster(client, grid):
    """The grid imported through the API as layer ``raster``; the workspace the app uses."""
    created = client.post("/api/v1/layers", data={"id": "raster", "name": "Raster"},
                          files={"file": ("raster.geojson", grid, "application/geo+json")})
    assert created.status_code == 201, created.text
    return workspace_for(get_settings())


def _counting(monkeypatch, owner, name: str) -> list:
    calls: list = []
    original = getattr(owner, name)

    def counted(*args, **kwargs):
        calls.append(args[1:] if owner is Store else args)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


# -- the import hands its layer over; other processes parse the outlines only for maps -----------
def test_the_first_overlay_after_an_import_does_not_read_the_layer_back(client, raster, monkeypatch):
    reads = _counting(monkeypatch, Store, "get_layer")
    for b in ("eerstelijnszone", "gemeente"):
        r = client.get("/api/v1/overlay", params={"a": "raster", "b": b})
        assert r.status_code == 200 and r.json()["zones_total"] == len(raster.layer("raster"))
    assert reads == []
    # ... and what it handed over is what any other process reads from the database
    handed = raster.layer("raster")
    fresh = Workspace(raster.catalog, raster.store).layer("raster")
    assert reads == [("raster",)]
    assert fresh is not handed and fresh.kind == handed.kind == "imported"
    assert handed.zones.equals(fresh.zones) and handed.description == fresh.description
    assert (handed.membership != fresh.membership).nnz == 0
    assert handed.polygons.index.equals(fresh.polygons.index)
    assert bool(handed.polygons.geom_equals_exact(fresh.polygons, 0).all())


def test_stored_outlines_are_parsed_only_when_a_map_needs_them(raster, monkeypatch):
    import geo.workspace

    parses = _counting(monkeypatch, geo.workspace, "_read_polygons")
    layer = Workspace(raster.catalog, raster.store).layer("raster")
    result = overlay(layer, raster.layer("eerstelijnszone"))
    assert result.table.sum() > 0 and parses == []
    outlines = zone_polygons(layer, raster.catalog.data_dir)
    assert len(parses) == 1 and set(outlines["code"]) == set(layer.zone_codes)
    zone_polygons(layer, raster.catalog.data_dir)
    assert layer.polygons is layer.polygons and len(parses) == 1


# -- one zone's members, for the popup --------------------------------------------------------
def test_the_zone_route_gives_the_members_with_their_inhabitants_in_the_zone(client, raster):
    layer = raster.layer("raster")
    table = layer.members()
    split = table.loc[table["share"] < 0.999, "zone_code"].iloc[0]  # a square two municipalities share
    body = client.get(f"/api/v1/layers/raster/zones/{split}").json()
    expected = layer.members(split)
    population = layer.atoms.table["population"]
    assert body["code"] == split and body["name"] == layer.zone_name(split)
    assert body["population_year"] == layer.atoms.population_year
    assert [m["nis_code"] for m in body["members"]] == expected["nis_code"].tolist()
    for member, row in zip(body["members"], expected.itertuples()):
        assert member["name"] == row.municipality and member["share"] == pytest.approx(row.share, abs=1e-6)
        assert member["population"] == round(population[row.nis_code] * row.share)
    assert body["population"] == round(layer.zone_weight()[layer.zone_position(split)])
    missing = client.get("/api/v1/layers/raster/zones/nope")
    assert missing.status_code == 404 and missing.json()["code"] == "unknown_zone"


def test_the_zone_route_takes_any_zone_code(client):
    """Codes come from uploads: a '/', '?', '#' or '%' in one reaches the route (URL-encoded)."""
    code = "a/b?c#d%e"
    created = client.post("/api/v1/layers", data={"id": "vreemd"},
                          files={"file": ("vreemd.csv", f'nis_code,zone_code,zone_name\n34022,"{code}",Vreemd\n')})
    assert created.status_code == 201, created.text
    body = client.get("/api/v1/layers/vreemd/zones/" + quote(code, safe="")).json()
    assert body["code"] == code and [m["name"] for m in body["members"]] == ["Kortrijk"]
