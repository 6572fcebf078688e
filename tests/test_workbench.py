"""The workbench's server side: POST /api/v1/evaluate against overlay(apply_moves(...)) on real
layers, the pages, exports, and the browser sign-in (session cookie + CSRF token)."""

from __future__ import annotations

import io
import random
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from geo.engine.overlay import overlay
from geo.engine.scenario import Move, apply_moves
from geo.reference.catalog import load_catalog
from geo.zoning.validation import check_contiguity, check_nesting

BASE = "eerstelijnszone"
AGAINST = ["samenwerkingsverband", "samenwerkingsverbanden", "referentieregio", "politiezone"]


def neighbour_moves(count: int, seed: int) -> list[Move]:
    """``count`` moves of Flemish municipalities into the zone of one of their neighbours."""
    catalog = load_catalog()
    elz = catalog.layer(BASE)
    from geo.zoning.validation import adjacency_graph

    graph = adjacency_graph(catalog.atoms)
    rng = random.Random(seed)
    flemish = [int(c) for c, f in zip(catalog.atoms.nis_codes, catalog.atoms.flemish) if f]
    flemish_zones = set(np.array(elz.zone_codes)[elz.flemish_zones()])
    moves: dict[int, str] = {}
    while len(moves) < count:
        nis = rng.choice(flemish)
        own = {c for c, _, _ in elz.zones_of(nis)}
        options = sorted({c for n in graph.neighbors(nis) for c, _, _ in elz.zones_of(int(n))} - own & flemish_zones)
        if options and nis not in moves:
            moves[nis] = rng.choice(options)
    return [Move(n, z) for n, z in moves.items()]


def evaluate(client: TestClient, moves: list[Move], **extra: object) -> dict:
    body = {"base_layer": BASE, "moves": [{"nis_code": m.nis_code, "to_zone": m.to_zone} for m in moves], **extra}
    response = client.post("/api/v1/evaluate", json=body)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_evaluate_matches_full_overlay_of_the_applied_moves(client: TestClient, catalog, seed: int) -> None:
    moves = neighbour_moves(10, seed)
    result = evaluate(client, moves, against=AGAINST, nest_in="referentieregio")
    base = catalog.layer(BASE)
    scenario = apply_moves(base, moves)

    population = dict(zip(scenario.zone_codes, scenario.zone_weight("population")))
    for zone in result["zones"]:
        assert zone["population"] == int(round(population[zone["code"]]))

    for ref in result["references"]:
        layer = catalog.layer(ref["layer"])
        before, after = overlay(layer, base).summary.as_dict(), overlay(layer, scenario).summary.as_dict()
        for key, value in after.items():
            assert ref["after"][key] == pytest.approx(value, abs=1e-9), (ref["layer"], key)
            assert ref["before"][key] == pytest.approx(before[key], abs=1e-9), (ref["layer"], key)
        table = overlay(layer, scenario).zone_table().set_index("code")
        for zone in ref["zones"]:
            row = table.loc[zone["code"]]
            assert zone["zones_touched"] == int(row["zones_touched"]), (ref["layer"], zone["code"])
            assert zone["dominant_share"] == pytest.approx(float(row["dominant_share"]), abs=1e-6)
            if zone["dominant_zone"] is not None:
                assert zone["dominant_zone"] == row["dominant_zone"]
            members = layer.members(zone["code"])
            outside = {int(n) for n in members["nis_code"]
                       if row["dominant_zone"] not in {c for c, _, _ in scenario.zones_of(int(n))}}
            assert {m["nis_code"] for m in zone["outside"]} == outside

    expected_pieces = {(z.code, p.nis_codes, p.status) for z in check_contiguity(scenario, base) for p in z.pieces[1:]}
    assert {(p["zone_code"], tuple(p["nis_codes"]), p["status"]) for p in result["contiguity"]} == expected_pieces

    nesting = check_nesting(scenario, catalog.layer("referentieregio"))
    assert sorted(v["code"] for v in result["nesting"]["violations"]) == sorted(v["code"] for v in nesting.violations)
    assert {m["nis_code"] for m in result["moved"]} == {m.nis_code for m in moves}


