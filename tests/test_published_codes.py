"""Names and codes as published (issue 23, point 6): associations named by name in running text,
enterprise numbers that keep their leading zero in every download, no "-0,0"."""

from __future__ import annotations

import html as html_lib
import io
import re

import openpyxl
import pandas as pd

from geo import dutch

AUDIO = "0827396340"


def _text(page: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_a_registered_association_is_named_by_name_in_its_report(client):
    page = client.get(f"/reports/samenwerkingsverbanden/{AUDIO}")
    assert page.status_code == 200
    text = _text(page.text)
    assert "Hoe past Audio in" in text
    assert f"Hoe past {AUDIO}" not in text and f" {AUDIO} " not in f" {text} "
    assert "Audio (0827.396.340)" in text  # the number itself in its published notation
    # A short code people use as a name stays: W13 is W13.
    assert "Hoe past W13 in" in _text(client.get("/reports/samenwerkingsverband/W13").text)


def test_enterprise_numbers_keep_their_leading_zero_in_csv_and_xlsx(client):
    body = client.get("/api/v1/overlay?a=samenwerkingsverbanden&b=referentieregio&format=csv").content
    frame = pd.read_csv(io.BytesIO(body))
    codes = frame["zone_code"].astype(str)
    assert (codes.str.fullmatch(r"[01]\d{3}\.\d{3}\.\d{3}")).all()
    assert "0827.396.340" in set(codes)  # read back as text, leading zero and all

    atlas = client.get("/api/v1/atlas?format=csv").content.decode("utf-8-sig")
    assert "0827.396.340" in atlas and ";827396340;" not in atlas
    reply = client.get("/api/v1/atlas?format=xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(reply.content))
    cells = [c for sheet in workbook.worksheets for row in sheet.iter_rows() for c in row
             if isinstance(c.value, str) and re.fullmatch(r"[01]\d{3}\.\d{3}\.\d{3}", c.value)]
    numbers = [c for sheet in workbook.worksheets for row in sheet.iter_rows() for c in row
               if isinstance(c.value, (int, float)) and 10**8 <= c.value < 2 * 10**9]
    assert cells and all(c.data_type == "s" for c in cells)
    assert not numbers  # no enterprise number turned into a number


def test_negative_zero_is_never_shown():
    assert dutch.number(-0.0, 1) == "0,0" and dutch.percent(-1e-12) == "0,0 %"
    assert dutch.number(-0.04, 1) == "0,0" and dutch.number(-0.06, 1) == "-0,1"
