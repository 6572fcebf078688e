"""A page's address with a value it cannot take: a Dutch page naming the parameter, what it takes
and what it got (422), never pydantic's English; the API keeps its JSON error."""

from __future__ import annotations

import re

import pytest

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def _lead(html: str) -> str:
    found = re.search(r'<p class="lead">(.*?)</p>', html, re.S)
    assert found, html[:300]
    return found.group(1)


@pytest.mark.parametrize(("path", "said"), [
    ("/reports/samenwerkingsverband/W13?format=docx", "‘format’ moet ‘html’ of ‘pdf’ zijn, niet ‘docx’."),
    ("/overlay?a=gemeente&b=eerstelijnszone&weight=kg", "‘weight’ moet ‘population’ of ‘area’ zijn, niet ‘kg’."),
    ("/vergelijk.pdf?base=eerstelijnszone", "‘other’ ontbreekt in het adres."),
    ("/beheer/logboek?voor=abc", "‘voor’ moet een geheel getal zijn, niet ‘abc’."),
    ("/zones/samenwerkingsverband@2026-13-01/W13",
     "‘2026-13-01’ is geen datum; schrijf een datum als JJJJ-MM-DD, bijvoorbeeld 2026-12-01."),
    ("/reports/samenwerkingsverband/W13?against=samenwerkingsverband",
     "Een rapport vergelijkt met minstens een andere laag dan die van de zone zelf."),
    ("/municipalities/11002?population_year=1850",
     "Er zijn geen bevolkingscijfers van 1850; wel van 2018, 2019, 2020 en 2024."),
    ("/beheer/logboek?voor=0", "‘voor’ moet minstens 1 zijn, niet ‘0’."),
    ("/municipalities/" + "9" * 5000, "‘nis_code’ is een te groot getal: ‘" + "9" * 60 + "…’."),
    # an entry id past a 64-bit integer was a 500 (SQLite cannot compare with it)
    ("/beheer/logboek?voor=9223372036854775808",
     "‘voor’ mag hoogstens 9.223.372.036.854.775.807 zijn, niet ‘9223372036854775808’."),
])
def test_a_browser_gets_a_dutch_page_naming_the_parameter(client, path, said):
    response = client.get(path, headers=BROWSER, follow_redirects=False)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert said in _lead(response.text)
    assert "Ongeldige invoer (fout 422)" in response.text and "Input should" not in response.text
    assert 'lang="nl"' in response.text


def test_a_page_route_answers_the_page_whatever_the_client_accepts(client):
    response = client.get("/reports/samenwerkingsverband/W13?format=docx", headers={"accept": "*/*"})
    assert response.status_code == 422 and response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/api/v1/audit?before=9223372036854775808", "/api/v1/audit?before=x",
                                  "/api/v1/overlay?a=gemeente&b=eerstelijnszone&weight=kg"])
def test_the_api_keeps_its_json_error_for_a_browser_too(client, path):
    response = client.get(path, headers=BROWSER)
    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"detail", "code"} and body["code"] == "invalid_input"
    assert path.split("?")[1].split("=")[0] in body["detail"]


def test_other_clients_of_a_page_outside_the_page_routes_get_json(client):
    response = client.get("/beheer/logboek?voor=abc", headers={"accept": "application/json"})
    assert response.status_code == 422 and response.json()["code"] == "invalid_input"


def test_the_schema_documents_the_page_and_the_json(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/reports/{layer}/{code}"]["get"]["responses"]["422"]["content"]) == {"application/json",
                                                                                            "text/html"}
    assert set(paths["/beheer/logboek"]["get"]["responses"]["422"]["content"]) == {"application/json", "text/html"}
    assert set(paths["/api/v1/audit"]["get"]["responses"]["422"]["content"]) == {"application/json"}


@pytest.mark.parametrize("path", ["/vergelijk?base=eerstelijnszone&other=onbekend", "/maps/overlay?a=gemeente&b=onbekend",
                                  "/alternatieven?layer=onbekend"])
def test_a_browser_asking_for_an_unknown_layer_on_any_page_gets_the_dutch_404_naming_it(client, path):
    response = client.get(path, headers=BROWSER, follow_redirects=False)
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    assert "Er is geen laag met de naam ‘onbekend’." in _lead(response.text)
    api = client.get(path, headers={"accept": "application/json"}, follow_redirects=False)
    if not path.startswith("/alternatieven"):  # a page route: the page whatever is asked for
        assert api.status_code == 404 and api.json()["code"] == "unknown_layer"
