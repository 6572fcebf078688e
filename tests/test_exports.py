"""Downloads a Belgian office opens as they are: CSV for Excel, format=csv, GeoJSON and GeoPackage."""

from __future__ import annotations

import io

import geopandas as gpd
import pandas as pd
import pytest

from geo.engine.overlay import overlay
from maps.exports import EXCEL, MACHINE, csv_bytes

ASSOCIATIONS = "samenwerkingsverband"
BOM = "\ufeff".encode()


def read_as_excel(content: bytes) -> pd.DataFrame:
    """What Excel on a Belgian Dutch machine does with a double click: ';', decimal comma, UTF-8 by BOM."""
    assert content.startswith(BOM), "no UTF-8 byte-order mark: Excel would read the file as ANSI"
    return pd.read_csv(io.BytesIO(content), sep=";", decimal=",", encoding="utf-8-sig")


def test_overlay_csv_for_excel_has_dutch_headers_decimal_commas_and_ja_nee(client, catalog):
    response = client.get("/overlay.csv", params={"a": ASSOCIATIONS, "b": "eerstelijnszone"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert 'filename="overlay_samenwerkingsverband_eerstelijnszone.csv"' in response.headers["content-disposition"]
    frame = read_as_excel(response.content)
    assert list(frame.columns[:3]) == ["zone", "naam zone", "inwoners zone"]
    assert frame["aandeel in grootste zone"].dtype == float  # "0,371" read as a number, not text
    w13 = frame[frame["zone"] == "W13"]
    expected = overlay(catalog.layer(ASSOCIATIONS), catalog.layer("eerstelijnszone")).zone_detail("W13").dominant_share
    assert w13["aandeel in grootste zone"].iloc[0] == pytest.approx(expected, abs=1e-6)
    assert set(frame["buiten grootste zone"]) == {"ja", "nee"}
    assert "Zuid-West-Vlaanderen" in " ".join(frame["naam zone"])  # UTF-8 intact
    lendelede = w13[w13["gemeente"] == "Lendelede"]
    assert lendelede["buiten grootste zone"].iloc[0] == "ja"


def test_api_csv_keeps_commas_unless_asked_for_semicolons(client):
    params = {"a": ASSOCIATIONS, "b": "eerstelijnszone", "format": "csv"}
    plain = client.get("/api/v1/overlay", params=params)
    assert not plain.content.startswith(BOM)
    frame = pd.read_csv(io.BytesIO(plain.content))
    assert "dominant_share" in frame.columns and frame["dominant_share"].dtype == float
    excel = read_as_excel(client.get("/api/v1/overlay", params={**params, "sep": ";"}).content)
    assert excel["dominant_share"].tolist() == pytest.approx(frame["dominant_share"].tolist())


def test_members_route_honours_format_csv(client, catalog):
    json_rows = client.get(f"/api/v1/layers/{ASSOCIATIONS}/members").json()
    response = client.get(f"/api/v1/layers/{ASSOCIATIONS}/members", params={"format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    frame = pd.read_csv(io.BytesIO(response.content))
    assert len(frame) == len(json_rows) and list(frame.columns) == list(json_rows[0])
    one_zone = pd.read_csv(io.BytesIO(client.get(f"/api/v1/layers/{ASSOCIATIONS}/members",
                                                 params={"format": "csv", "zone": "WRNL"}).content))
    assert set(one_zone["zone_code"]) == {"WRNL"} and len(one_zone) == 6  # on the pinned date (history)


def test_members_csv_for_excel_of_a_partial_layer_has_decimal_commas(client, catalog):
    response = client.get("/layers/eerstelijnszone_antwerpen_stad/leden.csv")
    frame = read_as_excel(response.content)
    assert list(frame.columns) == ["zone", "naam zone", "NIS-code", "gemeente", "aandeel"]
    assert frame["aandeel"].dtype == float and ((frame["aandeel"] > 0) & (frame["aandeel"] < 1)).any()
    assert b";0," in response.content  # a share of Antwerp written with a decimal comma


def test_writer_dialects():
    frame = pd.DataFrame({"nis_code": [34025], "share": [0.25], "nested": [False]})
    assert csv_bytes(frame, MACHINE) == b"nis_code,share,nested\n34025,0.25,nee\n"
    assert csv_bytes(frame, EXCEL, {"share": "aandeel"}) == BOM + b"nis_code;aandeel;nested\r\n34025;0,25;nee\r\n"


def test_geopackage_and_geojson_of_a_layer_and_of_a_scenario(client, catalog):
    created = client.post("/api/v1/scenarios", json={"name": "Lendelede naar Kortrijk", "base_layer": "eerstelijnszone",
                                                     "moves": [{"nis_code": 34025, "to_zone": "elz18"}]})
    layer_id = created.json()["layer_id"]
    elz = catalog.layer("eerstelijnszone")
    for layer in ("eerstelijnszone", layer_id):
        response = client.get(f"/api/v1/layers/{layer}/geopackage")
        assert response.status_code == 200 and response.content.startswith(b"SQLite format 3\x00")
        assert "attachment" in response.headers["content-disposition"]
        zones = gpd.read_file(io.BytesIO(response.content))
        assert zones.crs.to_epsg() == 31370 and len(zones) == len(elz.zones)
        assert zones["population"].sum() == pytest.approx(elz.zone_weight("population").sum(), abs=len(zones))
    moved = gpd.read_file(io.BytesIO(client.get(f"/api/v1/layers/{layer_id}/geopackage").content)).set_index("code")
    before = gpd.read_file(io.BytesIO(client.get("/api/v1/layers/eerstelijnszone/geopackage").content))
    before = before.set_index("code")
    lendelede = int(catalog.atoms.table.loc[34025, "population"])
    assert moved.loc["elz18", "population"] - before.loc["elz18", "population"] == pytest.approx(lendelede, abs=1)
    # Both are linked from the front door, next to the layer or the saved scenario.
    page = client.get("/").text
    for layer in ("eerstelijnszone", layer_id.replace(":", "%3A")):
        assert f'href="/api/v1/layers/{layer}/geopackage"' in page
        assert f'href="/api/v1/layers/{layer}/geojson"' in page
        assert f'href="/layers/{layer}/leden.csv"' in page
