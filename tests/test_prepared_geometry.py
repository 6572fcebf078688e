"""The browser outlines shipped in data/web/ (geo/geometry/prepared.py) are exactly what the server would
compute, are used only while they match the data, and a scenario never gets a stale outline."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas.testing
import pytest

from geo.geometry import polygons as geometry
from geo.geometry import prepared
from geo.geometry.polygons import WEB_DETAIL_METRES, compute_web_geometry, web_geometry
from geo.paths import SHIPPED_DATA


def test_every_shipped_layer_has_its_outlines_prepared(catalog):
    """A layer edited in data/ without `make data` would fall back to slow first maps: say so."""
    for metres in WEB_DETAIL_METRES.values():
        assert prepared.shipped_web_geometry(None, metres, SHIPPED_DATA) is not None
        for layer in map(catalog.published_layer, catalog.layer_ids()):  # as shipped (not on a date)
            found = prepared.shipped_web_geometry(layer, metres, SHIPPED_DATA)
            assert (found is not None) == (layer.polygons is None), f"{layer.id} at {metres} m: run `make data`"


@pytest.mark.parametrize("layer_id", [None, "provincie", "eerstelijnszone", "samenwerkingsverbanden"])
@pytest.mark.parametrize("detail", list(WEB_DETAIL_METRES))
def test_prepared_outlines_are_what_the_server_computes(catalog, layer_id, detail):
    layer = None if layer_id is None else catalog.layer(layer_id)
    metres = WEB_DETAIL_METRES[detail]
    assert prepared.shipped_web_geometry(layer, metres, SHIPPED_DATA) == compute_web_geometry(layer, metres)
    read = geometry._shipped_frame(layer, metres, SHIPPED_DATA)
    computed = (geometry._computed_web_municipalities(metres, SHIPPED_DATA) if layer is None
                else geometry._computed_web_zones(layer, metres, SHIPPED_DATA))
    geopandas.testing.assert_geodataframe_equal(read, computed, check_less_precise=False)


def test_a_changed_zoning_is_never_served_a_prepared_outline(catalog):
    elz = catalog.layer("eerstelijnszone")
    members = elz.members()
    lendelede = members["nis_code"] == 34025  # from RITS to Regio Waregem
    waregem = members.loc[members["zone_code"] == "elz50"].iloc[0]
    moved = members.copy()
    moved.loc[lendelede, ["zone_code", "zone_name"]] = [waregem["zone_code"], waregem["zone_name"]]
    edited = type(elz).from_members("scenario:test", moved[["zone_code", "zone_name", "nis_code", "share"]], elz.atoms,
                                    name=elz.name)
    assert prepared.fingerprint(edited) != prepared.fingerprint(elz)
    assert prepared.shipped_web_geometry(edited, 120.0, SHIPPED_DATA) is None
    body, _ = web_geometry(edited, "coarse")
    assert body == compute_web_geometry(edited, 120.0) != compute_web_geometry(elz, 120.0)


def test_prepared_outlines_are_ignored_when_the_polygons_differ(catalog, tmp_path: Path):
    copy = tmp_path / "data"
    shutil.copytree(SHIPPED_DATA, copy)
    assert prepared.shipped_web_geometry(None, 120.0, copy) is not None
    with open(copy / "geometry.gpkg", "ab") as f:  # other polygons: another digest
        f.write(b"\0")
    prepared.forget_index()
    assert prepared.shipped_web_geometry(None, 120.0, copy) is None
    assert prepared.shipped_web_geometry(catalog.layer("provincie"), 120.0, copy) is None


def test_a_damaged_prepared_file_is_prepared_again(catalog, tmp_path: Path):
    copy = tmp_path / "data"
    shutil.copytree(SHIPPED_DATA, copy)
    provinces = catalog.layer("provincie")
    name = prepared._index(copy)["120"][prepared.fingerprint(provinces)]
    (copy / prepared.FOLDER / name).write_bytes(b"not gzip")
    assert prepared.shipped_web_geometry(provinces, 120.0, copy) is None
    body, _ = web_geometry(provinces, "coarse", copy)
    assert body == compute_web_geometry(provinces, 120.0)
