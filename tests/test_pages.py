"""Server-rendered pages: landing page, municipality search and profile, overlay table + downloads."""

from __future__ import annotations

import html as html_lib
import io
import re

import pytest
from openpyxl import load_workbook

from geo.engine.overlay import overlay
from geo.geometry.polygons import adjacency
from geo.paths import ATTRIBUTION
from geo.reference.codes import published
from maps.pages import format_weight, single_match, sort_rows


def visible_text(page: str) -> str:
    text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", page, flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def links(page: str) -> set[str]:
    return {html_lib.unescape(h) for h in re.findall(r'href="([^"]+)"', page)}


def assert_self_contained(page: str) -> None:
    """No CDN scripts, fonts, styles or images: the service runs without internet."""
    external = re.findall(r'(?:src|href)="(?:https?:)?//[^"]+"', page)
    assert external == []
    assert "@import" not in page and "url(http" not in page


# -- landing page ----------------------------------------------------------------------------
def test_landing_lists_every_layer_with_zone_count_and_source(client, catalog):
    response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    text = visible_text(page)
    for layer in catalog.layers():
        row = re.search(rf"<tr>\s*<td>[^<]*<small>\({layer.id}\)</small>.*?</tr>", page, flags=re.S)
        assert row, layer.id
        assert visible_text(row.group(0)).startswith(f"{layer.name} ({layer.id})")
        assert f'data-value="{len(layer)}">{len(layer)}</td>' in row.group(0)
        assert layer.source in visible_text(row.group(0))
        assert f"/maps/choropleth/{layer.id}" in links(row.group(0))
    assert f"1 januari {catalog.atoms.population_year}" in text
    assert ATTRIBUTION in text
    assert_self_contained(page)


def test_landing_has_search_overlay_reports_and_docs(client, catalog):
    page = client.get("/").text
    assert re.search(r'<form[^>]*action="/search"[^>]*method="get"', page)
    assert 'name="q"' in page
    found = links(page)
    assert "/docs" in found
    assert "/overlay?a=samenwerkingsverband&b=eerstelijnszone" in found
    for code in catalog.layer("samenwerkingsverband").zone_codes:
        assert f"/reports/samenwerkingsverband/{code}" in found
        assert f"/reports/samenwerkingsverband/{code}?format=pdf" in found
    # The overlay form works without JavaScript: a GET form, with a second button for the map.
    assert re.search(r'<form[^>]*action="/overlay"[^>]*method="get"', page)
    assert 'formaction="/maps/overlay"' in page
    assert "Nog geen scenario's opgeslagen" in visible_text(page)


def test_landing_lists_saved_scenarios(client):
    created = client.post("/api/v1/scenarios", json={"name": "Lendelede naar elz18", "base_layer": "eerstelijnszone",
                                                     "moves": [{"nis_code": 34025, "to_zone": "elz18"}]}).json()
    page = client.get("/").text
    assert "Lendelede naar elz18" in visible_text(page)
    found = links(page)
    assert f"/maps/scenario/{created['id']}" in found
    assert f"/overlay?a={created['layer_id']}&b=eerstelijnszone".replace(":", "%3A") in found


# -- search ----------------------------------------------------------------------------------
@pytest.mark.parametrize("query, nis", [("Lendelede", 34025), ("lendelede ", 34025), ("34025", 34025),
                                        ("Borsbeek", 11002), ("11007", 11002)])
