"""The HTTP API through the real app (every router, real data, throwaway database)."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest

from api import serialize
from api.serialize_overlay import overlay_json
from api.settings import workspace_for
from geo.engine.atoms import Atoms
from geo.engine.layer import Layer
from geo.engine.overlay import overlay

# Golden figures of 1 January 2020 (Statbel's municipal count): pinned, see conftest.GOLDEN_YEAR.
pytestmark = pytest.mark.usefixtures("population_2020")


@pytest.fixture(scope="module")
def catalog(catalog_2020):
    return catalog_2020


def test_health(client):
    body = client.get("/health").json()
    warm_up = body.pop("warm_up")
    assert body == {"status": "ok", "municipalities": 304, "population_year": 2020, "layers": 15}
    assert set(warm_up) <= {"warm", "seconds", "prepared"} and isinstance(warm_up["warm"], bool)


def test_openapi_docs_are_served(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/overlay" in paths and "/api/v1/scenarios/{scenario_id}" in paths


def test_layers_list(client):
    layers = {layer["id"]: layer for layer in client.get("/api/v1/layers").json()}
    assert layers["eerstelijnszone"]["zone_count"] == 57
    assert layers["samenwerkingsverband"]["zone_count"] == 4
    assert set(layers["eerstelijnszone"]) >= {"id", "name", "kind", "vintage", "zone_count", "source"}


def test_layer_zones_with_population_and_member_count(client):
    body = client.get("/api/v1/layers/samenwerkingsverband").json()
    zones = {z["code"]: z for z in body["zones"]}
    assert body["population_year"] == 2020
    assert (zones["W13"]["population"], zones["W13"]["members"]) == (321_235, 14)


def test_members(client):
    rows = client.get("/api/v1/layers/samenwerkingsverband/members", params={"zone": "WRNL"}).json()
    # On the pinned date WRNL counts 6 members: Oudsbergen and Pelt have no known start (history).
    assert len(rows) == 6
    assert set(rows[0]) == {"zone_code", "zone_name", "nis_code", "municipality", "share"}
    assert {r["municipality"] for r in rows} >= {"Lommel", "Bree"}
    assert not {r["municipality"] for r in rows} & {"Pelt", "Oudsbergen"}


def test_geojson_is_wgs84_and_simplified(client):
    body = client.get("/api/v1/layers/referentieregio/geojson", params={"simplify": 500}).json()
    assert body["type"] == "FeatureCollection"
    assert len(body["features"]) == 15
    first = body["features"][0]["geometry"]["coordinates"]
    while isinstance(first[0], list):
        first = first[0]
    lon, lat = first
    assert 2.5 < lon < 6.0 and 50.6 < lat < 51.6  # Flanders in degrees, longitude first
    coarse = len(client.get("/api/v1/layers/referentieregio/geojson", params={"simplify": 2000}).content)
    fine = len(client.get("/api/v1/layers/referentieregio/geojson", params={"simplify": 10}).content)
    assert coarse < fine


def test_overlay(client):
    body = client.get("/api/v1/overlay", params={"a": "samenwerkingsverband", "b": "eerstelijnszone"}).json()
    assert (body["a"], body["b"], body["weight"], body["population_year"]) == (
        "samenwerkingsverband", "eerstelijnszone", "population", 2020)
    assert set(body["summary"]) == {"nested_share", "adjusted_rand_index", "variation_of_information",
                                    "normalized_mutual_information", "gap_population", "overlap_population",
                                    "measures_undefined", "measures_undefined_reason"}
    assert body["summary"]["measures_undefined"] is None
    zones = {z["code"]: z for z in body["zones"]}
    assert "ISOM" not in zones  # ended in 2018; Neteland continued it
    assert zones["NETELAND"]["dominant_zone"] == "elz25" and zones["NETELAND"]["dominant_share"] == 1.0
    w13 = zones["W13"]
    assert len(w13["zones_touched"]) == 4
    rits = next(z for z in w13["zones_touched"] if z["code"] == "elz40")
    assert rits["members"] == [{"nis_code": 34025, "name": "Lendelede", "population": 5787}]
    assert sum(z["population"] for z in w13["zones_touched"]) == w13["population"]


def test_overlay_from_the_other_side(client):
    body = client.get("/api/v1/overlay", params={"a": "samenwerkingsverband", "b": "eerstelijnszone",
                                                 "direction": "b"}).json()
    zones = {z["code"]: z for z in body["zones"]}
    assert len(zones) == 57
    assert zones["elz40"]["zones_touched"][0]["code"] == "W13"


def test_overlay_by_area(client):
    body = client.get("/api/v1/overlay", params={"a": "provincie", "b": "arrondissement", "weight": "area"}).json()
    assert "gap_area_km2" in body["summary"]
    assert sum(z["area_km2"] for z in body["zones"]) == pytest.approx(13_787, rel=0.01)


def test_overlay_as_csv_for_spreadsheets(client):
    response = client.get("/api/v1/overlay", params={"a": "samenwerkingsverband", "b": "eerstelijnszone",
                                                     "format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 14 + 6 + 27 + 5  # one row per member and zone it touches (W13, WRNL, WZK, Neteland)
    lendelede = next(r for r in rows if r["municipality"] == "Lendelede")
    assert (lendelede["touched_zone_name"], lendelede["outside_dominant"]) == ("RITS", "ja")  # Dutch yes/no


def test_municipality_with_its_zone_in_every_layer(client):
    body = client.get("/api/v1/municipalities/34025").json()
    assert (body["name"], body["population"], body["population_year"]) == ("Lendelede", 5787, 2020)
    zones = {entry["layer"]: entry["zones"] for entry in body["layers"]}
    assert zones["eerstelijnszone"] == [{"code": "elz40", "name": "RITS", "share": 1.0}]
    assert [z["code"] for z in zones["samenwerkingsverband"]] == ["W13"]


def test_municipality_by_old_code_lists_its_old_codes(client):
    body = client.get("/api/v1/municipalities/11007").json()
    assert (body["nis_code"], body["requested_nis_code"], body["name"]) == (11002, 11007, "Antwerpen")
    assert body["merged_from"] == [11002, 11007]
    assert {"vintage": "2019-2024", "nis_code": 11007, "name": "Borsbeek"}.items() <= \
        next(o for o in body["old_codes"] if o["nis_code"] == 11007 and o["vintage"] == "2019-2024").items()


def test_municipality_search(client):
    hits = client.get("/api/v1/municipalities", params={"q": "Lendel"}).json()
    assert hits[0] == {"nis_code": 34025, "name": "Lendelede", "matched": "Lendelede"}


@pytest.mark.parametrize("url, status, code, named", [
    ("/api/v1/layers/nope", 404, "unknown_layer", "nope"),
    ("/api/v1/layers/nope/members", 404, "unknown_layer", "nope"),
    ("/api/v1/layers/samenwerkingsverband/members?zone=W99", 404, "unknown_zone", "W99"),
    ("/api/v1/overlay?a=samenwerkingsverband&b=nope", 404, "unknown_layer", "nope"),
    ("/api/v1/overlay?a=samenwerkingsverband&b=eerstelijnszone&weight=cows", 422, "invalid_input", "weight"),
    ("/api/v1/overlay?a=samenwerkingsverband", 422, "invalid_input", "b"),
    ("/api/v1/municipalities/99999", 404, "unknown_nis_code", "99999"),
    ("/api/v1/municipalities/abc", 422, "invalid_input", "nis_code"),
    ("/api/v1/scenarios/doesnotexist", 404, "unknown_scenario", "doesnotexist"),
    ("/api/v1/overlay?a=scenario:doesnotexist&b=eerstelijnszone", 404, "unknown_scenario", "doesnotexist"),
    ("/api/v1/layers/eerstelijnszone/geojson?simplify=-1", 422, "invalid_input", "simplify"),
])
def test_errors_are_json_naming_the_problem(client, url, status, code, named):
    response = client.get(url)
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"detail", "code"}
    assert body["code"] == code
    assert named in body["detail"]


def test_scenario_lifecycle(client):
    created = client.post("/api/v1/scenarios", json={
        "name": "Lendelede naar Kortrijk", "base_layer": "eerstelijnszone", "description": "test",
        "moves": [{"nis_code": 34025, "to_zone": "elz18"}]})
    assert created.status_code == 201
    scenario = created.json()
    sid = scenario["id"]
    assert scenario["layer_id"] == f"scenario:{sid}"
    assert scenario["moved"] == [{"nis_code": 34025, "municipality": "Lendelede", "from_zones": ["elz40"],
                                  "to_zones": ["elz18"], "population": 5787}]
    zones = {z["code"]: z["population"] for z in scenario["zones"]}
    today = {z["code"]: z["population"] for z in client.get("/api/v1/layers/eerstelijnszone").json()["zones"]}
    assert zones["elz18"] == today["elz18"] + 5787 and zones["elz40"] == today["elz40"] - 5787

    assert [s["id"] for s in client.get("/api/v1/scenarios").json()] == [sid]

    # The scenario is a layer: W13 now touches one primary care zone fewer.
    before = client.get("/api/v1/overlay", params={"a": "samenwerkingsverband", "b": "eerstelijnszone"}).json()
    after = client.get("/api/v1/overlay", params={"a": "samenwerkingsverband", "b": f"scenario:{sid}"}).json()
    touched = {z["code"]: len(z["zones_touched"]) for z in after["zones"]}
    assert touched["W13"] == 3
    assert after["summary"]["adjusted_rand_index"] > before["summary"]["adjusted_rand_index"]

    patched = client.patch(f"/api/v1/scenarios/{sid}", json={
        "add_moves": [{"nis_code": 34041, "to_zone": "elz18"}], "version": 1}).json()
    assert patched["version"] == 2
    assert sorted(m["nis_code"] for m in patched["moves"]) == [34025, 34041]
    undone = client.patch(f"/api/v1/scenarios/{sid}", json={"undo": [34025]}).json()
    assert [m["nis_code"] for m in undone["moves"]] == [34041]

    assert client.delete(f"/api/v1/scenarios/{sid}").status_code == 204
    assert client.get(f"/api/v1/scenarios/{sid}").status_code == 404


def test_stale_scenario_version_is_a_conflict(client):
    sid = client.post("/api/v1/scenarios", json={"name": "s", "base_layer": "eerstelijnszone"}).json()["id"]
    assert client.patch(f"/api/v1/scenarios/{sid}", json={"name": "eerste", "version": 1}).status_code == 200
    stale = client.patch(f"/api/v1/scenarios/{sid}", json={"name": "tweede", "version": 1})
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"
    assert client.get(f"/api/v1/scenarios/{sid}").json()["name"] == "eerste"


@pytest.mark.parametrize("moves, named", [
    ([{"nis_code": 34025, "to_zone": "elz999"}], "elz999"),
    ([{"nis_code": 12345, "to_zone": "elz18"}], "12345"),
])
def test_invalid_moves_are_refused_and_nothing_is_saved(client, moves, named):
    response = client.post("/api/v1/scenarios", json={"name": "x", "base_layer": "eerstelijnszone", "moves": moves})
    assert response.status_code in (404, 422)
    assert named in response.json()["detail"]
    assert client.get("/api/v1/scenarios").json() == []


def test_scenario_on_unknown_base_layer(client):
    response = client.post("/api/v1/scenarios", json={"name": "x", "base_layer": "nope"})
    assert response.status_code == 404 and "nope" in response.json()["detail"]


def test_import_and_delete_a_layer(client):
    csv_text = "gemeente,zone_code,zone_name\nKortrijk,S1,SEL Kortrijk\nMenen,S1,SEL Kortrijk\nPelt,S2,SEL Noord\n"
    created = client.post("/api/v1/layers", data={"id": "sel", "name": "SEL-regio's"},
                          files={"file": ("sel.csv", csv_text.encode(), "text/csv")})
    assert created.status_code == 201
    assert created.json()["id"] == "sel" and created.json()["zone_count"] == 2
    assert "sel" in [layer["id"] for layer in client.get("/api/v1/layers").json()]
    overlay = client.get("/api/v1/overlay", params={"a": "sel", "b": "eerstelijnszone"}).json()
    assert {z["code"] for z in overlay["zones"]} == {"S1", "S2"}

    again = client.post("/api/v1/layers", data={"id": "sel"}, files={"file": ("sel.csv", csv_text.encode())})
    assert again.status_code == 409

    assert client.delete("/api/v1/layers/sel").status_code == 204
    assert client.get("/api/v1/layers/sel").status_code == 404


def test_shipped_layers_cannot_be_deleted_or_replaced(client):
    assert client.delete("/api/v1/layers/eerstelijnszone").status_code == 403
    response = client.post("/api/v1/layers", data={"id": "eerstelijnszone"},
                           files={"file": ("x.csv", b"nis_code,zone_code\n34025,A\n")})
    assert response.status_code == 403


def test_bad_upload_changes_nothing(client):
    response = client.post("/api/v1/layers", data={"id": "bad"},
                           files={"file": ("bad.csv", b"nis_code,zone_code\n34025,A\n99999,A\n")})
    assert response.status_code == 404 and "99999" in response.json()["detail"]
    assert "bad" not in [layer["id"] for layer in client.get("/api/v1/layers").json()]


def test_too_large_upload_is_413(client):
    limit = client.app.state.settings.max_upload_bytes
    response = client.post("/api/v1/layers", data={"id": "big"},
                           files={"file": ("big.csv", b"x" * (limit + 200_000))})
    assert response.status_code == 413 and response.json()["code"] == "too_large"


def test_writes_need_the_token_when_one_is_configured(settings):
    from fastapi.testclient import TestClient

    from api.main import create_app

    with TestClient(create_app(settings.model_copy(update={"api_token": "s3cret"}))) as client:
        body = {"name": "x", "base_layer": "eerstelijnszone"}
        missing = client.post("/api/v1/scenarios", json=body)
        assert missing.status_code == 401 and missing.json()["code"] == "unauthorized"
        wrong = client.post("/api/v1/scenarios", json=body, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert client.get("/api/v1/scenarios").json() == []  # reading stays open
        ok = client.post("/api/v1/scenarios", json=body, headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 201


def test_overlay_of_layers_without_shared_inhabitants_says_why_measures_are_missing(client):
    body = client.get("/api/v1/overlay", params={"a": "samenwerkingsverband",
                                                 "b": "eerstelijnszone_antwerpen_stad"}).json()
    summary = body["summary"]
    assert summary["adjusted_rand_index"] is None and summary["variation_of_information"] is None
    assert summary["measures_undefined"] == "no_shared_population"
    assert "geen inwoners" in summary["measures_undefined_reason"]


def test_overlay_of_the_register_gives_per_association_measures(client):
    body = client.get("/api/v1/overlay", params={"a": "samenwerkingsverbanden", "b": "referentieregio"}).json()
    assert body["summary"]["measures_undefined"] == "overlapping_zones"
    assert len(body["zones"]) == 286 and all(z["dominant_share"] <= 1.0 for z in body["zones"])


# -- the overlay JSON is written from arrays: the same bytes as the objects it replaced -------------
def reference_overlay_body(ws, a: str, b: str, weight: str = "population", direction: str = "a",
                           offset: int = 0, limit: int = 500) -> bytes:
    """What ``/api/v1/overlay`` answered before its JSON was written from the detail arrays: one
    ZoneDetail object and one dict per zone and member, through json.dumps."""
    result = overlay(ws.layer(a), ws.layer(b), weight)
    shown = result if direction == "a" else result.transposed()
    body = serialize.overlay(shown, offset, limit)
    body["summary"] = serialize.summary(result)
    body["a"], body["b"], body["direction"] = a, b, direction
    return serialize.json_bytes(body)


OVERLAY_CASES = [
    {"a": "samenwerkingsverband", "b": "eerstelijnszone"},
    {"a": "samenwerkingsverband", "b": "eerstelijnszone", "direction": "b"},
    {"a": "samenwerkingsverbanden", "b": "eerstelijnszone"},  # overlapping zones
    {"a": "eerstelijnszone_antwerpen_stad", "b": "eerstelijnszone_antwerpen_stad"},  # Antwerp split by both
    {"a": "gemeente", "b": "samenwerkingsverband"},  # zones in no zone of B: every member outside
    {"a": "samenwerkingsverband", "b": "eerstelijnszone_antwerpen_stad"},  # members no B-zone covers
    {"a": "provincie", "b": "arrondissement", "weight": "area"},
    {"a": "gemeente", "b": "politiezone", "offset": 100, "limit": 7},
    {"a": "gemeente", "b": "politiezone", "offset": 300, "limit": 50},  # the last page, partly empty
]


@pytest.mark.parametrize("params", OVERLAY_CASES, ids=lambda p: "-".join(map(str, p.values())))
def test_the_overlay_json_is_the_same_as_building_every_zone_as_objects(client, params):
    response = client.get("/api/v1/overlay", params=params)
    assert response.status_code == 200
    options = {k: params[k] for k in ("weight", "direction", "offset", "limit") if k in params}
    expected = reference_overlay_body(workspace_for(client.app.state.settings), params["a"], params["b"], **options)
    assert response.content == expected


def test_the_overlay_cases_cover_every_part_of_a_zone(client):
    """The cases above compare something in each list a zone has, and numbers of both kinds."""
    bodies = [client.get("/api/v1/overlay", params=p).json() for p in OVERLAY_CASES]
    zones = [z for body in bodies for z in body["zones"]]
    assert any(z["not_covered"] for z in zones)
    assert any(z["members_outside_dominant"] and z["dominant_zone"] for z in zones)
    assert any(z["members_outside_dominant"] and z["dominant_zone"] is None for z in zones)
    assert any(0 < t["share"] < 1 for z in zones for t in z["zones_touched"])
    assert any(len(t["members"]) > 1 for z in zones for t in z["zones_touched"])
    assert any(isinstance(z.get("area_km2"), float) for z in zones)
    assert bodies[-1]["zones"] and len(bodies[-1]["zones"]) < 50


def test_the_overlay_json_writes_any_name_and_share_as_json_does():
    """Names with quotes, backslashes, tabs, markup and accents; shares from 1e-7 to 1 (tiny
    ones Python writes with an exponent); a municipality in no zone of B; area in km²."""
    names = ['Sint-"Quote"', "Back\\slash", "Tab\there", "</script><b>&amp;", "Élouges-€", "Zeta"]
    atoms = Atoms.from_frame(pd.DataFrame({"nis_code": range(11001, 11007), "name": names, "region": "Vlaams Gewest",
                                           "area_km2": [10.0, 3.3, 1e-3, 7.77777, 0.5, 2.0],
                                           "population": [1000, 2_000_001, 3, 400_000, 1, 6000]}), 2020)
    a = Layer.from_members("a", pd.DataFrame({
        "zone_code": ['Z"1', 'Z"1', "Z\\2", "Z\\2", "Z\\2", "Z3"], "zone_name": ['Zone "een"', 'Zone "een"', "Tweé\ttab",
                                                                    "Tweé\ttab", "Tweé\ttab", "</script>"],
        "nis_code": [11001, 11002, 11002, 11003, 11004, 11006], "share": [1.0, 0.9999999, 1e-7, 1.0, 0.123456789, 1.0]}),
        atoms)
    b = Layer.from_members("b", pd.DataFrame({
        "zone_code": ["P", "P", "Q", "Q"], "zone_name": ["Pé", "Pé", "Q\"q", "Q\"q"],
        "nis_code": [11001, 11002, 11002, 11004], "share": [1.0, 0.5, 0.5, 0.3333333333]}), atoms)
    for first, second in ((a, b), (b, a), (a, a)):
        for weight in ("population", "area"):
            result = overlay(first, second, weight)
            expected = serialize.json_bytes({**serialize.overlay(result), "direction": "a"})
            assert overlay_json(result, direction="a") == expected
            for offset, limit in ((1, 1), (2, 5), (9, 1)):
                assert overlay_json(result, offset, limit) == serialize.json_bytes(serialize.overlay(result, offset, limit))
    body = json.loads(overlay_json(overlay(a, b)))
    assert sorted(z["name"] for z in body["zones"]) == ["</script>", "Tweé\ttab", 'Zone "een"']
    assert any(t["share"] < 1e-4 for z in body["zones"] for t in z["zones_touched"])  # written with an exponent


def test_an_imported_layer_says_how_it_was_weighted_after_a_restart(client):
    """A polygon import's ``weighting`` and ``left_out_zones`` are what its import answered, in
    the same process and after a restart (they are saved with the layer, geo.storage.store)."""
    import geopandas as gpd
    from fastapi.testclient import TestClient
    from shapely.geometry import box

    from geo.geometry.polygons import municipal_polygons
    from tests.conftest import reset_app_caches

    kortrijk = municipal_polygons().loc[[34022]].geometry.iloc[0]
    sea = box(0, 250_000, 1_000, 251_000)  # far out at sea: covers nobody, left out
    frame = gpd.GeoDataFrame({"code": ["K", "Z"], "name": ["Kortrijk", "Zee"]}, geometry=[kortrijk, sea], crs=31370)
    created = client.post("/api/v1/layers", data={"id": "kust"},
                          files={"file": ("kust.geojson", frame.to_json().encode(), "application/geo+json")})
    assert created.status_code == 201, created.text
    said = {k: created.json().get(k) for k in ("weighting", "left_out_zones")}
    assert said == {"weighting": "population", "left_out_zones": ["Z"]}
    assert {k: client.get("/api/v1/layers/kust").json().get(k) for k in said} == said
    reset_app_caches()  # a new workspace reads the layer back from the database, as after a restart
    from api.main import create_app

    with TestClient(create_app(client.app.state.settings)) as restarted:
        assert {k: restarted.get("/api/v1/layers/kust").json().get(k) for k in said} == said
