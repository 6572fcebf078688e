"""Fit reports: the HTML/PDF report of one zone against other layers, its map and the CLI."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from markupsafe import escape

from api.cli import main as cli_main
from geo.engine.overlay import overlay
from geo.paths import ATTRIBUTION
from geo.reference.norms import ZONE_MINIMUM_60K, check_population
from geo.usecases.reports import default_against
from maps import pdf as pdf_module
from maps.pdf import available_renderers, html_to_pdf
from maps.report import fit_report, render_report
from maps.zone_map import (
    DOMINANT_COLOUR,
    FILL_OPACITY,
    ZONE_LINE_COLOUR,
    _over_white,
    zone_colours,
    zone_map,
    zone_scene,
)
from tests.system import PACKAGES, install_hint, require_pdf_renderer

# Golden figures of 1 January 2020 (Statbel's municipal count): pinned, see conftest.GOLDEN_YEAR.
pytestmark = pytest.mark.usefixtures("population_2020")


@pytest.fixture(scope="module")
def catalog(catalog_2020):
    return catalog_2020

ASSOCIATIONS = "samenwerkingsverband"


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)


def visible_text(html: str) -> str:
    """The page text without tags or entity noise, whitespace collapsed (for phrase assertions)."""
    import html as html_lib
    import re

    text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", html, flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", text)).split())


# -- what the report says --------------------------------------------------------------------
def test_nested_association_says_it_lies_entirely_in_one_zone(catalog):
    from geo.reference.history import associations_as_of

    # ISOM ended in 2018: reported on a date when it existed.
    report = fit_report(associations_as_of(catalog, "2018-06-30"), "ISOM", [catalog.layer("eerstelijnszone")],
                        with_maps=False)
    comparison = report.comparisons[0]
    assert comparison.detail.nested
    assert comparison.sentences[0].endswith("ligt volledig in eerstelijnszone Middenkempen (elz25). "
                                            "Alle leden zitten aan dezelfde kant van de lijn.")
    assert not any(cell["outside"] for row in report.member_rows for cell in row["cells"])


def test_nested_report_page_says_so_and_lists_no_member_outside(client):
    response = client.get(f"/reports/{ASSOCIATIONS}@2018-06-30/ISOM", params={"against": "eerstelijnszone"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    text = visible_text(response.text)
    assert "ligt volledig in eerstelijnszone Middenkempen (elz25)" in text
    assert "Buiten Middenkempen" not in text and "verdeeld over" not in text
    assert 'class="outside"' not in response.text


def test_split_association_names_the_members_on_the_other_side(catalog):
    elz = catalog.layer("eerstelijnszone")
    report = fit_report(catalog.layer(ASSOCIATIONS), "W13", [elz], with_maps=False)
    detail = report.comparisons[0].detail
    sentences = report.comparisons[0].sentences
    assert detail.dominant_zone == "elz18" and len(detail.zones_touched) == 4
    assert sentences[0].startswith("Welzijnsvereniging W13 (Zuid-West-Vlaanderen) is verdeeld over 4 eerstelijnszones.")
    assert "Kortrijk-Kuurne-Harelbeke (elz18)" in sentences[0]
    assert "In RITS (elz40): Lendelede (5.787)." in sentences
    menen = next(s for s in sentences if s.startswith("In Regio Menen (elz24):"))
    for name in ("Menen", "Wevelgem", "Wervik"):
        assert name in menen
    # Every member outside the dominant zone is named once in the per-zone sentences.
    named = " ".join(s for s in sentences if s.startswith("In "))
    for member in detail.members_outside_dominant:
        assert member.name in named
    assert "Kortrijk (" not in named  # Kortrijk is in the dominant zone


def test_split_report_page_names_members_and_marks_them(client, catalog):
    response = client.get(f"/reports/{ASSOCIATIONS}/W13")
    assert response.status_code == 200
    text = visible_text(response.text)
    assert "In RITS (elz40): Lendelede (5.787)." in text
    # Against the reference regions only Wielsbeke sits on the other side of the line.
    assert "In Midwest (REFREG10): Wielsbeke (9.833)." in text
    assert "Buiten Zuid-West-Vlaanderen ligt 1 lid" in text
    # The member table marks exactly the members outside the dominant zone, per comparison layer.
    expected = sum(len(overlay(catalog.layer(ASSOCIATIONS), catalog.layer(i)).zone_detail("W13").members_outside_dominant)
                   for i in default_against())
    assert response.text.count('<td class="outside">') == expected
    assert '<td class="outside">RITS <span class="nowrap">(elz40) *</span></td>' in response.text


def test_report_compares_with_the_default_layers_and_states_year_and_sources(client, catalog):
    html = client.get(f"/reports/{ASSOCIATIONS}/WRNL").text
    text = visible_text(html)
    year = catalog.atoms.population_year
    assert f"1 januari {year}" in text
    assert ATTRIBUTION in text
    for layer_id in default_against():
        layer = catalog.layer(layer_id)
        assert f"{layer.name} ({layer.id})" in text  # in the sources table, with its vintage
    # The association layer is served on a date (REGIOMATCH_AS_OF, pinned by the tests): its state then.
    assert catalog.layer(ASSOCIATIONS).source in text and "toestand op 1 december 2026" in text
    # WRNL: split over two primary care zones, Noord-Limburg holds most inhabitants.
    assert "verdeeld over 2 eerstelijnszones" in text and "wonen in Noord-Limburg (elz28)" in text
    assert "In Kemp en Duin (elz12): Bree" in text
    # Dated membership notes from the association history are shown.
    assert "Lidmaatschap door de tijd" in text
    # Links to the interactive maps, zoomed to this association.
    assert "/maps/overlay?a=samenwerkingsverband&amp;b=eerstelijnszone&amp;focus=WRNL" in html


def test_report_explains_the_measures_in_dutch(client):
    text = visible_text(client.get(f"/reports/{ASSOCIATIONS}/W13").text)
    for label in ("Aandeel in de grootste zone", "Inwoners buiten de grootste zone", "Volledig binnen één zone",
                  "Aangepaste Rand-index", "Variatie van informatie", "Genormaliseerde wederzijdse informatie"):
        assert label in text
    assert "Gecorrigeerd voor toeval" in text and "aan de andere kant van de lijn" in text


def test_norms_of_touched_zones_match_the_norm_check(catalog):
    elz = catalog.layer("eerstelijnszone")
    report = fit_report(catalog.layer(ASSOCIATIONS), "W13", [elz], with_maps=False)
    checked = check_population(elz, ZONE_MINIMUM_60K).set_index("code")
    rows = report.comparisons[0].zone_norms
    assert {r["code"] for r in rows} == {"elz18", "elz24", "elz40", "elz50"}
    for row in rows:
        assert row["passes"] == bool(checked.loc[row["code"], "passes"])
        assert row["population"] == pytest.approx(checked.loc[row["code"], "population"])


def test_report_of_a_primary_care_zone_applies_its_own_norm(client, catalog):
    elz = catalog.layer("eerstelijnszone")
    population = float(elz.zone_weight()[elz.zone_position("elz40")])
    report = fit_report(elz, "elz40", [catalog.layer("referentieregio")], with_maps=False)
    own = [r for r in report.norm_rows if r["own"]]
    assert [r["norm"] for r in own] == [ZONE_MINIMUM_60K]
    assert own[0]["passes"] == (population >= 60_000)
    text = visible_text(client.get("/reports/eerstelijnszone/elz40", params={"against": "referentieregio"}).text)
    assert "minstens 60.000 inwoners" in text and "deze laag" in text


def test_brussels_zone_is_shown_not_judged(catalog):
    report = fit_report(catalog.layer("gemeente"), "21004", [catalog.layer("eerstelijnszone")], with_maps=False)
    assert not report.flemish and report.norm_rows == []
    assert "niet getoetst" in render_report(report)


def test_report_against_a_scenario_follows_the_moves(client):
    created = client.post("/api/v1/scenarios", json={
        "name": "Lendelede naar Kortrijk-Kuurne-Harelbeke", "base_layer": "eerstelijnszone",
        "moves": [{"nis_code": 34025, "to_zone": "elz18"}]})
    assert created.status_code == 201, created.text
    layer_id = created.json()["layer_id"]
    text = visible_text(client.get(f"/reports/{ASSOCIATIONS}/W13", params={"against": layer_id}).text)
    assert "verdeeld over 3 " in text and "Lendelede (5.787)." not in text
    # A scenario's own report inherits the norm of its base layer.
    own = visible_text(client.get(f"/reports/{layer_id}/elz18", params={"against": "referentieregio"}).text)
    assert "minstens 60.000 inwoners" in own and "deze laag" in own


# -- errors ----------------------------------------------------------------------------------
def test_unknown_zone_layer_and_bad_against_are_refused(client):
    # Reports are pages people open in a browser: a 404 is a Dutch page naming what is missing.
    response = client.get(f"/reports/{ASSOCIATIONS}/NOPE")
    assert response.status_code == 404 and "geen zone met code ‘NOPE’" in visible_text(response.text)
    response = client.get("/reports/nolayer/W13")
    assert response.status_code == 404 and "geen laag met de naam ‘nolayer’" in visible_text(response.text)
    response = client.get(f"/reports/{ASSOCIATIONS}/W13", params={"against": "nolayer"})
    assert response.status_code == 404 and "‘nolayer’" in visible_text(response.text)
    # ... and bad input a Dutch page saying what cannot be (tests/test_invalid_pages.py)
    response = client.get(f"/reports/{ASSOCIATIONS}/W13", params={"against": ASSOCIATIONS})
    assert response.status_code == 422 and "minstens een andere laag" in visible_text(response.text)
    response = client.get(f"/reports/{ASSOCIATIONS}/W13", params={"format": "docx"})
    assert response.status_code == 422 and "‘format’ moet ‘html’ of ‘pdf’ zijn" in visible_text(response.text)


def test_pdf_without_a_renderer_is_a_clear_501(client, monkeypatch):
    monkeypatch.setattr(pdf_module, "available_renderers", lambda: [])
    response = client.get(f"/reports/{ASSOCIATIONS}/W13", params={"format": "pdf"})
    assert response.status_code == 501
    assert response.json()["code"] == "pdf_unavailable" and "WeasyPrint" in response.json()["detail"]


# -- PDF -------------------------------------------------------------------------------------
def test_pdf_report_is_a_valid_pdf_with_the_association_name(client):
    require_pdf_renderer()
    response = client.get(f"/reports/{ASSOCIATIONS}/W13", params={"format": "pdf"})
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    assert "Welzijnsvereniging W13" in text
    assert "Lendelede" in text


@pytest.mark.parametrize("renderer", pdf_module.RENDERERS)
def test_each_installed_renderer_produces_a_readable_pdf(catalog, renderer):
    if renderer not in available_renderers():
        pytest.skip(install_hint(PACKAGES["browser" if renderer == "chromium" else "pango"]))
    from geo.reference.history import associations_as_of

    # ISOM ended in 2018: reported on a date when it existed.
    report = fit_report(associations_as_of(catalog, "2018-06-30"), "ISOM", [catalog.layer("eerstelijnszone")])
    content = html_to_pdf(render_report(report), renderer)
    assert content.startswith(b"%PDF-")
    text = pdf_text(content)
    assert "ISOM - Intergemeentelijke Samenwerking OCMW's Middenkempen" in " ".join(text.split())


# -- report map ------------------------------------------------------------------------------
def _member_paths(svg: str) -> list[str]:
    """The fill colours of the members' paths (the second group of areas, after the context)."""
    groups = re.findall(r'<g stroke="#ffffff"[^>]*>(.*?)</g>', svg)
    assert len(groups) == 2, "the map has a group of context areas and one of members"
    return re.findall(r'<path fill="(#[0-9a-f]{6})"', groups[1])


