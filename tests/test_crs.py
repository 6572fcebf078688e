"""CRS checks go through one helper (:func:`geo.geometry.crs.require_crs`) raising ``WrongCRS``."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import errors
from geo.errors import WrongCRS
from geo.geometry.crs import require_crs
from geo.geometry.polygons import compact_geojson, geojson, to_web


def _frame(crs: str | None) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": ["A"]}, geometry=[shapely.box(4.0, 51.0, 4.1, 51.1)], crs=crs)


def test_a_frame_in_4326_where_31370_is_required_names_both():
    with pytest.raises(WrongCRS) as caught:
        require_crs(_frame("EPSG:4326"), "EPSG:31370")
    assert "EPSG:31370" in caught.value.detail and "EPSG:4326" in caught.value.detail
    assert caught.value.code == "wrong_crs"
    assert "EPSG:31370" in caught.value.dutch and "geometrie" in caught.value.dutch


def test_a_frame_without_a_crs_is_refused_and_the_right_one_passes():
    with pytest.raises(WrongCRS, match="got no CRS"):
        require_crs(_frame(None), "EPSG:4326")
    require_crs(_frame("EPSG:4326"), "EPSG:4326")


@pytest.mark.parametrize(("function", "given"), [(to_web, "EPSG:4326"), (geojson, "EPSG:31370"),
                                                 (compact_geojson, "EPSG:31370")])
def test_the_geometry_functions_check_through_the_helper(function, given):
    with pytest.raises(WrongCRS, match=given):
        function(_frame(given))


def test_wrong_crs_is_a_422_with_english_detail_on_the_api_and_dutch_on_pages():
    app = FastAPI()
    errors.install(app)

    @app.get("/api/v1/kapot")
    @app.get("/werkbank/kapot")
    @app.post("/werkbank/kapot")
    def broken() -> None:
        require_crs(_frame("EPSG:4326"), "EPSG:31370")

    with TestClient(app) as client:
        api = client.get("/api/v1/kapot")
        page = client.get("/werkbank/kapot")
        form = client.post("/werkbank/kapot")  # what the workbench's scripts send: JSON back, in Dutch
    assert api.status_code == page.status_code == form.status_code == 422
    assert api.json() == {"detail": "expected geometry in EPSG:31370, got EPSG:4326", "code": "wrong_crs"}
    assert form.json()["detail"] == "De geometrie staat in EPSG:4326; hier is EPSG:31370 nodig."
    assert page.headers["content-type"].startswith("text/html")
    assert "De geometrie staat in EPSG:4326; hier is EPSG:31370 nodig." in page.text
