"""The printed fit reports fit A4: every word inside the printable area, a sensible page count.

The four case associations are printed against their default comparison layers through the web
route (the button a user clicks), read back word by word with their bounding boxes
(``pdftotext -bbox`` from poppler-utils) and rendered to images with ``pdftoppm``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from api.cli import main as cli_main

ASSOCIATIONS = "samenwerkingsverband"
# A4 in PostScript points and the @page margins of maps/templates/base.html (14 / 12 / 22 mm); the
# bottom margin holds the credits and the page number, which must stay 6 mm clear of the edge.
A4 = (595.28, 841.89)
MM = 72 / 25.4
MARGIN_TOP, MARGIN_SIDE, MARGIN_BOTTOM, FOOTER_EDGE = 14 * MM, 12 * MM, 22 * MM, 6 * MM
TOLERANCE = 1.0  # points: glyph boxes may overhang by a hair
# Page counts of each report against the four default layers (eerstelijnszones, referentieregio's,
# Gezondheidsmakers, LOGO): a member table, the measures, one section per layer with a map where a
# line cuts the association, the norms, the history and the sources. Before the layout was fixed,
# W13 took 11 pages and WRNL 8 with columns cut off at the right edge. W13 and WZK got a page more
# when the largest zone's row and each membership period began naming their members (issue 26).
pytestmark = pytest.mark.pdf  # the module prints four reports (its `printed` fixture)
PAGES = {"W13": 9, "WRNL": 6, "WZK": 7, "ISOM": 5}
# ISOM ended in 2018: printed from the association layer on a date when it existed.
LAYER_OF = {"ISOM": f"{ASSOCIATIONS}@2018-06-30"}

Word = tuple[int, float, float, float, float, str]  # page, x0, y0, x1, y1, text


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is missing: install poppler-utils (apt-get install poppler-utils)"
    return path


def words(pdf: Path) -> tuple[list[tuple[float, float]], list[Word]]:
    """Page sizes and every word with its box, in points from the top-left corner."""
    out = subprocess.run([_tool("pdftotext"), "-bbox", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    pages: list[tuple[float, float]] = []
    found: list[Word] = []
    for line in out.splitlines():
        page = re.search(r'<page width="([\d.]+)" height="([\d.]+)"', line)
        if page:
            pages.append((float(page[1]), float(page[2])))
            continue
        word = re.search(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*)</word>', line)
        if word:
            found.append((len(pages), *(float(word[i]) for i in range(1, 5)), word[5]))
    return pages, found


@pytest.fixture(scope="module")
def printed(tmp_path_factory, state_dir_module) -> dict[str, Path]:
    """The four reports as the web serves them, written to files."""
    from fastapi.testclient import TestClient

    from api.main import create_app

    folder = tmp_path_factory.mktemp("reports")
    files = {}
    with TestClient(create_app()) as client:
        for code in PAGES:
            response = client.get(f"/reports/{LAYER_OF.get(code, ASSOCIATIONS)}/{code}", params={"format": "pdf"})
            assert response.status_code == 200, response.text[:300]
            assert response.headers["content-type"] == "application/pdf"
            files[code] = folder / f"{code}.pdf"
            files[code].write_bytes(response.content)
    return files


@pytest.fixture(scope="module")
def state_dir_module(tmp_path_factory) -> Path:
    monkeypatch = pytest.MonkeyPatch()
    from tests.conftest import reset_app_caches

    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("REGIOMATCH_STATE_DIR", str(state))
    monkeypatch.delenv("REGIOMATCH_API_TOKEN", raising=False)
    monkeypatch.delenv("REGIOMATCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    reset_app_caches()
    yield state
    monkeypatch.undo()
    reset_app_caches()


@pytest.mark.parametrize("code", PAGES)
def test_every_word_lies_inside_the_printable_area_of_an_a4_page(printed, code):
    pages, found = words(printed[code])
    assert len(pages) == PAGES[code], f"{code}: {len(pages)} pages, expected {PAGES[code]}"
    for width, height in pages:
        assert (width, height) == pytest.approx(A4, abs=0.5)
    assert len(found) > 300, "the PDF has no readable text"
    left, right = MARGIN_SIDE - TOLERANCE, A4[0] - MARGIN_SIDE + TOLERANCE
    top, bottom = MARGIN_TOP - TOLERANCE, A4[1] - MARGIN_BOTTOM + TOLERANCE
    body = [w for w in found if w[2] < bottom]
    footer = [w for w in found if w[2] >= bottom]
    outside = [w for w in body if w[1] < left or w[3] > right or w[2] < top or w[4] > bottom]
    assert not outside, f"{code}: text past the margin: {outside[:5]}"
    outside = [w for w in footer if w[1] < left or w[3] > right or w[4] > A4[1] - FOOTER_EDGE]
    assert not outside, f"{code}: footer past the page edge: {outside[:5]}"
    for number in range(1, len(pages) + 1):
        text = " ".join(w[5] for w in footer if w[0] == number)
        assert "Statbel" in text and f"pagina {number} van {len(pages)}" in text, f"{code} p. {number}: {text!r}"


@pytest.mark.parametrize("code", PAGES)
def test_every_page_renders_to_an_image_with_content(printed, code, tmp_path):
    subprocess.run([_tool("pdftoppm"), "-r", "30", "-png", str(printed[code]), str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == PAGES[code]
    from matplotlib import image as mpimg

    for image in images:
        pixels = mpimg.imread(image)[..., :3]
        # A page holding only a line or two (a widow) is as useless in a meeting as a blank one.
        assert (pixels < 0.8).mean() > 0.02, f"{image.name} of {code} is (nearly) blank"


def test_cli_prints_the_same_document_as_the_web_button(printed, tmp_path):
    out = tmp_path / "W13.pdf"
    assert cli_main(["report", ASSOCIATIONS, "W13", "-o", str(out)]) == 0
    _, web = words(printed["W13"])
    _, cli = words(out)
    assert [(w[0], w[5]) for w in cli] == [(w[0], w[5]) for w in web]
    for a, b in zip(cli, web):
        assert a[1:5] == pytest.approx(b[1:5], abs=0.01)


def test_inlined_images_reach_the_pdf_once_each_and_unchanged():
    """The PDF renderer is handed a page's data-URI images beside the page: a JPEG still goes in
    as it is (DCT), and the same image twice is stored once."""
    import base64
    import io

    import PIL.Image
    from pypdf import PdfReader

    from maps.pdf import html_to_pdf
    from tests.system import require_pdf_renderer

    require_pdf_renderer()
    buffer = io.BytesIO()
    PIL.Image.new("RGB", (40, 30), "#0072B2").save(buffer, format="JPEG", quality=90)
    uri = "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    other = io.BytesIO()
    PIL.Image.new("RGB", (20, 20), "#E69F00").save(other, format="PNG")
    png_uri = "data:image/png;base64," + base64.b64encode(other.getvalue()).decode("ascii")
    pdf = html_to_pdf(f'<p>kaart</p><img src="{uri}"><img src="{uri}"><img src="{png_uri}">')
    images = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for name, obj in page["/Resources"]["/XObject"].items():
            images[obj.indirect_reference.idnum] = obj.get_object()
    filters = sorted(str(image["/Filter"]) for image in images.values())
    assert filters == ["/DCTDecode", "/FlateDecode"]
    jpeg = next(image for image in images.values() if image["/Filter"] == "/DCTDecode")
    assert jpeg.get_data() == buffer.getvalue()


def test_report_maps_print_as_vector_graphics(printed):
    """The report maps are SVG: WeasyPrint draws them as paths and text, sharp at any zoom, so
    the printed report holds no raster image at all."""
    out = subprocess.run([_tool("pdfimages"), "-list", str(printed["W13"])], capture_output=True, text=True,
                         check=True).stdout
    assert len(out.strip().splitlines()) == 2, f"raster images in the report: {out}"  # the header only
    _, found = words(printed["W13"])
    # the map names the members: Spiere-Helkijn in each of W13's 4 maps, beside the text's mentions
    on_maps = [w for w in found if w[5] == "Spiere-Helkijn" and w[4] - w[2] < 7.5]
    assert len(on_maps) == 4, on_maps
