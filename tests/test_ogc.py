"""The feature service at /ogc (OGC API - Features Parts 1 and 2) through the app: collections,
paging, CRSs and axis order, bbox, property filters, errors, HTML pages and ETags.

Real clients (GDAL, QGIS) against a running server: tests/test_ogc_clients.py.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}"
LAMBERT_X, LAMBERT_Y = (15_000, 300_000), (145_000, 250_000)  # Flanders and Brussels in EPSG:31370


def _coordinates(feature: dict) -> np.ndarray:
    rings = feature["geometry"]["coordinates"]
    return np.array([xy for polygon in rings for ring in polygon for xy in ring])


def _items(client, collection: str, **params) -> dict:
    response = client.get(f"/ogc/collections/{collection}/items", params={"f": "json", **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_landing_and_conformance_declare_what_is_served(client):
    landing = client.get("/ogc", params={"f": "json"}).json()
    rels = {link["rel"]: link for link in landing["links"]}
    assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    api = client.get(rels["service-desc"]["href"])
    assert api.headers["content-type"].startswith("application/vnd.oai.openapi+json;version=3.0")
    description = api.json()
    assert description["openapi"] == "3.0.3" and all(p.startswith("/ogc") for p in description["paths"])
    items = description["paths"]["/ogc/collections/{collection_id}/items"]["get"]
    limit = next(p for p in items["parameters"] if p["name"] == "limit")["schema"]
    assert (limit["default"], limit["maximum"]) == (100, 10000)
    text = api.text
    assert '"anyOf"' not in text and '{"type":"null"}' not in text  # OpenAPI 3.1 only
    conforms = client.get("/ogc/conformance").json()["conformsTo"]
    for part in ("ogcapi-features-1/1.0/conf/core", "ogcapi-features-1/1.0/conf/geojson",
                 "ogcapi-features-1/1.0/conf/html", "ogcapi-features-1/1.0/conf/oas30",
                 "ogcapi-features-2/1.0/conf/crs"):
        assert f"http://www.opengis.net/spec/{part}" in conforms


def test_every_layer_and_a_new_scenario_is_a_collection(client):
    ids = [c["id"] for c in client.get("/ogc/collections").json()["collections"]]
    layers = [layer["id"] for layer in client.get("/api/v1/layers").json()]
    assert ids == [*layers, "gemeenten", "atlas", "grensgemeenten"]
    scenario = client.post("/api/v1/scenarios", json={
        "name": "Lendelede naar Kortrijk", "base_layer": "eerstelijnszone",
        "moves": [{"nis_code": 34025, "to_zone": "elz18"}]}).json()
    sid = scenario["id"]
    collections = client.get("/ogc/collections").json()["collections"]
    assert f"scenario-{sid}" in [c["id"] for c in collections]
    zones = {f["id"]: f["properties"] for f in _items(client, f"scenario-{sid}")["features"]}
    assert zones["elz18"]["moved_in"] == "Lendelede (34025)" and zones["elz18"]["changed"] is True
    assert zones["elz40"]["moved_out"] == "Lendelede (34025)"
    assert zones["elz1"]["changed"] is False and zones["elz1"]["moved_in"] is None
    assert {code: p["population"] for code, p in zones.items()} == {
        z["code"]: z["population"] for z in scenario["zones"]}


def test_an_imported_layer_is_a_collection_and_collection_ids_stay_reserved(client):
    csv_text = "nis_code,zone_code,zone_name\n34022,A,Regio A\n34025,A,Regio A\n34013,B/2 é,Regio B\n"
    assert client.post("/api/v1/layers", data={"id": "sel", "name": "SEL-regio's"},
                       files={"file": ("sel.csv", csv_text.encode(), "text/csv")}).status_code == 201
    zones = {f["id"]: f["properties"] for f in _items(client, "sel")["features"]}
    assert set(zones) == {"A", "B/2 é"} and zones["A"]["members"] == 2
    html = client.get("/ogc/collections/sel/items", params={"f": "html"}).text
    href = re.search(r'href="(http://testserver/ogc/collections/sel/items/B[^"]*)"', html).group(1)
    assert "B%2F2%20%C3%A9" in href
    assert client.get(href.replace("&amp;", "&")).text.count("Regio B") >= 1
    one = client.get("/ogc/collections/sel/items/B%2F2%20%C3%A9", params={"f": "json"}).json()
    assert one["id"] == "B/2 é" and one["properties"]["name"] == "Regio B"
    assert client.get("/ogc/collections/sel", params={"f": "json"}).json()["title"] == "SEL-regio's"
    assert _items(client, "gemeenten", sel="A")["numberMatched"] == 2  # the new layer is a property too
    for reserved in ("gemeenten", "atlas", "grensgemeenten"):
        response = client.post("/api/v1/layers", data={"id": reserved},
                               files={"file": ("x.csv", b"nis_code,zone_code\n34025,A\n")})
        assert response.status_code == 403 and "/ogc" in response.json()["detail"]
    assert client.delete("/api/v1/layers/sel").status_code == 204
    assert client.get("/ogc/collections/sel/items").status_code == 404


def test_a_collection_names_its_crss_and_storage_crs(client):
    c = client.get("/ogc/collections/eerstelijnszone", params={"f": "json"}).json()
    assert c["storageCrs"] == EPSG.format(31370)
    assert set(c["crs"]) == {CRS84, EPSG.format(4326), EPSG.format(31370), EPSG.format(3857)}
    lon_min, lat_min, lon_max, lat_max = c["extent"]["spatial"]["bbox"][0]
    assert 2.4 < lon_min < lon_max < 6.5 and 50.6 < lat_min < lat_max < 51.6
    assert any(link["rel"] == "items" and link["type"] == "application/geo+json" for link in c["links"])


def test_zones_carry_what_the_layer_api_says(client):
    page = _items(client, "eerstelijnszone", limit=1000)
    layer = client.get("/api/v1/layers/eerstelijnszone").json()
    assert page["numberMatched"] == page["numberReturned"] == len(layer["zones"]) == len(page["features"])
    expected = {z["code"]: (z["name"], z["population"], z["members"]) for z in layer["zones"]}
    found = {f["id"]: (f["properties"]["name"], f["properties"]["population"], f["properties"]["members"])
             for f in page["features"]}
    assert found == expected
    assert {f["properties"]["population_year"] for f in page["features"]} == {layer["population_year"]}
    assert {f["geometry"]["type"] for f in page["features"]} == {"MultiPolygon"}


def test_paging_follows_next_links_to_every_feature_once(client):
    seen, url, pages = [], "/ogc/collections/gemeenten/items?f=json&limit=100", 0
    previous = None
    while url:
        body = client.get(url).json()
        assert body["numberMatched"] == 304 and body["numberReturned"] == len(body["features"])
        seen += [f["id"] for f in body["features"]]
        links = {link["rel"]: link["href"] for link in body["links"]}
        assert ("prev" in links) == (pages > 0)
        if previous is not None:
            assert client.get(links["prev"]).json()["features"][0]["id"] == previous
        previous = body["features"][0]["id"]
        url, pages = links.get("next"), pages + 1
    assert pages == 4 and len(seen) == len(set(seen)) == 304
    assert sorted(seen) == seen  # NIS codes in order, so pages are stable


@pytest.mark.parametrize("crs,lat_first", [(CRS84, False), (EPSG.format(4326), True), ("EPSG:4326", True)])
def test_degrees_come_in_the_axis_order_of_the_crs(client, crs, lat_first):
    response = client.get("/ogc/collections/eerstelijnszone/items/elz40", params={"f": "json", "crs": crs})
    xy = _coordinates(response.json())
    first, second = (xy[:, 1], xy[:, 0]) if lat_first else (xy[:, 0], xy[:, 1])
    assert ((2.5 < first) & (first < 6.5)).all() and ((50.6 < second) & (second < 51.6)).all()  # lon, lat
    assert response.headers["content-crs"] == f"<{EPSG.format(4326) if lat_first else CRS84}>"


def test_lambert_72_and_web_mercator_are_metres(client):
    lambert = _items(client, "provincie", crs=EPSG.format(31370))
    xy = np.vstack([_coordinates(f) for f in lambert["features"]])
    assert LAMBERT_X[0] < xy[:, 0].min() and xy[:, 0].max() < LAMBERT_X[1]
    assert LAMBERT_Y[0] < xy[:, 1].min() and xy[:, 1].max() < LAMBERT_Y[1]
    mercator = _items(client, "provincie", crs=EPSG.format(3857))
    xy = np.vstack([_coordinates(f) for f in mercator["features"]])
    assert 250_000 < xy[:, 0].min() and xy[:, 0].max() < 700_000 and 6_500_000 < xy[:, 1].min() < 6_800_000


def test_a_bbox_selects_the_same_zones_in_every_crs(client):
    # Around Kortrijk: CRS84 (lon,lat), EPSG:4326 (lat,lon) and Lambert 72 boxes of the same place.
    boxes = [({"bbox": "3.22,50.78,3.32,50.85"}),
             ({"bbox": "50.78,3.22,50.85,3.32", "bbox-crs": EPSG.format(4326)}),
             ({"bbox": "71000,165000,78000,173000", "bbox-crs": EPSG.format(31370)})]
    found = [{f["id"] for f in _items(client, "eerstelijnszone", **box)["features"]} for box in boxes]
    assert found[0] and found[0] == found[1]
    assert found[0] & found[2]
    everything = _items(client, "eerstelijnszone", limit=1000)["numberMatched"]
    assert all(len(ids) < everything for ids in found)


def test_property_filters(client):
    members = {m["nis_code"] for m in client.get("/api/v1/layers/eerstelijnszone/members",
                                                 params={"zone": "elz40"}).json()}
    municipalities = _items(client, "gemeenten", zone="elz40")
    assert {f["id"] for f in municipalities["features"]} == members
    assert _items(client, "gemeenten", eerstelijnszone="elz40")["numberMatched"] == len(members)
    projects = _items(client, "atlas", legal_type="projectvereniging", limit=1000)
    assert projects["numberMatched"] > 0
    assert {f["properties"]["legal_type"] for f in projects["features"]} == {"Projectvereniging"}
    next_link = _items(client, "atlas", legal_type="Projectvereniging", limit=5)["links"]
    assert "legal_type=Projectvereniging" in next(link["href"] for link in next_link if link["rel"] == "next")


def test_atlas_and_grensgemeenten_as_the_atlas_says(client):
    atlas = client.get("/api/v1/atlas").json()
    rows = {r["code"]: r for r in atlas["associations"]}
    features = _items(client, "atlas", limit=1000)["features"]
    assert {f["id"] for f in features} == set(rows)
    for f in features:
        row, p = rows[f["id"]], f["properties"]
        assert (p["name"], p["legal_type"], p["status"], p["members"], p["zones_touched"], p["dominant_zone"]) == (
            row["name"], row["legal_type"], row["status"], row["members"], row["zones_touched"], row["dominant_zone"])
        assert p["dominant_share"] == pytest.approx(row["dominant_share"], abs=1e-4)
        assert p["members_outside"] == len(row["outside"]) and p["population"] == round(row["population"])
    counts = {m["nis_code"]: m for m in atlas["municipalities"]}
    border = _items(client, "grensgemeenten", limit=1000)["features"]
    assert len(border) == 285  # the Flemish municipalities, as the atlas page lists them
    for f in border:
        m = counts[f["id"]]
        assert (f["properties"]["associations"], f["properties"]["crossing"], f["properties"]["minority_side"]) == (
            m["associations"], m["crossing"], m["minority_side"])


@pytest.mark.parametrize("url,status,code", [
    ("/ogc/collections/geen-laag", 404, "unknown_collection"),
    ("/ogc/collections/geen-laag/items", 404, "unknown_collection"),
    ("/ogc/collections/scenario-onbekend/items", 404, "unknown_collection"),
    ("/ogc/collections/eerstelijnszone/items/elz999", 404, "unknown_feature"),
    ("/ogc/collections/eerstelijnszone/items?bbox=1,2,3", 400, "invalid_input"),
    ("/ogc/collections/eerstelijnszone/items?bbox=4,51,3,50", 400, "invalid_input"),
    ("/ogc/collections/eerstelijnszone/items?bbox=91,4,92,5&bbox-crs=EPSG:4326", 400, "invalid_input"),
    ("/ogc/collections/eerstelijnszone/items?crs=EPSG:28992", 400, "wrong_crs"),
    ("/ogc/collections/eerstelijnszone/items?bbox=1,2,3,4&bbox-crs=EPSG:1", 400, "wrong_crs"),
    ("/ogc/collections/eerstelijnszone/items?limit=0", 400, "invalid_input"),
    ("/ogc/collections/eerstelijnszone/items?limit=abc", 400, "invalid_input"),
    ("/ogc/collections/eerstelijnszone/items?kleur=rood", 400, "invalid_input"),
    ("/ogc/collections/eerstelijnszone?kleur=rood", 400, "invalid_input"),
])
def test_errors_are_ogc_exceptions(client, url, status, code):
    response = client.get(url)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["description"] == body["detail"] and body["description"]


def test_html_pages_are_dutch_and_run_no_script_of_their_own(client):
    for url in ["/ogc", "/ogc/conformance", "/ogc/collections", "/ogc/collections/eerstelijnszone",
                "/ogc/collections/eerstelijnszone/items", "/ogc/collections/eerstelijnszone/items/elz40",
                "/ogc/collections/atlas/items", "/ogc/collections/gemeenten/items/34025"]:
        response = client.get(url, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html"), url
        html = response.text
        # The page itself runs nothing; the site's search box brings its suggestions script (a file).
        scripts = re.findall(r"<script[^>]*>", html.split("</header>")[1])
        assert '<html lang="nl">' in html and all('src="/maps/static/' in s for s in scripts), scripts
        assert "content-security-policy" in response.headers
    landing = client.get("/ogc", params={"f": "html"}).text
    assert "WFS / OGC API &ndash; Features" in landing and "http://testserver/ogc" in landing
    items = client.get("/ogc/collections/eerstelijnszone/items", params={"f": "html", "limit": 10}).text
    assert "Objecten 1 tot 10 van 57" in items and "volgende" in items and "Inwoners" in items
    assert re.search(r"<td class=\"num\">\d{1,3}(\.\d{3})+</td>", items)  # 96.275, not 96275


def test_answers_have_etags_and_revalidate(client):
    first = client.get("/ogc/collections/eerstelijnszone/items", params={"f": "json", "limit": 5})
    etag = first.headers["etag"]
    again = client.get("/ogc/collections/eerstelijnszone/items", params={"f": "json", "limit": 5},
                       headers={"If-None-Match": etag})
    assert again.status_code == 304
    other = client.get("/ogc/collections/eerstelijnszone/items", params={"f": "json", "limit": 6})
    assert other.headers["etag"] != etag


@pytest.mark.usefixtures("population_2020")
def test_the_population_year_of_the_service(client):
    zones = {f["id"]: f["properties"] for f in _items(client, "eerstelijnszone", limit=1000)["features"]}
    layer = client.get("/api/v1/layers/eerstelijnszone").json()
    assert layer["population_year"] == 2020 and {p["population_year"] for p in zones.values()} == {2020}
    assert {z["code"]: z["population"] for z in layer["zones"]} == {c: p["population"] for c, p in zones.items()}


def test_a_changed_scenario_is_served_changed_and_names_are_escaped(client):
    sid = client.post("/api/v1/scenarios", json={"name": "<script>alert(1)</script>", "base_layer": "eerstelijnszone",
                                                  "moves": [{"nis_code": 34025, "to_zone": "elz18"}]}).json()["id"]
    before = _items(client, f"scenario-{sid}", zone="elz18")["features"][0]["properties"]
    assert client.patch(f"/api/v1/scenarios/{sid}", json={"undo": [34025]}).status_code == 200
    after = _items(client, f"scenario-{sid}", zone="elz18")["features"][0]["properties"]
    assert before["moved_in"] == "Lendelede (34025)" and after["moved_in"] is None
    assert after["population"] < before["population"]
    page = client.get(f"/ogc/collections/scenario-{sid}", params={"f": "html"}).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_links_keep_the_population_year(client):
    body = client.get("/ogc/collections", params={"f": "json", "population_year": "2020"}).json()
    hrefs = [link["href"] for c in body["collections"] for link in c["links"]] + [l["href"] for l in body["links"]]
    assert hrefs and all("population_year=2020" in href for href in hrefs)
    page = _items(client, "gemeenten", population_year="2020", limit=100)
    assert "population_year=2020" in next(link["href"] for link in page["links"] if link["rel"] == "next")