def test_lendelede_to_kortrijk_and_noord_limburg_as_the_administration_does(client: TestClient) -> None:
    w13 = lambda r: next(z for z in r["references"][0]["zones"] if z["code"] == "W13")  # noqa: E731
    wrnl = lambda r: next(z for z in r["references"][0]["zones"] if z["code"] == "WRNL")  # noqa: E731
    lendelede = evaluate(client, [Move(34025, "elz18")])
    assert (w13(lendelede)["zones_touched_before"], w13(lendelede)["zones_touched"]) == (4, 3)
    assert w13(lendelede)["dominant_share"] > w13(lendelede)["dominant_share_before"]
    assert 34025 not in {m["nis_code"] for m in w13(lendelede)["outside"]}
    assert 34025 in {m["nis_code"] for m in w13(lendelede)["outside_before"]}

    noord = evaluate(client, [Move(34025, "elz18"), Move(72004, "elz28"), Move(72042, "elz28")])
    assert wrnl(noord)["zones_touched_before"] > 1 and wrnl(noord)["zones_touched"] == 1
    assert wrnl(noord)["outside"] == []
    assert noord["references"][0]["after"]["nested_share"] > noord["references"][0]["before"]["nested_share"]


def test_no_moves_is_today_and_a_move_back_home_is_no_move(client: TestClient) -> None:
    today = evaluate(client, [])
    assert all(r["before"] == r["after"] for r in today["references"])
    assert not any(z["changed"] for z in today["zones"])
    home = evaluate(client, [Move(34025, "elz40")])  # Lendelede is in RITS (elz40) today
    assert home["moved"] == []


def test_a_new_detached_piece_is_a_violation_and_a_norm_crossing_is_flagged(client: TestClient) -> None:
    # Voeren is an exclave; Lendelede dropped into a Limburg zone is a new detached piece.
    result = evaluate(client, [Move(34025, "elz28")])
    pieces = [p for p in result["contiguity"] if p["zone_code"] == "elz28"]
    assert [p["status"] for p in pieces] == ["violation"] and pieces[0]["nis_codes"] == [34025]
    assert result["problems"]["not_contiguous"] == 1
    assert any(p["status"] == "exclave" and 73109 in p["nis_codes"] for p in result["contiguity"])
    stricter = evaluate(client, [], min_population=90_000)
    assert stricter["norm"]["minimum"] == 90_000
    low = [z for z in stricter["zones"] if z["norm_status"] == "below_minimum"]
    assert low and all(z["population"] < 90_000 for z in low)


def test_brussels_and_brussels_zones_cannot_be_moved(client: TestClient) -> None:
    body = {"base_layer": BASE, "moves": [{"nis_code": 21004, "to_zone": "elz18"}]}
    response = client.post("/api/v1/evaluate", json=body)
    assert response.status_code == 422 and "Brussel" in response.json()["detail"]
    brussels_zone = next(z["code"] for z in client.get(f"/api/v1/layers/{BASE}").json()["zones"]
                         if z["name"].startswith("Bruzel") or "Brussel" in z["name"])
    response = client.post("/api/v1/evaluate", json={"base_layer": BASE,
                                                     "moves": [{"nis_code": 34025, "to_zone": brussels_zone}]})
    assert response.status_code == 422
    assert client.post("/api/v1/evaluate", json={"base_layer": BASE, "moves": [{"nis_code": 34025, "to_zone": "nope"}]}
                       ).status_code == 422
    assert client.post("/api/v1/evaluate", json={"base_layer": "nope", "moves": []}).status_code == 404


def test_a_layer_against_nothing_but_itself_still_gets_its_zones(client: TestClient) -> None:
    # The associations edited against the associations: no reference left, zones and checks still come.
    result = client.post("/api/v1/evaluate", json={"base_layer": "samenwerkingsverband"}).json()
    assert result["references"] == [] and {z["code"] for z in result["zones"]} >= {"W13", "WRNL"}


def test_suggestions_on_top_of_the_moves_explain_themselves(client: TestClient) -> None:
    body = {"base_layer": BASE, "moves": [{"nis_code": 34025, "to_zone": "elz18"}], "max_moves": 2,
            "time_budget_seconds": 5}
    response = client.post("/api/v1/evaluate/suggest", json=body)
    assert response.status_code == 200, response.text
    steps = response.json()["steps"]
    assert steps and all(s["explanation"] and s["to_zone"] for s in steps)
    assert all(34025 not in s["nis_codes"] for s in steps)  # already where the planner put it


def test_suggestions_leave_the_anchors_of_the_zones_alone(client: TestClient, catalog) -> None:
    from geo.zoning.anchors import zone_anchors

    anchors = zone_anchors(catalog.layer(BASE))
    assert catalog.atoms.name(anchors["elz18"]) == "Kortrijk"
    body = {"base_layer": BASE, "moves": [], "max_moves": 6, "time_budget_seconds": 10, "min_population": 0}
    steps = client.post("/api/v1/evaluate/suggest", json=body).json()["steps"]
    assert steps
    moved = {n for s in steps for n in s["nis_codes"]}
    assert not moved & set(anchors.values())


