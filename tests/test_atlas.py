"""The fit atlas, any zone with every overlap, and search, on the real shipped data."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from openpyxl import load_workbook

from geo.paths import SHIPPED_DATA
from geo.views.atlas import ASSOCIATION_LAYER, fit_atlas, municipality_counts
from geo.views.search import search
from tests.test_pages import links, visible_text


def crossing_by_hand(against: str, status: str | None = "Actief", legal_type: str | None = None) -> tuple[int, int]:
    """(crossing, total) recomputed from the shipped tables with pandas only."""
    members = pd.read_csv(SHIPPED_DATA / "memberships.csv", dtype={"zone_code": str})
    register = pd.read_csv(SHIPPED_DATA / "associations.csv", dtype=str, keep_default_na=False)
    register = register[register["layer"] == ASSOCIATION_LAYER]
    if status:
        register = register[register["status"] == status]
    if legal_type:
        register = register[register["legal_type"] == legal_type]
    assoc = members[(members["layer"] == ASSOCIATION_LAYER) & members["zone_code"].isin(register["code"])]
    zones = members[members["layer"] == against][["nis_code", "zone_code"]].rename(columns={"zone_code": "against"})
    touched = assoc.merge(zones, on="nis_code").groupby("zone_code")["against"].nunique()
    return int((touched > 1).sum()), int(assoc["zone_code"].nunique())


@pytest.mark.parametrize("against", ["referentieregio", "eerstelijnszone", "provincie"])
def test_headline_count_matches_an_independent_recount(catalog, against):
    atlas = fit_atlas(catalog, against)
    crossing, total = crossing_by_hand(against)
    assert (atlas.crossing_count, atlas.association_count) == (crossing, total)
    assert 0 < crossing < total


def test_filters_by_legal_type_and_status(catalog):
    every = fit_atlas(catalog, status="alle")
    active = fit_atlas(catalog)
    ocmw = fit_atlas(catalog, legal_type="ocmw-vereniging", status="alle")
    assert ocmw.legal_type == "OCMW vereniging"
    assert {r.association.legal_type for r in ocmw.rows} == {"OCMW vereniging"}
    assert {r.association.status for r in active.rows} == {"Actief"}
    assert len(active.rows) < len(every.rows)
    assert (ocmw.crossing_count, ocmw.association_count) == crossing_by_hand("referentieregio", None, "OCMW vereniging")


def test_rows_are_worst_first_and_outside_members_add_up(catalog):
    atlas = fit_atlas(catalog, "eerstelijnszone")
    shares = [r.dominant_share for r in atlas.rows if r.population > 0]
    assert shares == sorted(shares)
    for row in atlas.rows:
        assert row.crosses == (row.dominant_share < 1 - 1e-9 and row.population > row.not_covered_population + 1)
        outside = sum(m.population for m in row.outside)
        assert outside == pytest.approx(row.outside_population - row.not_covered_population, abs=1.0)


def test_grensgemeente_counts_agree_with_the_rows(catalog):
    atlas = fit_atlas(catalog)
    table = atlas.municipalities.set_index("nis_code")
    for nis in (34025, 44021, 46030):
        expected_minority = sum(any(m.nis_code == nis for m in r.outside) for r in atlas.rows if r.crosses)
        assert table.loc[nis, "minority_side"] == expected_minority
        assert municipality_counts(atlas, nis)["minority_side"] == expected_minority
    assert (table["minority_side"] <= table["crossing"]).all()
    assert (table["crossing"] <= table["associations"]).all()
    assert table["minority_side"].max() > 0


def test_atlas_api_json_csv_and_xlsx(client, catalog):
    body = client.get("/api/v1/atlas").json()
    crossing, total = crossing_by_hand("referentieregio")
    assert body["crossing_count"] == crossing and body["association_count"] == total
    assert body["headline"] == (f"{crossing} van de {total} actieve samenwerkingsverbanden overschrijden een grens "
                                "van een referentieregio.")
    assert body["population_year"] == catalog.atoms.population_year

    csv = client.get("/api/v1/atlas", params={"against": "eerstelijnszone", "format": "csv"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.content.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(io.BytesIO(csv.content), sep=";", encoding="utf-8-sig", dtype={"ondernemingsnummer": str})
    assert frame.columns[0] == "ondernemingsnummer" and "aandeel in grootste eerstelijnszone" in frame.columns
    assert len(frame) == total
    assert (frame["overschrijdt een grens"] == "ja").sum() == crossing_by_hand("eerstelijnszone")[0]

    xlsx = client.get("/api/v1/atlas", params={"format": "xlsx", "status": "alle"})
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["samenwerkingsverbanden", "grensgemeenten", "bron"]

    assert client.get("/api/v1/atlas", params={"against": "politiezone"}).status_code == 422
    assert client.get("/api/v1/atlas", params={"type": "geen-type"}).json()["code"] == "invalid_input"


def test_atlas_page_has_filters_headline_map_and_report_links(client):
    response = client.get("/atlas", params={"against": "eerstelijnszone"})
    assert response.status_code == 200
    page, text = response.text, visible_text(response.text)
    crossing, total = crossing_by_hand("eerstelijnszone")
    assert f"{crossing} van de {total} actieve samenwerkingsverbanden overschrijden een grens van een eerstelijnszone" in text
    assert 'src="data:image/png;base64,' in page
    found = links(page)
    w13 = "0630835639"  # W13 in the register
    assert f"/reports/{ASSOCIATION_LAYER}/{w13}?against=eerstelijnszone" in found
    assert f"/zones/{ASSOCIATION_LAYER}/{w13}" in found
    assert "/" in found and any(h.startswith("/api/v1/atlas?") and "format=csv" in h for h in found)
    assert client.get(f"/reports/{ASSOCIATION_LAYER}/{w13}", params={"against": "eerstelijnszone"}).status_code == 200


def test_police_zone_lists_overlapping_zones_of_every_layer(client, catalog):
    police = catalog.layer("politiezone")
    code = police.zones_of(34025)[0][0]  # Lendelede's police zone
    body = client.get(f"/api/v1/zones/politiezone/{code}").json()
    by_layer = {g["layer"]: g["zones"] for g in body["layers"]}
    assert "politiezone" not in by_layer and "eerstelijnszone" in by_layer
    elz = catalog.layer("eerstelijnszone")
    expected = {c for n in police.members(code)["nis_code"] for c, _, _ in elz.zones_of(int(n))}
    assert {z["code"] for z in by_layer["eerstelijnszone"]} == expected
    assert sum(z["share_of_zone"] for z in by_layer["eerstelijnszone"]) == pytest.approx(1.0)
    assert body["associations"] and all(a["status"] for a in body["associations"])
    page = client.get(f"/zones/politiezone/{code}")
    assert page.status_code == 200
    assert any(h.startswith("/zones/eerstelijnszone/") for h in links(page.text))
    assert f"op 1 januari {catalog.atoms.population_year}" in visible_text(page.text)
    assert client.get("/zones/politiezone/geen-zone").status_code == 404


def test_association_pages_show_type_status_vintage_and_history(client):
    # ISOM ended in 2018: no current zone, opened on a date when it existed.
    assert client.get("/zones/samenwerkingsverband/ISOM").status_code == 404
    text = visible_text(client.get("/zones/samenwerkingsverband@2018-06-30/ISOM").text)
    assert "Feitelijke vereniging" in text and "historisch (tot 31 december 2018)" in text
    assert "Jaargang van de ledenlijst" in text and "Registratiedatum" in text
    w13 = visible_text(client.get(f"/zones/{ASSOCIATION_LAYER}/0630835639").text)
    assert "OCMW vereniging" in w13 and "Actief" in w13 and "Registratiedatum" in w13
    assert "historisch" not in w13


@pytest.mark.parametrize("query, nis", [("Lendelde", 34025), ("Sint-Niklas", 46021), ("8860", 34025),
                                        ("9000", 44021), ("Borsbeek", 11002)])
def test_search_finds_typos_postcodes_and_old_names(catalog, query, nis):
    assert search(catalog, query)[0].nis_code == nis


def test_postcode_search_lands_on_the_municipality(client, catalog):
    postcodes = pd.read_csv(SHIPPED_DATA / "postcodes.csv")
    assert postcodes["nis_code"].nunique() == len(catalog.atoms)  # every shipped municipality has one
    response = client.get("/search", params={"q": "8860"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/municipalities/34025"
    response = client.get("/search", params={"q": "Lendelde"}, follow_redirects=False)
    assert response.headers["location"] == "/municipalities/34025"


def test_search_finds_zones_and_associations(client, catalog):
    hits = search(catalog, "Leiedal")
    assert any(h.kind == "association" and h.layer_id == ASSOCIATION_LAYER for h in hits)
    page = client.get("/search", params={"q": "Kempen"})
    assert page.status_code == 200
    found = links(page.text)
    assert "/zones/referentieregio/REFREG03" in found
    body = client.get("/api/v1/search", params={"q": "W13"}).json()
    urls = [h["url"] for h in body if h["match"] == "exact"]
    assert "/zones/samenwerkingsverband/W13" in urls  # the hand list's code
    assert f"/zones/{ASSOCIATION_LAYER}/0630835639" in urls  # the register's W13


def test_profile_shows_the_grensgemeente_counts(client, catalog):
    atlas = fit_atlas(catalog)
    counts = municipality_counts(atlas, 13011)  # Herentals
    text = visible_text(client.get("/municipalities/13011").text)
    assert (f"Herentals neemt deel aan {counts['associations']} actieve samenwerkingsverbanden uit het register van de "
            f"lokale besturen. {counts['crossing']} daarvan overschrijden een grens van een referentieregio; "
            f"in {counts['minority_side']} daarvan ligt Herentals buiten") in text
    # ISOM (of which Herentals was a member until 2018) is listed as it ended, after Neteland (current).
    assert "historisch (tot 31 december 2018)" in text
    assert text.index("Neteland Welzijn en Zorg") < text.index("Niet meer actief") < text.index("Middenkempen (ISOM)")
    assert "/reports/samenwerkingsverband%402018-12-31/ISOM" in links(client.get("/municipalities/13011").text)


def test_municipality_api_gives_the_grensgemeente_counts(client, catalog):
    body = client.get("/api/v1/municipalities/13011").json()
    assert body["border_view"] == {"against": "referentieregio", **municipality_counts(fit_atlas(catalog), 13011)}


def test_landing_links_the_atlas_and_lists_the_current_associations(client):
    page = client.get("/").text
    assert "/atlas" in links(page)
    text = visible_text(page)
    # On the pinned date ISOM (ended 2018) is history, opened as samenwerkingsverband@2018-06-30.
    assert "Samenwerking OCMW's Middenkempen (ISOM)" not in text
    assert "Neteland Welzijn en Zorg" in text
    w13 = text[text.index("(W13)"):][:120]
    assert "Actief" in w13 and "historisch" not in w13


def test_fit_report_of_an_association_shows_its_facts(client):
    text = visible_text(client.get("/reports/samenwerkingsverband@2018-06-30/ISOM").text)
    # A list cannot describe ISOM after its end (issue 23: "ledenlijst 2019-2023" contradicted it).
    assert "Feitelijke vereniging · historisch (tot 31 december 2018) · ledenlijst tot 31 december 2018" in text
    page = client.get(f"/reports/{ASSOCIATION_LAYER}/0630835639").text
    assert f"/zones/{ASSOCIATION_LAYER}/0630835639" in links(page)
    assert "OCMW vereniging · Actief · ledenlijst" in visible_text(page)
    assert "registratiedatum" not in visible_text(client.get("/reports/eerstelijnszone/elz40").text)


def test_postcode_extraction_carries_old_codes_and_leaves_out_wallonia():
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_postcodes", SHIPPED_DATA / "build_postcodes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    build = module.build
    records = [{"postalCode": "2150", "municipality": "11007"},  # Borsbeek, part of Antwerpen since 2025
               {"postalCode": "8860", "municipality": "34025"},
               {"postalCode": "4000", "municipality": "62063"}]  # Liège: not shipped
    frame = build(records, SHIPPED_DATA)
    assert frame.to_dict("records") == [{"postcode": 2150, "nis_code": 11002, "municipality": "Antwerpen"},
                                        {"postcode": 8860, "nis_code": 34025, "municipality": "Lendelede"}]