def test_report_map_colours_members_by_their_zone(catalog):
    associations, elz = catalog.layer(ASSOCIATIONS), catalog.layer("eerstelijnszone")
    result = overlay(associations, elz)
    split, nested = result.zone_detail("W13"), result.zone_detail("NETELAND")
    split_map = zone_map(associations, "W13", elz, split)
    nested_map = zone_map(associations, "NETELAND", elz, nested)
    for drawn in (split_map, nested_map):
        assert drawn.svg.startswith("<svg") and drawn.svg.endswith("</svg>")
        ElementTree.fromstring(drawn.svg)  # well-formed XML, as WeasyPrint and browsers need
    colours = zone_colours(split)
    assert colours["elz18"] == DOMINANT_COLOUR and len(set(colours.values())) == 4
    # One path per zone the members sit in, filled with its colour at FILL_OPACITY over white.
    assert sorted(_member_paths(split_map.svg)) == sorted(_over_white(colours[z.code], FILL_OPACITY)
                                                         for z in split.zones_touched)
    assert _member_paths(nested_map.svg) == [_over_white(DOMINANT_COLOUR, FILL_OPACITY)]
    assert _over_white(colours["elz40"], FILL_OPACITY) not in nested_map.svg


def test_report_map_draws_every_member_and_names_them(catalog):
    associations, elz = catalog.layer(ASSOCIATIONS), catalog.layer("eerstelijnszone")
    split = overlay(associations, elz).zone_detail("W13")
    drawn = zone_map(associations, "W13", elz, split)
    scene = zone_scene(associations, "W13", elz, split)
    members = [m.name for z in split.zones_touched for m in z.members]
    assert sum(1 for _, member, rings in scene.areas if member and rings) == len(members) == 14
    assert sorted(re.findall(r"<text [^>]*>([^<]+)</text>", drawn.svg)) == sorted(members)
    # the zone's border dashed, the comparison layer's zones solid: one path each
    assert drawn.svg.count('stroke-dasharray="90 40"') == 1 and drawn.svg.count(f'stroke="{ZONE_LINE_COLOUR}"') == 1
    assert escape(ATTRIBUTION) in drawn.svg  # the data credit travels inside the map too
    assert 20_000 < len(drawn.svg) < 120_000  # simplified to the map's scale: tens of kilobytes



