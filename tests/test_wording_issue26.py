"""The Dutch slips users found in issue 26 (item 8): articles that ignore a noun's gender ("van wie
het referentieregio", "elk referentieregio", "geen enkel referentieregio"), suggestions that start
with a raw layer id, a crossed threshold shown as a failure next to "voldoet", a legend with a
second norm nobody named, and /vergelijk naming zones by code only."""

from __future__ import annotations

import re

import pytest

from geo.reference.norms import ZONE_MINIMUM_60K
from geo.zoning.suggest import Constraints, suggest
from tests.test_dutch_wording import visible_text

BASE = "eerstelijnszone"
WRONG_ARTICLES = ("het referentieregio", "elk referentieregio", "geen enkel referentieregio", "het eerstelijnszone",
                  "elk eerstelijnszone", "de samenwerkingsverband", "elke samenwerkingsverband",
                  "de grootste arrondissement")


@pytest.fixture
def compared(client) -> str:
    saved = client.post("/api/v1/scenarios", json={"name": "Lendelede naar Kortrijk", "base_layer": BASE,
                                                   "moves": [{"nis_code": 34025, "to_zone": "elz18"}]})
    assert saved.status_code == 201, saved.text
    page = client.get(f"/vergelijk?base={BASE}&other=scenario:{saved.json()['id']}"
                      "&against=samenwerkingsverband&against=referentieregio&against=arrondissement")
    assert page.status_code == 200
    return visible_text(page.text)


def test_articles_follow_the_gender_of_each_noun(compared: str) -> None:
    for wrong in WRONG_ARTICLES:
        assert not re.search(r"(?<!\w)" + wrong + r"(?!\w)", compared), wrong
    assert "Inwoners van wie de referentieregio volledig in één eerstelijnszone ligt" in compared
    assert "elke referentieregio past in één eerstelijnszone" in compared
    assert "Inwoners in geen enkele referentieregio" in compared
    assert "Inwoners van wie het samenwerkingsverband volledig" in compared
    assert "Inwoners buiten de grootste eerstelijnszone van hun arrondissement" in compared


def test_the_comparison_names_zones_and_does_not_call_a_threshold_a_failure(client, compared: str) -> None:
    assert "37,4 % in Kortrijk-Kuurne-Harelbeke (elz18)" in compared
    assert not re.search(r"% in elz\d+\b", compared)
    assert "Grens overschreden" not in compared
    assert "Drempel gepasseerd" in compared and "60.000 en 100.000 inwoners" in compared


def test_suggestions_name_layers_and_zones_not_their_ids(catalog) -> None:
    elz, register = catalog.layer(BASE), catalog.layer("samenwerkingsverbanden")
    result = suggest(elz, [register], Constraints(), max_moves=2, seed=0, time_budget=5)
    assert result.moves, "no suggestion to read"
    for move in result.moves:
        assert not re.search(r"(?:^|\. )samenwerkingsverbanden?:", move.explanation), move.explanation
        assert register.name + ":" in move.explanation or "bevolking" in move.explanation
    shown = [z for m in result.moves for e in m.effects for z in e["zones"]]
    for move in result.moves:
        for code in re.findall(r"(\S+) nu voor", move.explanation):
            assert code.endswith(")"), move.explanation  # "Naam (code) nu voor", never a bare code
    assert shown


def test_the_choropleth_legend_says_which_norm_is_which() -> None:
    from maps.choropleth import _norm_line_words

    assert _norm_line_words(60_000, ZONE_MINIMUM_60K) == "norm: 60.000 inwoners (de norm van deze laag)"
    assert "andere norm" in _norm_line_words(100_000, ZONE_MINIMUM_60K)
    assert "hier niet getoetst" in _norm_line_words(100_000, ZONE_MINIMUM_60K)