def test_search_goes_straight_to_a_single_match(client, query, nis):
    response = client.get("/search", params={"q": query}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/municipalities/{nis}"


def test_search_lists_several_matches(client, catalog):
    response = client.get("/search", params={"q": "sint"})
    assert response.status_code == 200
    expected = catalog.crosswalk.search("sint", 20)
    assert len(expected) > 1
    found = links(response.text)
    for nis in expected["nis_code"]:
        assert f"/municipalities/{int(nis)}" in found


def test_search_without_match_says_so(client):
    text = visible_text(client.get("/search", params={"q": "Xyzzyville"}).text)
    assert "Geen gemeente, zone of samenwerkingsverband gevonden voor ‘Xyzzyville’" in text
    assert client.get("/search").status_code == 200  # an empty query shows the form


def test_single_match_prefers_the_only_exact_name():
    def hit(kind, link, match):
        return {"kind": kind, "link": link, "match": match}
    hits = [hit("municipality", "/municipalities/1", "exact"), hit("municipality", "/municipalities/2", "prefix"),
            hit("zone", "/zones/eerstelijnszone/elz13", "exact")]
    assert single_match(hits, "gent") == "/municipalities/1"
    assert single_match(hits[1:], "gent") == "/zones/eerstelijnszone/elz13"
    assert single_match([hits[1], hit("zone", "/zones/x/1", "exact"), hit("zone", "/zones/y/1", "exact")], "k") is None


# -- municipality profile --------------------------------------------------------------------
def test_municipality_profile_lists_every_structure_and_neighbour(client, catalog):
    response = client.get("/municipalities/34025")
    assert response.status_code == 200
    page, text = response.text, visible_text(response.text)
    assert "Lendelede" in text
    assert f"{catalog.atoms.population(34025):,} inwoners op 1 januari {catalog.atoms.population_year}".replace(",", ".") in text
    for layer in catalog.layers():
        for code, name, _ in layer.zones_of(34025):
            assert f"{name} ({published(code)}" in text, (layer.id, code)  # 0205.157.176 as published
            assert f"/reports/{layer.id}/{code}" in links(page)
    pairs = adjacency()
    neighbours = {*pairs.loc[pairs["nis_a"] == 34025, "nis_b"], *pairs.loc[pairs["nis_b"] == 34025, "nis_a"]}
    assert neighbours
    for nis in neighbours:
        assert f"/municipalities/{int(nis)}" in links(page)
    assert "/maps/municipality/34025" in links(page)
    assert ATTRIBUTION in text
    assert_self_contained(page)


def test_municipality_profile_shows_how_its_association_fits(client, catalog):
    text = visible_text(client.get("/municipalities/34025").text)
    assert "Welzijnsvereniging W13 (Zuid-West-Vlaanderen) (W13)" in text
    # Lendelede lies in RITS, outside W13's dominant primary care zone (Kortrijk-Kuurne-Harelbeke).
    detail = overlay(catalog.layer("samenwerkingsverband"), catalog.layer("eerstelijnszone")).zone_detail("W13")
    assert f"{detail.dominant_zone_name} ({detail.dominant_zone})" in text
    assert "RITS (elz40) · buiten de grootste zone van W13" in text
    # ... but in W13's dominant reference region.
    assert "Zuid-West-Vlaanderen (REFREG08) · buiten" not in text


def test_old_nis_code_is_carried_to_its_2025_municipality(client):
    text = visible_text(client.get("/municipalities/11007").text)  # Borsbeek, part of Antwerpen since 2025
    assert "NIS-code 11007 bestaat niet meer" in text and "Antwerpen (11002)" in text
    assert "Borsbeek" in text  # in the table of old codes and names


def test_brussels_municipality_is_shown_separately(client):
    text = visible_text(client.get("/municipalities/21004").text)
    assert "Brussel valt buiten het Vlaamse decreet lokaal sociaal beleid" in text


def test_unknown_municipality_is_a_dutch_page_with_a_search_box(client):
    response = client.get("/municipalities/99999")
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    text = visible_text(response.text)
    assert "Gemeente niet gevonden" in text and "geen gemeente met NIS-code 99999" in text
    assert 'action="/search"' in response.text
    # A transposed code leads to the municipality meant; the API keeps its JSON error.
    close = client.get("/municipalities/34052")
    assert close.status_code == 404 and 'href="/municipalities/34025"' in close.text
    api = client.get("/api/v1/municipalities/99999")
    assert api.status_code == 404 and api.json()["code"] == "unknown_nis_code"


def test_unknown_zone_of_a_report_suggests_the_zone_meant(client):
    response = client.get("/reports/samenwerkingsverband/XYZ")
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    text = visible_text(response.text)
    assert "Zone niet gevonden" in text and "geen zone met code ‘XYZ’" in text
    for code in ("W13", "WRNL", "WZK", "NETELAND"):  # nothing resembles XYZ: the four current ones are listed
        assert f'href="/reports/samenwerkingsverband/{code}"' in response.text
    typo = client.get("/reports/samenwerkingsverband/W31")
    assert 'href="/reports/samenwerkingsverband/W13"' in typo.text and "/WZK" not in typo.text


def test_mistyped_address_in_a_browser_is_a_dutch_page_but_the_api_stays_json(client):
    page = client.get("/municipalitie/34025", headers={"accept": "text/html"})
    assert page.status_code == 404 and "Pagina niet gevonden" in visible_text(page.text)
    api = client.get("/api/v1/nothing", headers={"accept": "text/html"})
    assert api.status_code == 404 and api.json()["code"] == "not_found"


# -- overlay table ---------------------------------------------------------------------------
def test_overlay_table_has_a_row_per_zone_and_download_links(client, catalog):
    response = client.get("/overlay", params={"a": "samenwerkingsverband", "b": "eerstelijnszone"})
    assert response.status_code == 200
    page = response.text
    table = re.search(r'<table class="sortable" id="zones">.*?</table>', page, flags=re.S).group(0)
    rows = re.findall(r"<tr>\s*<td>([^<]+)</td>", table)
    assert rows == catalog.layer("samenwerkingsverband").zone_codes
    found = links(page)
    assert "/overlay.csv?a=samenwerkingsverband&b=eerstelijnszone&weight=population" in found  # CSV for Excel
    assert "/overlay.xlsx?a=samenwerkingsverband&b=eerstelijnszone&weight=population" in found
    assert "/maps/overlay?a=samenwerkingsverband&b=eerstelijnszone" in found
    assert "/reports/samenwerkingsverband/W13?against=eerstelijnszone" in found
    text = visible_text(page)
    assert "Aangepaste Rand-index" in text and f"1 januari {catalog.atoms.population_year}" in text
    assert_self_contained(page)


def test_overlay_table_sorts_on_the_server_without_javascript(client, catalog):
    result = overlay(catalog.layer("eerstelijnszone"), catalog.layer("referentieregio"))
    table = result.zone_table().sort_values("dominant_share", ascending=False, kind="stable")
    page = client.get("/overlay", params={"a": "eerstelijnszone", "b": "referentieregio",
                                          "sort": "dominant_share", "order": "desc"}).text
    zones = re.search(r'<table class="sortable" id="zones">.*?</table>', page, flags=re.S).group(0)
    shares = [float(v) for v in re.findall(r'<td class="num" data-value="([0-9.e-]+)">[0-9,]+ %</td>', zones)]
    assert len(shares) == len(table)
    assert shares == sorted(shares, reverse=True)
    assert shares[0] == pytest.approx(table["dominant_share"].iloc[0])
    # Header links flip the order of the active column.
    assert "sort=dominant_share&order=asc" in " ".join(links(page))
    # An unknown sort key keeps the layer's order instead of failing.
    assert client.get("/overlay", params={"a": "eerstelijnszone", "b": "referentieregio", "sort": "bogus"}).status_code == 200


def test_sort_rows_is_accent_and_case_insensitive():
    rows = [{"name": "Zele"}, {"name": "église"}, {"name": "Aalst"}]
    assert [r["name"] for r in sort_rows(rows, "name")] == ["Aalst", "église", "Zele"]
    assert sort_rows(rows, "not-a-column") == rows


def test_overlay_table_by_area_uses_square_kilometres(client):
    text = visible_text(client.get("/overlay", params={"a": "eerstelijnszone", "b": "provincie", "weight": "area"}).text)
    assert "km²" in text
    assert format_weight(1234.56, "area") == "1.234,6 km²" and format_weight(12345.4, "population") == "12.345"


def test_overlay_csv_download_link_works(client):
    response = client.get("/api/v1/overlay", params={"a": "samenwerkingsverband", "b": "eerstelijnszone",
                                                     "weight": "population", "format": "csv"})
    assert response.status_code == 200 and "Lendelede" in response.text


def test_overlay_xlsx_has_zones_cells_members_and_sources(client, catalog):
    response = client.get("/overlay.xlsx", params={"a": "samenwerkingsverband", "b": "eerstelijnszone"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="overlay_samenwerkingsverband_eerstelijnszone.xlsx"' in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames == ["zones", "overlappingen", "leden", "bron"]
    zones = list(book["zones"].values)
    header, body = zones[0], zones[1:]
    assert len(body) == 4
    w13 = dict(zip(header, next(r for r in body if r[0] == "W13")))
    assert w13["naam grootste zone"] == "Kortrijk-Kuurne-Harelbeke" and w13["zones geraakt"] == 4
    result = overlay(catalog.layer("samenwerkingsverband"), catalog.layer("eerstelijnszone"))
    assert len(list(book["overlappingen"].values)) - 1 == len(result.cells())
    members = list(book["leden"].values)
    assert "gemeente" in members[0] and any("Lendelede" in r for r in members[1:])
    sources = " ".join(str(r[0]) for r in book["bron"].values)
    assert f"1 januari {catalog.atoms.population_year}" in sources and ATTRIBUTION in sources


def test_overlay_xlsx_of_a_scenario_named_with_control_characters(client):
    """Found by the fuzz test: a name the xlsx format cannot store must not break the download."""
    # (NUL itself is refused at the door on every backend: tests/test_store_faults.py)
    sid = client.post("/api/v1/scenarios", json={"name": 'W"S\x1f@\x0b', "base_layer": "eerstelijnszone"}).json()["id"]
    response = client.get("/overlay.xlsx", params={"a": "samenwerkingsverband", "b": f"scenario:{sid}"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    header = next(iter(book["zones"].values))
    assert any('W"S@' in str(h) for h in header)


def test_overlay_pages_refuse_unknown_layers(client):
    response = client.get("/overlay.xlsx", params={"a": "nolayer", "b": "eerstelijnszone"})
    assert response.status_code == 404 and response.json()["code"] == "unknown_layer"
    assert "nolayer" in response.json()["detail"]
    page = client.get("/overlay", params={"a": "eerstelijnzone", "b": "logo"})
    assert page.status_code == 404 and "Laag niet gevonden" in visible_text(page.text)
    assert 'href="/overlay?a=eerstelijnszone&amp;b=logo"' in page.text


@pytest.mark.pdf  # follows the links to the printed reports too
def test_every_link_on_the_front_door_and_a_profile_resolves(client):
    """Maps, reports, overlay tables, API pages: nothing the pages offer is a dead end."""
    targets = set()
    for page in ("/", "/municipalities/34025", "/overlay?a=samenwerkingsverband&b=eerstelijnszone"):
        found = {h for h in links(client.get(page).text)
                 if h.startswith("/") and "format=pdf" not in h and "sort=" not in h and not h.startswith("/docs#")}
        # Reports take a second each (maps); the landing page's ones stand for the rest.
        targets |= found if page == "/" else {h for h in found if not h.startswith("/reports/")}
    assert len(targets) > 40
    broken = {}
    for href in sorted(targets):
        status = client.get(href).status_code
        if status != 200:
            broken[href] = status
    assert broken == {}