@pytest.fixture
def saved(client: TestClient) -> dict:
    response = client.post("/api/v1/scenarios", json={"name": "Noord-Limburg samen", "base_layer": BASE,
                                                       "moves": [{"nis_code": 72004, "to_zone": "elz28"},
                                                                 {"nis_code": 72042, "to_zone": "elz28"}]})
    assert response.status_code == 201
    return response.json()


def test_workbench_pages_carry_their_data_without_inline_script(client: TestClient, saved: dict) -> None:
    for url in (f"/werkbank?base={BASE}", f"/werkbank/{saved['id']}"):
        response = client.get(url)
        assert response.status_code == 200
        html = response.text
        assert 'type="application/json" id="wb-data"' in html and "/maps/static/workbench.js" in html
        assert "onclick=" not in html
        assert "<script>" not in html  # every script is external or JSON data
    assert '"version": 1' in client.get(f"/werkbank/{saved['id']}").text
    assert client.get(f"/werkbank?base=scenario:{saved['id']}", follow_redirects=False).status_code == 303
    assert client.get("/werkbank/unknown").status_code == 404
    assert client.get("/maps/static/workbench.js").status_code == 200


def test_comparison_page_speaks_dutch_and_links_the_fit_reports(client: TestClient, saved: dict) -> None:
    html = client.get(f"/vergelijk?base={BASE}&other=scenario:{saved['id']}").text
    assert "Oudsbergen" in html and "Bree" in html
    assert "nested_share" not in html and "adjusted_rand_index" not in html
    assert "Inwoners van wie het" in html
    assert f"/reports/samenwerkingsverband/WRNL?against=scenario:{saved['id']}" in html


def test_exports_of_a_scenario(client: TestClient, saved: dict) -> None:
    url = f"/api/v1/scenarios/{saved['id']}/export"
    csv = client.get(url, params={"format": "csv"})
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(io.BytesIO(csv.content), sep=";", decimal=",", encoding="utf-8-sig")
    assert list(frame.columns[:4]) == ["NIS-code", "gemeente", "zone", "naam zone"]
    assert frame.loc[frame["NIS-code"] == 72004, "zone"].tolist() == ["elz28"]
    assert set(frame.loc[frame["verschoven"] == "ja", "NIS-code"]) == {72004, 72042}
    xlsx = client.get(url, params={"format": "xlsx"})
    sheets = pd.read_excel(io.BytesIO(xlsx.content), sheet_name=None)
    assert set(sheets) == {"indeling", "bron"} and len(sheets["indeling"]) == len(frame)
    geojson = client.get(url, params={"format": "geojson"}).json()
    codes = {f["properties"]["code"] for f in geojson["features"]}
    assert "elz28" in codes
    gpkg = client.get(url, params={"format": "gpkg"})
    zones = gpd.read_file(io.BytesIO(gpkg.content))
    assert zones.crs.to_epsg() == 31370 and set(zones["code"]) == codes
    elz28 = zones.loc[zones["code"] == "elz28", "population"].iloc[0]
    assert elz28 == pytest.approx(next(z["population"] for z in saved["zones"] if z["code"] == "elz28"), abs=1)


def test_the_geojson_export_is_written_once_per_version_and_unchanged(client: TestClient, saved: dict,
                                                                      monkeypatch) -> None:
    """Dissolved, simplified and written once per scenario version (bytes, no json round trip per
    request): the same bytes as the dict the export used to dump, in EPSG:4326, properties intact."""
    import json

    from api.deps import app_workspace
    from geo.geometry import polygons

    ws = app_workspace(client.app)  # the database the client's app saved the scenario in
    layer = ws.layer(f"scenario:{saved['id']}")
    data_dir = ws.catalog.data_dir
    before = json.dumps(polygons.layer_geojson(layer, polygons.DEFAULT_SIMPLIFY_METRES, data_dir)).encode()
    built = []
    real = polygons._layer_web_frame
    monkeypatch.setattr(polygons, "_layer_web_frame", lambda *args: built.append(args) or real(*args))
    polygons._layer_geojson_bytes.cache_clear()
    url = f"/api/v1/scenarios/{saved['id']}/export"
    first = client.get(url, params={"format": "geojson"})
    assert first.status_code == 200 and first.headers["content-type"].startswith("application/geo+json")
    assert first.content == before
    assert polygons.layer_geojson_bytes(layer, polygons.DEFAULT_SIMPLIFY_METRES, data_dir) is \
        polygons.layer_geojson_bytes(layer, polygons.DEFAULT_SIMPLIFY_METRES, data_dir)
    assert len(built) == 1  # the request and the calls after it share one dissolve
    body = first.json()
    xy = np.array([p for f in body["features"] for ring in f["geometry"]["coordinates"]
                   for p in (ring if f["geometry"]["type"] == "Polygon" else [q for part in ring for q in part])])
    assert 2.5 < xy[:, 0].min() and xy[:, 0].max() < 6.0 and 50.6 < xy[:, 1].min() and xy[:, 1].max() < 51.6
    zones = {z["code"]: z for z in saved["zones"]}
    for feature in body["features"]:
        props = feature["properties"]
        assert set(props) >= {"code", "name", "population", "members"}
        assert props["population"] == pytest.approx(zones[props["code"]]["population"], abs=1)


