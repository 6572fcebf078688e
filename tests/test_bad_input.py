"""Bad input through the HTTP API, case by case: every one gets a 4xx JSON error naming the
problem, never a 500, and changes nothing (no layer or scenario is saved).

The fuzz tests (``test_fuzz.py``) try random input against the schema; these are the cases a
planner really sends: broken and odd files, broken geometry, coordinates in the wrong order or
CRS, codes that do not exist or are from another vintage, and too much data.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from geo.geometry.polygons import municipal_polygons


def _upload(client: TestClient, filename: str, content: bytes, layer_id: str = "proef", **form: str):
    return client.post("/api/v1/layers", data={"id": layer_id, **form}, files={"file": (filename, content)})


def _layer_ids(client: TestClient) -> list[str]:
    return [layer["id"] for layer in client.get("/api/v1/layers").json()]


def _assert_refused(response, status: int | tuple[int, ...], code: str | None, *named: str) -> None:
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, response.text
    body = response.json()
    assert set(body) == {"detail", "code"}, body
    if code:
        assert body["code"] == code, body
    for word in named:
        assert word in body["detail"], (word, body["detail"])


def _feature_collection(nis_codes: list[int], code: str = "K", crs: str = "EPSG:4326") -> dict:
    frame = municipal_polygons().loc[nis_codes].reset_index(drop=True).to_crs(crs)[["geometry"]]
    frame["code"] = code
    return json.loads(frame.to_json())


def _polygon(coordinates: list, code: str = "Z", geometry_type: str = "Polygon") -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": code},
         "geometry": {"type": geometry_type, "coordinates": coordinates}}]}).encode()


def _swap(coordinates: list) -> list:
    if coordinates and isinstance(coordinates[0], (int, float)):
        return [coordinates[1], coordinates[0]]
    return [_swap(c) for c in coordinates]


# -- membership tables ---------------------------------------------------------------------------
@pytest.mark.parametrize("filename, content, status, code, named", [
    ("leeg.csv", b"", 422, "invalid_input", ["leeg.csv", "empty"]),
    ("spaties.csv", b"  \n\n \r\n", 422, "invalid_input", ["empty"]),
    ("kop.csv", b"nis_code,zone_code\n", 422, "invalid_input", ["no rows"]),
    ("binair.csv", bytes(range(256)) * 40, 422, "invalid_input", ["binair.csv"]),
    ("nul.csv", b"\x00" * 100, 422, "invalid_input", ["nul.csv"]),
    ("quote.csv", b'nis_code,zone_code\n"34025,A\n', 422, "invalid_input", ["could not be read"]),
    ("kolommen.csv", b"foo,bar\n1,2\n", 422, "invalid_input", ["municipality", "nis_code"]),
    ("geenzone.csv", b"nis_code,zone_code\n34025,\n", 422, "invalid_input", ["no zone code"]),
    ("aandeel.csv", b"nis_code,zone_code,share\n34025,A,1.5\n", 422, "invalid_input", ["share", "1.5"]),
    ("aandeel0.csv", b"nis_code,zone_code,share\n34025,A,nul\n", 422, "invalid_input", ["share", "nul"]),
    ("onbestaand.csv", b"nis_code,zone_code\n34025,A\n99999,A\n", 404, "unknown_nis_code", ["99999"]),
    ("naam.csv", b"gemeente,zone_code\nAtlantis,A\n", 404, "unknown_nis_code", ["Atlantis"]),
    ("dubbel.csv", b"nis_code,zone_code\n34025,A\n34025,A\n", 422, "invalid_input", ["34025", "twice"]),
    ("tweenamen.csv", b"nis_code,zone_code,zone_name\n34025,A,Noord\n34022,A,Zuid\n", 422, None,
     ["more than one name"]),
    ("kapot.xlsx", b"PK\x03\x04 not really a workbook", 422, "invalid_input", ["kapot.xlsx"]),
    ("programma.exe", b"MZ\x90\x00", 422, "unsupported_format", ["programma.exe", ".csv", ".geojson"]),
    ("zonder_extensie", b"nis_code,zone_code\n34025,A\n", 422, "unsupported_format", ["zonder_extensie"]),
])
def test_bad_tables_are_refused_naming_the_problem(client, filename, content, status, code, named):
    _assert_refused(_upload(client, filename, content), status, code, *named)
    assert "proef" not in _layer_ids(client)


def test_nis_code_from_another_vintage_is_refused_when_the_vintage_is_stated(client):
    # 11007 is Borsbeek until 2024, part of Antwerpen since 2025: not a 2025 code.
    _assert_refused(_upload(client, "t.csv", b"nis_code,zone_code\n11007,A\n", vintage="2025"),
                    404, "unknown_nis_code", "11007", "2025")
    _assert_refused(_upload(client, "t.csv", b"nis_code,zone_code\n11002,A\n", vintage="1977"),
                    422, "invalid_input", "1977", "2019-2024")
    assert "proef" not in _layer_ids(client)
    # Without a stated vintage the old code is carried forward: Borsbeek's share of Antwerpen.
    ok = _upload(client, "t.csv", b"nis_code,zone_code\n11007,A\n")
    assert ok.status_code == 201, ok.text
    members = client.get("/api/v1/layers/proef/members").json()
    assert [(m["nis_code"], m["share"] < 0.05) for m in members] == [(11002, True)]


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-16", "utf-8-sig"])
def test_names_in_other_encodings_than_utf8_are_read(client, encoding):
    text = "gemeente;zone_code;zone_name\nSint-Genesius-Rode;R1;Rhode-Saint-Genèse en Drogenbos\nDrogenbos;R1;" \
           "Rhode-Saint-Genèse en Drogenbos\n"
    response = _upload(client, "rand.csv", text.encode(encoding))
    assert response.status_code == 201, response.text
    zones = client.get("/api/v1/layers/proef").json()["zones"]
    assert [z["name"] for z in zones] == ["Rhode-Saint-Genèse en Drogenbos"]


def test_invalid_utf8_in_a_form_field_or_json_body_is_a_client_error(client):
    raw = (b'--b\r\nContent-Disposition: form-data; name="id"\r\n\r\n\xff\xfe\r\n'
           b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nnis_code,zone_code\n'
           b'34025,A\n\r\n--b--\r\n')
    response = client.post("/api/v1/layers", content=raw, headers={"content-type": "multipart/form-data; boundary=b"})
    _assert_refused(response, 422, "invalid_input", "id")
    response = client.post("/api/v1/scenarios", content=b'{"name": "\xff\xfe", "base_layer": "provincie"}',
                           headers={"content-type": "application/json"})
    _assert_refused(response, (400, 422), None, "body")
    for broken in (b"garbage", b"--b\r\nno headers\r\n--b--"):
        response = client.post("/api/v1/layers", content=broken,
                               headers={"content-type": "multipart/form-data; boundary=b"})
        _assert_refused(response, (400, 422), None)
    assert _layer_ids(client) == [layer["id"] for layer in client.get("/api/v1/layers").json()]
    assert client.get("/api/v1/scenarios").json() == []


# -- polygons --------------------------------------------------------------------------------------
BOWTIE = [[[3.20, 50.80], [3.30, 50.90], [3.30, 50.80], [3.20, 50.90], [3.20, 50.80]]]


@pytest.mark.parametrize("filename, content, code, named", [
    ("kapot.geojson", b"{not json", "invalid_input", ["kapot.geojson", "could not be read"]),
    ("leeg.geojson", b"", "invalid_input", ["empty"]),
    ("geenfeatures.geojson", b'{"type": "FeatureCollection", "features": []}', "invalid_input", ["no features"]),
    ("strik.geojson", _polygon(BOWTIE, "STRIK"), "invalid_geometry", ["STRIK", "Self-intersection"]),
    ("leegpolygoon.geojson", _polygon([], "LEEG"), "invalid_geometry", ["LEEG", "empty"]),
    ("punt.geojson", _polygon([3.2, 50.8], "PUNT", "Point"), "invalid_geometry", ["PUNT", "Point"]),
    ("zee.geojson", _polygon([[[1.0, 52.0], [1.1, 52.0], [1.1, 52.1], [1.0, 52.0]]], "ZEE"), "invalid_geometry",
     ["do not overlap"]),
    ("geenzip.zip", b"PK\x03\x04 garbage", "invalid_input", ["geenzip.zip", "zip"]),
])
def test_bad_polygons_are_refused_naming_the_feature(client, filename, content, code, named):
    _assert_refused(_upload(client, filename, content), 422, code, *named)
    assert "proef" not in _layer_ids(client)


def test_a_read_error_does_not_reveal_server_paths(client):
    body = _upload(client, "kapot.geojson", b"{not json").json()
    assert "/tmp" not in body["detail"] and "regiomatch-import" not in body["detail"]


def test_coordinates_in_latitude_longitude_order_get_a_hint(client):
    collection = _feature_collection([34022])
    for feature in collection["features"]:
        feature["geometry"]["coordinates"] = _swap(feature["geometry"]["coordinates"])
    _assert_refused(_upload(client, "omgekeerd.geojson", json.dumps(collection).encode()), 422, "invalid_geometry",
                    "latitude, longitude", "longitude first")


def test_lambert_coordinates_without_a_crs_are_refused_as_wrong_crs(client):
    # GeoJSON without "crs" is WGS84 by the standard; metres in it are not degrees.
    collection = _feature_collection([34022], crs="EPSG:31370")
    collection.pop("crs", None)
    _assert_refused(_upload(client, "lambert.geojson", json.dumps(collection).encode()), 422, "wrong_crs",
                    "EPSG:31370", "EPSG:4326")


def test_degrees_declared_as_lambert_are_refused(client):
    collection = _feature_collection([34022])
    collection["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::31370"}}
    _assert_refused(_upload(client, "verkeerd.geojson", json.dumps(collection).encode()), 422, "invalid_geometry",
                    "do not overlap")


def _zipped_shapefile(tmp_path: Path, with_prj: bool) -> bytes:
    frame = municipal_polygons().loc[[34022]].reset_index(drop=True)[["geometry"]]
    frame["code"] = "K"
    frame.to_file(tmp_path / "kortrijk.shp")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(tmp_path.glob("kortrijk.*")):
            if with_prj or path.suffix != ".prj":
                archive.write(path, path.name)
    return buffer.getvalue()


def test_shapefile_without_prj_is_refused_as_missing_crs(client, tmp_path):
    _assert_refused(_upload(client, "kortrijk.zip", _zipped_shapefile(tmp_path, with_prj=False)), 422, "wrong_crs",
                    "no coordinate reference system", ".prj")
    assert "proef" not in _layer_ids(client)
    ok = _upload(client, "kortrijk.zip", _zipped_shapefile(tmp_path, with_prj=True))
    assert ok.status_code == 201, ok.text


def test_duplicate_zone_codes_with_different_names_are_refused(client):
    collection = _feature_collection([34022, 34025])
    collection["features"][0]["properties"]["name"] = "Kortrijk"
    collection["features"][1]["properties"]["name"] = "Lendelede"
    _assert_refused(_upload(client, "dubbel.geojson", json.dumps(collection).encode()), 422, "invalid_input",
                    "'K'", "more than one name")


def test_duplicate_zone_codes_with_one_name_are_one_zone(client):
    collection = _feature_collection([34022, 34025])
    response = _upload(client, "stukken.geojson", json.dumps(collection).encode())
    assert response.status_code == 201, response.text
    assert response.json()["zone_count"] == 1
    assert sorted(m["nis_code"] for m in client.get("/api/v1/layers/proef/members").json()) == [34022, 34025]


# -- scenarios ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("move, status, code, named", [
    ({"nis_code": 34025, "to_zone": "elz999"}, 422, "invalid_input", ["elz999"]),
    ({"nis_code": 99999, "to_zone": "elz18"}, 404, "unknown_nis_code", ["99999"]),
    ({"nis_code": 1234, "to_zone": "elz18"}, 422, "invalid_input", ["nis_code"]),
    ({"nis_code": "Kortrijk", "to_zone": "elz18"}, 422, "invalid_input", ["nis_code"]),
    ({"nis_code": 34025}, 422, "invalid_input", ["to_zone"]),
    ({"nis_code": 34025, "to_zone": ""}, 422, "invalid_input", ["to_zone"]),
])
def test_scenario_moves_to_nowhere_are_refused_and_nothing_changes(client, move, status, code, named):
    created = client.post("/api/v1/scenarios", json={"name": "s", "base_layer": "eerstelijnszone",
                                                     "moves": [{"nis_code": 34041, "to_zone": "elz18"}]}).json()
    refused = client.post("/api/v1/scenarios", json={"name": "x", "base_layer": "eerstelijnszone", "moves": [move]})
    _assert_refused(refused, status, code, *named)
    patched = client.patch(f"/api/v1/scenarios/{created['id']}", json={"add_moves": [move], "version": 1})
    _assert_refused(patched, status, code, *named)
    after = client.get(f"/api/v1/scenarios/{created['id']}").json()
    assert (after["version"], after["moves"]) == (1, [{"nis_code": 34041, "to_zone": "elz18"}])
    assert [s["id"] for s in client.get("/api/v1/scenarios").json()] == [created["id"]]


def test_a_scenario_on_a_scenario_or_unknown_layer_names_it(client):
    _assert_refused(client.post("/api/v1/scenarios", json={"name": "x", "base_layer": "scenario:nope"}),
                    404, "unknown_scenario", "nope")
    _assert_refused(client.post("/api/v1/scenarios", json={"name": "x", "base_layer": "elz"}),
                    404, "unknown_layer", "elz", "eerstelijnszone")


def test_patch_with_a_stale_version_changes_nothing(client):
    sid = client.post("/api/v1/scenarios", json={"name": "s", "base_layer": "eerstelijnszone"}).json()["id"]
    assert client.patch(f"/api/v1/scenarios/{sid}", json={"name": "eerste", "version": 1}).status_code == 200
    stale = client.patch(f"/api/v1/scenarios/{sid}", json={
        "add_moves": [{"nis_code": 34025, "to_zone": "elz18"}], "version": 1})
    _assert_refused(stale, 409, "conflict", "version 2", "not 1")
    assert client.get(f"/api/v1/scenarios/{sid}").json()["moves"] == []


# -- size limits ---------------------------------------------------------------------------------------
@pytest.fixture
def small_limit_client(make_client):
    return make_client(max_upload_bytes=100_000)


def _rows(n_bytes: int) -> bytes:
    rows = b"nis_code,zone_code\n"
    line = b"34025,A\n"
    return rows + line * (n_bytes // len(line))


def test_upload_over_the_limit_is_413_and_under_it_is_read(small_limit_client):
    client = small_limit_client
    # 150 kB: within the multipart framing allowance of the middleware, so the route's own check answers.
    _assert_refused(_upload(client, "groot.csv", _rows(150_000)), 413, "too_large", "100000")
    _assert_refused(_upload(client, "groter.csv", _rows(1_000_000)), 413, "too_large", "100000")
    assert "proef" not in _layer_ids(client)
    # Just under the limit: read (and refused only for what it says: Lendelede twice in zone A).
    _assert_refused(_upload(client, "net.csv", _rows(90_000)), 422, "invalid_input", "twice")


def test_streamed_body_without_length_over_the_limit_is_413(small_limit_client):
    """A chunked request declares no Content-Length; the middleware counts what arrives."""
    client = small_limit_client
    head = (b'--b\r\nContent-Disposition: form-data; name="id"\r\n\r\nproef\r\n'
            b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n')

    def multipart():
        yield head
        for _ in range(40):
            yield b"34025,A\n" * 2000
        yield b"\r\n--b--\r\n"

    response = client.post("/api/v1/layers", content=multipart(),
                           headers={"content-type": "multipart/form-data; boundary=b"})
    assert response.request.headers.get("transfer-encoding") == "chunked"
    _assert_refused(response, 413, "too_large", "100000")

    def json_body():
        yield b'{"name": "'
        for _ in range(40):
            yield b"x" * 16_000
        yield b'", "base_layer": "provincie"}'

    response = client.post("/api/v1/scenarios", content=json_body(), headers={"content-type": "application/json"})
    _assert_refused(response, 413, "too_large")
    assert client.get("/api/v1/scenarios").json() == []


def test_declared_length_over_the_limit_is_413_before_reading(small_limit_client):
    response = small_limit_client.post("/api/v1/scenarios", content=b"{}",
                                       headers={"content-type": "application/json", "content-length": "999999999"})
    _assert_refused(response, 413, "too_large")


def test_too_many_moves_or_too_long_fields_are_refused(client):
    moves = [{"nis_code": 34025, "to_zone": "elz18"}] * 1001
    _assert_refused(client.post("/api/v1/scenarios", json={"name": "x", "base_layer": "eerstelijnszone",
                                                           "moves": moves}), 422, "invalid_input", "moves")
    _assert_refused(client.post("/api/v1/scenarios", json={"name": "x" * 201, "base_layer": "eerstelijnszone"}),
                    422, "invalid_input", "name")
    _assert_refused(client.get("/api/v1/municipalities", params={"q": "x" * 101}), 422, "invalid_input", "q")
    assert client.get("/api/v1/scenarios").json() == []
