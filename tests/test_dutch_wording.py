"""Everything a user reads is proper Dutch: no file names, English, internal notes or ISO dates.

Pages, reports (HTML and PDF text) and the downloads are rendered through the real app and
searched for the slips users found (issue 12). Also: norms only where they apply, the measures'
caveat, and the page choosers keeping a scenario selected.
"""

from __future__ import annotations

import html as html_lib
import io
import re

import pytest
from openpyxl import load_workbook

ASSOCIATIONS = "samenwerkingsverband"
# Words and phrases that must never reach a user (as whole words: "welke samenwerkingsverbanden" is fine).
FORBIDDEN = ("DOMAIN.md", "SOURCES.md", "association_history", "post-2019", "undated", "web page",
             "research report", "area-weighted", "elke samenwerkingsverband", "geen enkele samenwerkingsverband",
             "geen enkele arrondissement", "Geimporteerde", "None", "nan %")
# A calque of "fit" that users flagged, also inside compounds ("Pasvormrapport").
FORBIDDEN_ANYWHERE = ("Pasvorm", "pasvorm")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
YES_NO_ENGLISH = re.compile(r"\b(?:True|False)\b")


def visible_text(page: str) -> str:
    text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", page, flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def assert_proper_dutch(text: str, where: str) -> None:
    for word in FORBIDDEN:
        found = re.search(r"(?<!\w)" + re.escape(word) + r"(?!\w)", text)
        assert not found, f"{where}: {word!r} in {text[max(0, found.start() - 80):found.end() + 80]!r}"
    for word in FORBIDDEN_ANYWHERE:
        assert word not in text, f"{where}: {word!r} in {text[max(0, text.find(word) - 80):text.find(word) + 80]!r}"
    found = ISO_DATE.search(text)
    assert not found, f"{where}: ISO date {found[0]!r} in prose"
    found = YES_NO_ENGLISH.search(text)
    assert not found, f"{where}: {found[0]!r} instead of ja/nee"


@pytest.fixture
def scenario(client) -> str:
    created = client.post("/api/v1/scenarios", json={
        "name": "Lendelede naar Kortrijk", "base_layer": "eerstelijnszone",
        "moves": [{"nis_code": 34025, "to_zone": "elz18"}]})
    assert created.status_code == 201, created.text
    return created.json()["layer_id"]


def test_pages_and_reports_are_proper_dutch(client, scenario):
    urls = ["/", "/search?q=sint", "/municipalities/34025", "/municipalities/13011", "/municipalities/72042",
            f"/overlay?a={ASSOCIATIONS}&b=eerstelijnszone", "/overlay?a=gemeente&b=arrondissement",
            f"/overlay?a={scenario}&b=eerstelijnszone", "/reports/eerstelijnszone/elz18",
            f"/reports/{scenario}/elz18", "/municipalities/99999", f"/reports/{ASSOCIATIONS}/XYZ", "/atlas",
            "/werkbank", "/zones/eerstelijnszone/elz18", f"/zones/{ASSOCIATIONS}/W13", "/lagen/nieuw",
            *(f"/reports/{ASSOCIATIONS}/{code}" for code in ("W13", "WRNL", "WZK", "NETELAND")),
            f"/reports/{ASSOCIATIONS}@2018-06-30/ISOM"]  # ISOM ended in 2018: on a date it existed
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
        assert response.headers["content-type"].startswith("text/html"), url
        assert_proper_dutch(visible_text(response.text), url)


def test_pdf_report_text_is_proper_dutch(client):
    from pypdf import PdfReader

    response = client.get(f"/reports/{ASSOCIATIONS}@2018-06-30/ISOM", params={"format": "pdf"})
    assert response.status_code == 200
    text = " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Rapport over de aansluiting" in text
    assert_proper_dutch(text, "ISOM.pdf")


def test_downloads_are_proper_dutch(client, scenario):
    for url in (f"/overlay.csv?a={ASSOCIATIONS}&b=eerstelijnszone", f"/layers/{scenario}/leden.csv",
                f"/api/v1/overlay?a={ASSOCIATIONS}&b=eerstelijnszone&format=csv"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_proper_dutch(response.content.decode("utf-8-sig"), url)
    book = load_workbook(io.BytesIO(client.get("/overlay.xlsx", params={"a": ASSOCIATIONS, "b": "eerstelijnszone"})
                                    .content), read_only=True)
    cells = " ".join(str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row
                     if c is not None)
    assert_proper_dutch(cells, "overlay.xlsx")
    assert " ja " in f" {cells} " and " nee " in f" {cells} "


def test_history_and_dates_read_in_dutch(client):
    text = visible_text(client.get(f"/reports/{ASSOCIATIONS}/WRNL").text)
    assert "Sinds 2019: 8 OCMW's; Oudsbergen als geheel na de fusie van 2019." in text
    assert re.search(r"opgemaakt op \d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|september|"
                     r"oktober|november|december) \d{4}", text)
    isom = visible_text(client.get(f"/reports/{ASSOCIATIONS}@2018-06-30/ISOM").text)
    assert "31 december 2018" in isom and "Feitelijke vereniging sinds 2003" in isom


def test_norms_are_shown_only_where_they_apply(client):
    association = visible_text(client.get(f"/reports/{ASSOCIATIONS}/W13").text)
    assert "Bevolkingsnormen voor W13" not in association and "ter vergelijking" not in association
    assert "geldt geen bevolkingsnorm" in association
    # The primary care norm is shown next to the primary care zones W13 touches, as theirs.
    assert "Bevolkingsnorm voor eerstelijnszones: minstens 60.000 inwoners" in association
    zone = visible_text(client.get("/reports/eerstelijnszone/elz18").text)
    assert "Bevolkingsnormen voor elz18" in zone and "deze laag" in zone


def test_a_fully_nested_layer_with_a_low_rand_index_is_explained(client):
    text = visible_text(client.get("/overlay?a=gemeente&b=arrondissement").text)
    assert "Aandeel genest 100,0 %" in text
    assert "Geen tegenspraak: elke gemeente ligt binnen één van de arrondissementen" in text
    # No caveat where the measures do not seem to contradict each other.
    assert "Geen tegenspraak" not in visible_text(client.get(f"/overlay?a={ASSOCIATIONS}&b=eerstelijnszone").text)


def test_the_overlay_table_keeps_a_scenario_selected_and_names_members_outside(client, scenario):
    page = client.get("/overlay", params={"a": scenario, "b": "eerstelijnszone"}).text
    assert f'<option value="{scenario}" selected>Lendelede naar Kortrijk</option>' in page
    text = visible_text(page)
    assert "Zone van Lendelede naar Kortrijk" in text  # the name as typed, never lower-cased
    table = visible_text(client.get("/overlay", params={"a": ASSOCIATIONS, "b": "eerstelijnszone"}).text)
    # WRNL on the pinned date: Bree alone lies outside Noord-Limburg (Oudsbergen: start unknown, not counted).
    assert "Leden buiten de grootste zone" in table and "Bree" in table and "Bree, Oudsbergen" not in table