def test_comparison_pdf(client: TestClient, saved: dict) -> None:
    from maps.pdf import available_renderers

    if not available_renderers():
        pytest.skip("no PDF renderer: pip install weasyprint (needs Pango) or install chromium")
    response = client.get(f"/vergelijk.pdf?base={BASE}&other=scenario:{saved['id']}")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    from pypdf import PdfReader

    first_page = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "zonegrens" in first_page  # the two zonings side by side, drawn with their legend


def test_comparison_map_marks_the_moved_municipalities(catalog) -> None:
    from maps.comparison_png import comparison_png

    base = catalog.layer(BASE)
    png = comparison_png(base, apply_moves(base, [Move(72004, "elz28")]), [72004])
    assert png[:4] == b"\x89PNG" and len(png) > 10_000


def test_the_printed_comparison_map_is_drawn_cut_to_its_view(catalog) -> None:
    from maps.comparison_png import comparison_svg

    base = catalog.layer(BASE)
    drawn = comparison_svg(base, apply_moves(base, [Move(72004, "elz28")]), [72004])
    assert drawn.startswith("<svg") and drawn.count(">Bree</text>") == 2  # named in both panels
    assert drawn.count('stroke="#6a00a8"') == 3  # the moved one outlined in both panels and in the legend
    assert drawn.count(f">{base.name}</text>") == 2 and "zonegrens" in drawn  # each panel titled (same name here)
    width, height = (float(v) for v in re.search(r'viewBox="0 0 (\d+) (\d+)"', drawn).groups())
    for x, y in re.findall(r"M(-?\d+) (-?\d+)", drawn):  # every shape starts inside the picture
        assert 0 <= int(x) <= width and 0 <= int(y) <= height




def test_the_printed_comparison_map_draws_two_zonings_with_different_zone_codes(catalog) -> None:
    from markupsafe import escape

    from geo.zoning.compare import moved_municipalities
    from maps.comparison_png import comparison_svg

    base, other = catalog.layer(BASE), catalog.layer("referentieregio")
    moved = [m["nis_code"] for m in moved_municipalities(base, other)][:3]
    drawn = comparison_svg(base, other, moved)  # a zone code of one is unknown to the other
    assert f">{escape(base.name)}</text>" in drawn and f">{escape(other.name)}</text>" in drawn

def test_a_scenario_map_takes_its_base_outlines_only_where_the_members_are_the_same(catalog) -> None:
    import shapely

    from maps.comparison_png import _outlines
    from maps.zone_map import simplified_polygons

    base = catalog.layer(BASE)
    other = apply_moves(base, [Move(72004, "elz28"), Move(34025, "elz18")])
    reused = _outlines(other, base, 64.0, catalog.data_dir)
    dissolved = simplified_polygons(other, 64.0, catalog.data_dir)
    dissolved = dissolved[dissolved.notna()]
    assert set(reused.index) == set(dissolved.index)
    assert shapely.equals(reused.reindex(dissolved.index).to_numpy(), dissolved.to_numpy()).all()
    moved_from = base.zones_of(72004)[0][0]  # a zone that lost a member: not the base's outline
    assert not shapely.equals(reused[moved_from], simplified_polygons(base, 64.0, catalog.data_dir)[moved_from])

# -- browser sign-in ---------------------------------------------------------------------------
@pytest.fixture
def token_client(make_client) -> TestClient:
    return make_client(api_token="workbench-secret")