def test_report_map_for_paper_is_simplified_to_the_paper_and_shows_the_same(catalog):
    associations, elz = catalog.layer(ASSOCIATIONS), catalog.layer("eerstelijnszone")
    split = overlay(associations, elz).zone_detail("W13")
    page, paper = (zone_map(associations, "W13", elz, split, for_print=p) for p in (False, True))
    steps = [drawn.svg.count("l") for drawn in (page, paper)]
    # W13 is taller than wide: printed 8.5 cm high, a drawing pixel is under a tenth of a millimetre
    assert steps[1] < 0.8 * steps[0]
    for pattern in (r'<path fill="(#[0-9a-f]{6})"', r"<text [^>]*>([^<]+)</text>", r'stroke="(#[0-9a-f]{6})"'):
        assert sorted(re.findall(pattern, paper.svg)) == sorted(re.findall(pattern, page.svg))
    assert paper.legend == page.legend and re.search(r'viewBox="[^"]*"', paper.svg)[0] in page.svg

def test_report_map_legend_names_every_zone_and_both_lines(catalog):
    associations, elz = catalog.layer(ASSOCIATIONS), catalog.layer("eerstelijnszone")
    split = overlay(associations, elz).zone_detail("W13")
    drawn = zone_map(associations, "W13", elz, split)
    colours = zone_colours(split)
    assert [(row.label, row.fill) for row in drawn.legend if row.fill] == [
        (f"{z.name} ({z.code})", colours[z.code]) for z in split.zones_touched]
    assert [(row.label, row.line) for row in drawn.legend if row.line] == [
        ("grens van W13", "dashed"), (f"grenzen {elz.name}", "solid")]


