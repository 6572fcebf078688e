"""maps.pdf parses the page's head style sheet once per process and hands it to WeasyPrint beside
the page, and keeps font configurations between prints: the printed document must not change."""

from __future__ import annotations

import io

import pytest

from maps import pdf
from tests.system import PACKAGES, install_hint


@pytest.fixture
def weasyprint_only() -> None:
    if "weasyprint" not in pdf.available_renderers():
        pytest.skip(install_hint(PACKAGES["pango"]))


def _text_and_size(document: bytes) -> tuple[str, tuple[float, float]]:
    from pypdf import PdfReader

    page = PdfReader(io.BytesIO(document)).pages[0]
    return page.extract_text(), (round(float(page.mediabox.width)), round(float(page.mediabox.height)))


PAGE = ('<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8"><style>{css}</style></head><body>'
        '<p class="gone">weg</p><p class="kept" style="display: block">blijft</p>'
        '<p class="forced" style="display: block">verborgen</p><p>zichtbaar</p></body></html>')
CSS = ("@page { size: A5; margin: 10mm } .gone { display: none } .kept { display: none } "
       ".forced { display: none !important }")


def test_the_head_style_sheet_applies_as_the_page_s_own(weasyprint_only) -> None:
    text, size = _text_and_size(pdf.html_to_pdf(PAGE.format(css=CSS)))
    assert size == (420, 595)  # its @page rule: A5
    assert "zichtbaar" in text and "weg" not in text
    assert "blijft" in text  # a style attribute still beats the sheet's rules
    assert "verborgen" not in text  # and !important in the sheet still beats the attribute
    again, _ = _text_and_size(pdf.html_to_pdf(PAGE.format(css=CSS)))  # the parsed sheet, kept
    assert again == text and pdf._style_sheet.cache_info().hits >= 1


def test_a_page_without_a_head_style_prints_as_before(weasyprint_only) -> None:
    text, size = _text_and_size(pdf.html_to_pdf("<p>regiomatch</p>"))
    assert "regiomatch" in text and size == (595, 842)  # A4, WeasyPrint's default


def test_two_prints_at_once_never_share_a_font_configuration(weasyprint_only) -> None:
    with pdf._font_configuration() as first, pdf._font_configuration() as second:
        assert first is not second