def test_signin_sets_a_strict_httponly_session_and_writes_need_its_csrf_token(token_client: TestClient) -> None:
    body = {"name": "x", "base_layer": BASE, "moves": []}
    assert token_client.post("/api/v1/scenarios", json=body).status_code == 401
    wrong = token_client.post("/aanmelden", data={"token": "nope", "next": "/werkbank"}, follow_redirects=False)
    assert wrong.status_code == 401 and "klopt niet" in wrong.text
    right = token_client.post("/aanmelden", data={"token": "workbench-secret", "next": "https://evil.example/"},
                              follow_redirects=False)
    assert right.status_code == 303 and right.headers["location"] == "/"
    cookie = right.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    # The cookie alone is not enough: a cross-site form could send it. The page's CSRF token is.
    assert token_client.post("/api/v1/scenarios", json=body).status_code == 401
    page = token_client.get(f"/werkbank?base={BASE}").text
    csrf = page.split('"csrf": "')[1].split('"')[0]
    assert len(csrf) == 64
    assert token_client.post("/api/v1/scenarios", json=body, headers={"X-CSRF-Token": "0" * 64}).status_code == 401
    created = token_client.post("/api/v1/scenarios", json=body, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201
    # The API keeps accepting the Bearer header without any cookie.
    token_client.cookies.clear()
    assert token_client.post("/api/v1/scenarios", json=body,
                             headers={"Authorization": "Bearer workbench-secret"}).status_code == 201
    assert token_client.post("/api/v1/scenarios", json=body, headers={"X-CSRF-Token": csrf}).status_code == 401


def test_a_tampered_or_expired_session_is_refused(tmp_path) -> None:
    from api import session
    from geo.storage.store import Store

    accounts = Store(f"sqlite:///{tmp_path / 's.sqlite3'}").accounts
    key = session.shared_key("k")
    value = accounts.start_session(None, key, session.SESSION_SECONDS)
    assert accounts.session(value, key) is not None
    assert accounts.session(value[:-1] + ("A" if value[-1] != "A" else "B"), key) is None  # tampered
    assert accounts.session(value, session.shared_key("other token")) is None  # the token changed
    expired = accounts.start_session(None, key, -1)
    assert accounts.session(expired, key) is None
    assert session.safe_next("//evil.example") == "/" and session.safe_next("/werkbank?base=x") == "/werkbank?base=x"


def test_import_preview_lists_every_problem_row_then_the_matches(client: TestClient) -> None:
    bad = "nis_code;zone_code;aandeel\n34022;A;1\nGeenstad;A;1\n34025;;1\n34027;B;twee\n34022;A;1\n".encode()
    response = client.post("/api/v1/layers/preview", files={"file": ("sel.csv", bad, "text/csv")}, data={"id": "sel"})
    assert response.status_code == 200, response.text
    problems = response.json()["problems"]
    assert [p.split(":")[0] for p in problems] == ["rij 3", "rij 4", "rij 5", "rij 6"]
    assert "Geenstad" in problems[0] and response.json()["members"] == []
    good = "gemeente;zone_code;zone_name\nKortrijk;Z1;Kortrijk e.o.\nBorsbeek;Z2;Antwerpen\n".encode()
    preview = client.post("/api/v1/layers/preview", files={"file": ("sel.csv", good, "text/csv")}).json()
    assert preview["problems"] == [] and preview["zone_count"] == 2
    antwerpen = next(m for m in preview["members"] if m["zone_code"] == "Z2")
    assert antwerpen["nis_code"] == 11002 and 0 < antwerpen["share"] < 0.1  # Borsbeek carried into Antwerpen
    assert client.get("/api/v1/layers/sel").status_code == 404  # nothing saved
    saved = client.post("/api/v1/layers", files={"file": ("sel.csv", good, "text/csv")}, data={"id": "sel"})
    assert saved.status_code == 201
    again = client.post("/api/v1/layers/preview", files={"file": ("sel.csv", good, "text/csv")}, data={"id": "sel"}).json()
    assert "bestaat al" in again["problems"][0]
    page = client.get("/lagen/nieuw").text
    assert 'data-delete-layer="sel"' in page and "/werkbank?base=sel" in page


def test_links_into_the_workbench(client: TestClient, saved: dict) -> None:
    landing = client.get("/").text
    assert "/werkbank?base=eerstelijnszone" in landing and f"/werkbank/{saved['id']}" in landing
    assert "POST /api/v1/scenarios" not in landing
    assert "/werkbank?base=samenwerkingsverband&amp;zone=W13" in client.get(
        "/overlay?a=samenwerkingsverband&b=eerstelijnszone").text
    assert "/werkbank?base=samenwerkingsverband&amp;zone=W13" in client.get("/reports/samenwerkingsverband/W13").text