def test_report_page_shows_the_map_with_its_legend(catalog):
    associations, elz = catalog.layer(ASSOCIATIONS), catalog.layer("eerstelijnszone")
    html = render_report(fit_report(associations, "W13", [elz]))
    figure = html[html.index('<figure class="zone-map">'):html.index("</figure>")]
    image = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', figure)
    assert image, "the map is an inlined SVG image"
    svg = base64.b64decode(image[1]).decode("utf-8")
    assert svg.startswith("<svg") and ">Lendelede</text>" in svg
    assert "Kortrijk-Kuurne-Harelbeke (elz18)" in visible_text(figure)
    assert "grens van W13" in visible_text(figure)
    assert "Statbel" in visible_text(figure)  # the data credit travels with the map


# -- CLI -------------------------------------------------------------------------------------
def test_cli_writes_html_and_pdf(tmp_path: Path):
    require_pdf_renderer()
    html_file, pdf_file = tmp_path / "w13.html", tmp_path / "isom.pdf"
    assert cli_main(["report", ASSOCIATIONS, "W13", "-o", str(html_file), "--against", "eerstelijnszone"]) == 0
    text = visible_text(html_file.read_text(encoding="utf-8"))
    assert "In RITS (elz40): Lendelede (5.787)." in text
    assert "data:image/svg+xml;base64," in html_file.read_text(encoding="utf-8")  # self-contained
    assert cli_main(["report", f"{ASSOCIATIONS}@2018-06-30", "ISOM", "-o", str(pdf_file)]) == 0
    assert pdf_file.read_bytes().startswith(b"%PDF-")
    assert "Middenkempen" in pdf_text(pdf_file.read_bytes())


def test_cli_refuses_bad_input_without_writing(tmp_path: Path, capsys):
    assert cli_main(["report", ASSOCIATIONS, "W13", "-o", str(tmp_path / "w13.docx")]) == 2
    assert "must end in .html or .pdf" in capsys.readouterr().err
    assert cli_main(["report", ASSOCIATIONS, "XX", "-o", str(tmp_path / "x.html")]) == 2
    assert "no zone 'XX'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_scenarios_report_names_it_without_its_internal_id(client):
    sid = client.post("/api/v1/scenarios", json={"name": "Variant Zuid", "base_layer": "eerstelijnszone"}).json()["id"]
    text = visible_text(client.get(f"/reports/scenario:{sid}/elz18").text)
    assert "Variant Zuid" in text and "scenario:" not in text and sid not in text
