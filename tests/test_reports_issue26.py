"""What a planner misread in the W13 report and a municipality profile (issue 26, item 9): one
explanation repeated over every membership period, the largest zone's row saying "3 leden" without
naming them, inactive associations listed like active ones under "N actieve", and the PDF legend
drawing W13's border solid while the caption says "Stippellijn"."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_dutch_wording import visible_text

W13 = "/reports/samenwerkingsverband/W13"
NOTE = "Wielsbeke trad toe in 2017"


def test_the_w13_report_says_its_history_once_and_names_every_member(client) -> None:
    text = visible_text(client.get(W13).text)
    assert text.count(NOTE) == 1, text.count(NOTE)
    assert "1 lid: Wielsbeke" in text
    assert re.search(r"13 leden: Anzegem, Avelgem, .*Zwevegem", text)
    assert "grootste zone, 3 leden: Harelbeke, Kortrijk, Kuurne" in text


def test_a_profile_keeps_inactive_associations_apart(client) -> None:
    page = client.get("/municipalities/34022").text
    text = visible_text(page)
    active = int(re.search(r"neemt deel aan (\d+) actieve", text)[1])
    counted = re.search(r"(\d+) actief, (\d+) niet actief", text)
    assert counted and int(counted[1]) == active, (active, counted and counted[0])
    row = page[page.index("(register)"):]
    row = row[:row.index("</tr>")]
    statuses = re.findall(r'<span( class="inactive")?><a href="/zones/', row)
    assert statuses.count(' class="inactive"') == int(counted[2])
    assert statuses == sorted(statuses)  # every active one before every inactive one
    assert "niet actief" in visible_text(row)

    isom = visible_text(client.get("/municipalities/13011").text)  # Herentals: WZK now, ISOM until 2018
    isom = isom[isom.index("Samenwerkingsverbanden en hoe ze passen"):]
    assert isom.index("Welzijnszorg Kempen") < isom.index("Niet meer actief") < isom.index("ISOM - Intergemeentelijke")


@pytest.mark.pdf
def test_the_pdf_legend_draws_the_dashed_border_it_names(client, tmp_path: Path) -> None:
    from tests.system import require_pdf_renderer

    require_pdf_renderer()
    tools = [shutil.which(t) for t in ("pdftoppm", "pdftotext")]
    if not all(tools):
        pytest.skip("pdftoppm and pdftotext are missing: apt-get install poppler-utils")
    response = client.get(W13, params={"format": "pdf"})
    assert response.status_code == 200
    pdf = tmp_path / "w13.pdf"
    pdf.write_bytes(response.content)
    boxes = subprocess.run([tools[1], "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    page, words = 0, []
    for line in boxes.splitlines():
        if "<page " in line:
            page += 1
        found = re.search(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*)</word>', line)
        if found:
            words.append((page, *(float(found[i]) for i in range(1, 5)), found[5]))
    # The legend line "grens van W13": the first 'grens' followed by 'van' 'W13' before a figcaption.
    at = next(i for i in range(len(words) - 2)
              if [w[5] for w in words[i:i + 3]] == ["grens", "van", "W13"] and words[i - 1][5] != "Stippellijn:")
    number, x0, y0, _, y1, _ = words[at]
    dpi = 200
    subprocess.run([tools[0], "-r", str(dpi), "-f", str(number), "-l", str(number), "-gray", "-png", str(pdf),
                    str(tmp_path / "legend")], check=True)
    from PIL import Image

    image = Image.open(next(tmp_path.glob("legend*.png"))).convert("L")
    scale = dpi / 72
    left, right = int((x0 - 30) * scale), int((x0 - 2) * scale)
    runs_per_row = []
    for y in range(int(y0 * scale), int(y1 * scale) + 1):
        dark = [image.getpixel((x, y)) < 100 for x in range(left, right)]
        runs_per_row.append(sum(1 for i, d in enumerate(dark) if d and (i == 0 or not dark[i - 1])))
    assert max(runs_per_row) >= 3, runs_per_row  # dashes, not one solid bar
