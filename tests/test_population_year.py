"""The population year: 2024 (sector sums) by default, older years selectable, the caveat said once."""

from __future__ import annotations

import re

import pytest

from geo.reference.catalog import DEFAULT_POPULATION_YEAR, population_note, population_years


def test_the_cli_offers_exactly_the_years_in_the_data(monkeypatch):
    from api.cli_common import global_options
    from api.settings import Settings

    action = next(a for a in global_options(after_command=False)._actions if a.dest == "population_year")
    assert tuple(action.choices) == population_years()
    monkeypatch.delenv("REGIOMATCH_POPULATION_YEAR", raising=False)
    assert Settings().population_year == DEFAULT_POPULATION_YEAR == 2024


def test_pages_name_the_year_and_say_the_sector_caveat_once(client):
    page = client.get("/").text
    text = re.sub(r"<[^>]+>", " ", page)
    assert "1 januari 2024" in text
    assert text.count("0,1 à 0,3 %") == 1


def test_maps_say_the_caveat_in_their_credits(catalog):
    from maps.base import new_map

    html = new_map("Proef", "", catalog.atoms.population_year, "inline").get_root().render()
    html = html.encode().decode("unicode_escape")  # the credit is a JavaScript string
    assert "Bevolking op 1 januari 2024: opgeteld uit de statistische sectoren" in html
    assert html.count("0,1 à 0,3 %") == 1
    older = new_map("Proef", "", 2020, "inline").get_root().render()
    assert population_note(2020) == "" and "Bevolking op 1/1/2020." in older


def test_an_older_year_stays_selectable(make_client):
    body = make_client(population_year=2019).get("/health").json()
    assert body["population_year"] == 2019


def test_the_year_is_chosen_per_request(client):
    """Issue 23, point 5: no restart for 2020 figures. The API takes ``population_year``; a partial
    member counts that year's member part (Cipal's Antwerpen member in 2020: Borsbeek's 10,949)."""
    cipal = "0219395192"
    for year, borsbeek in ((2020, 10_949), (2024, 11_372)):
        body = client.get(f"/api/v1/layers/samenwerkingsverbanden/zones/{cipal}", params={"population_year": year}).json()
        antwerpen = next(m for m in body["members"] if m["nis_code"] == 11002)
        assert antwerpen["population"] == pytest.approx(borsbeek), year
    overlay = client.get("/api/v1/overlay", params={"a": "eerstelijnszone", "b": "provincie", "population_year": 2019})
    assert overlay.json()["population_year"] == 2019
    bad = client.get("/api/v1/overlay", params={"a": "eerstelijnszone", "b": "provincie", "population_year": 2021})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_input" and "2021" in bad.json()["detail"]


def test_the_pages_offer_the_years_and_keep_the_choice(client):
    page = client.get("/municipalities/11002")
    assert 'action="/bevolkingsjaar"' in page.text and '<option value="2020">2020</option>' in page.text
    chosen = client.get("/bevolkingsjaar", params={"jaar": 2020}, headers={"referer": "http://testserver/municipalities/11002?x=1"},
                        follow_redirects=False)
    assert chosen.status_code == 303 and chosen.headers["location"] == "/municipalities/11002?x=1"
    # The cookie keeps the year on every page and link after it; the query parameter wins.
    text = re.sub(r"<[^>]+>", " ", client.get("/municipalities/11002").text)
    assert "1 januari 2020" in text and "1 januari 2024" not in text
    assert "1 januari 2024" in re.sub(r"<[^>]+>", " ", client.get("/municipalities/11002?population_year=2024").text)
