"""The population year: 2024 (sector sums) by default, older years selectable, the caveat said once."""

from __future__ import annotations

import re

import pytest

from geo.reference.catalog import DEFAULT_POPULATION_YEAR, population_note, population_years


def test_the_cli_offers_exactly_the_years_in_the_data(monkeypatch):
    from api.cli_common import GLOBAL_OPTIONS
    from api.settings import Settings

    action = next(a for a in GLOBAL_OPTIONS._actions if a.dest == "population_year")
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


def test_an_older_year_stays_selectable(monkeypatch, state_dir):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from tests.conftest import reset_app_caches

    monkeypatch.setenv("REGIOMATCH_POPULATION_YEAR", "2019")
    reset_app_caches()
    with TestClient(create_app()) as client:
        body = client.get("/health").json()
    assert body["population_year"] == 2019
