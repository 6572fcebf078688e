"""The zonings routes through the real app on a throwaway database (``client`` from conftest)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

# Golden figures of 1 January 2020 (Statbel's municipal count): pinned, see conftest.GOLDEN_YEAR.
pytestmark = pytest.mark.usefixtures("population_2020")


@pytest.fixture(scope="module")
def catalog(catalog_2020):
    return catalog_2020


def scenario(client, moves, base="eerstelijnszone"):
    response = client.post("/api/v1/scenarios", json={"name": "test", "base_layer": base, "moves": moves})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_validation_of_a_layer(client):
    body = client.get("/api/v1/layers/eerstelijnszone/validation", params={"nest_in": "referentieregio"}).json()
    assert body["territory"] == {"label": "Vlaams Gewest + Brussels Hoofdstedelijk Gewest", "municipalities": 304}
    assert body["population"]["norm"]["minimum"] == 60_000
    exclave = [p for z in body["contiguity"] for p in z["pieces"] if p["status"] == "exclave"]
    assert [p["municipalities"] for p in exclave] == [["Voeren"]]
    assert body["nesting"][0]["parent"] == "referentieregio" and body["errors"]["not_nested"] > 0
    assert body["population_year"] == 2020


def test_validation_of_a_scenario_uses_its_base(client):
    sid = scenario(client, [{"nis_code": 13025, "to_zone": "elz41"}])  # Mol cuts Baldemore
    body = client.get(f"/api/v1/layers/scenario:{sid}/validation", params={"max_population": 100_000}).json()
    assert body["base_layer"] == "eerstelijnszone"
    statuses = {tuple(p["nis_codes"]): p["status"] for z in body["contiguity"] for p in z["pieces"]}
    assert statuses[(31004, 31042)] == "inherited"
    assert body["errors"]["not_contiguous"] >= 1 and body["valid"] is False
    assert body["population"]["norm"] == {"label": "60.000 tot 100.000 inwoners", "minimum": 60_000,
                                          "maximum": 100_000, "source": "opgegeven door de gebruiker"}


def test_validation_csv(client):
    response = client.get("/api/v1/layers/igs_woonbeleid/validation", params={"format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert sum(r["status"] == "gaps" for r in rows) == 22


def test_compare_json_and_csv(client):
    sid = scenario(client, [{"nis_code": 34025, "to_zone": "elz18"}])
    params = {"base": "eerstelijnszone", "other": f"scenario:{sid}", "against": ["referentieregio", "samenwerkingsverband"]}
    body = client.get("/api/v1/compare", params=params).json()
    assert body["against"] == ["samenwerkingsverband", "referentieregio"]
    assert [m["nis_code"] for m in body["moved"]] == [34025]
    assert body["measures"]["samenwerkingsverband"]["population_outside_dominant"]["change"] == -5787
    text = client.get("/api/v1/compare", params={**params, "format": "csv"}).text
    sections = {r["section"] for r in csv.DictReader(io.StringIO(text))}
    assert sections == {"verplaatst", "maat", "zone van vergeleken laag", "bevolking"}


def test_suggest_respects_keep_together_and_can_be_saved(client):
    body = {"base_layer": "eerstelijnszone", "max_population": 130_000, "keep_together": [[34022, 34025]],
            "max_moves": 3, "seed": 2, "save": True, "name": "Suggestie W13"}
    response = client.post("/api/v1/scenarios/suggest", json=body)
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["constraints"]["population"] == {"label": "60.000 tot 130.000 inwoners", "minimum": 60_000,
                                                "maximum": 130_000}
    assert out["steps"] and all(s["explanation"] for s in out["steps"])
    saved = client.get(f"/api/v1/scenarios/{out['scenario']['id']}").json()
    assert saved["moves"] == out["moves"] and saved["name"] == "Suggestie W13"
    zones = {m["nis_code"]: m["to_zones"] for m in saved["moved"]}
    assert zones[34025] == ["elz18"]  # Lendelede joined Kortrijk's zone
    validation = client.get(f"/api/v1/layers/{out['scenario']['layer_id']}/validation",
                            params={"max_population": 130_000}).json()
    today = client.get("/api/v1/layers/eerstelijnszone/validation", params={"max_population": 130_000}).json()
    assert validation["errors"]["not_contiguous"] == 0
    # Zones that are too large today may stay so; the suggestion adds no new ones.
    new = {v["code"] for v in validation["population"]["violations"]}
    assert new <= {v["code"] for v in today["population"]["violations"]}


def test_suggest_is_not_captured_by_scenario_id_and_needs_token_to_save(client, make_client):
    assert client.post("/api/v1/scenarios/suggest", json={"base_layer": "eerstelijnszone", "max_moves": 1}).status_code == 200
    assert client.get("/api/v1/scenarios/suggest").json()["code"] == "unknown_scenario"
    client = make_client(api_token="secret")  # the same database, now with a token
    denied = client.post("/api/v1/scenarios/suggest", json={"base_layer": "eerstelijnszone", "max_moves": 1, "save": True})
    assert denied.status_code == 401 and denied.json()["code"] == "unauthorized"
    unsaved = client.post("/api/v1/scenarios/suggest", json={"base_layer": "eerstelijnszone", "max_moves": 1})
    assert unsaved.status_code == 200 and unsaved.json()["scenario"] is None
    assert client.get("/api/v1/scenarios").json() == []


def test_cost_share_adds_up_to_the_cent(client):
    params = {"amount": "123456.78", "fixed_per_member": "250", "seat_threshold": [20_000, 50_000]}
    body = client.get("/api/v1/zones/samenwerkingsverband/W13/cost-share", params=params).json()
    total = sum(Decimal(str(m["total"])) for m in body["members"])
    assert total == Decimal("123456.78") and body["total"] == 123456.78
    seats = {m["municipality"]: m["seats"] for m in body["members"]}
    assert seats["Kortrijk"] == 3 and seats["Harelbeke"] == 2 and seats["Spiere-Helkijn"] == 1
    text = client.get("/api/v1/zones/samenwerkingsverband/W13/cost-share",
                      params={"per_inhabitant": "1", "format": "csv"}).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sum(Decimal(r["total"]) for r in rows) == sum(Decimal(r["population"]) for r in rows)


@pytest.mark.parametrize("params, status, code", [
    ({}, 422, "invalid_input"),
    ({"amount": "10", "per_inhabitant": "1"}, 422, "invalid_input"),
    ({"amount": "-5"}, 422, "invalid_input"),
    ({"amount": "10", "weight": "votes"}, 422, "invalid_input"),
])
def test_cost_share_refuses_bad_input(client, params, status, code):
    response = client.get("/api/v1/zones/samenwerkingsverband/W13/cost-share", params=params)
    assert (response.status_code, response.json()["code"]) == (status, code)


def test_cost_share_unknown_zone_and_layer(client):
    assert client.get("/api/v1/zones/samenwerkingsverband/XX/cost-share?amount=1").json()["code"] == "unknown_zone"
    assert client.get("/api/v1/zones/nope/W13/cost-share?amount=1").json()["code"] == "unknown_layer"


def test_associations_as_of(client):
    before = client.get("/api/v1/associations", params={"as_of": "2018-06-30"}).json()
    after = client.get("/api/v1/associations", params={"as_of": "2019-06-30"}).json()
    assert [a["code"] for a in before["associations"]] == ["ISOM", "W13", "WRNL", "WZK"]
    assert [a["code"] for a in after["associations"]] == ["NETELAND", "W13", "WRNL", "WZK"]
    neteland = after["associations"][0]
    assert neteland["member_count"] == 5
    assert {m["municipality"] for m in neteland["members"]}.isdisjoint({"Lille", "Kasterlee"})
    # ISOM on 2018-06-30: its members count until it ended (their start is unknown, the end is known).
    isom = before["associations"][0]
    assert (isom["member_count"], isom["unknown_count"]) == (7, 0) and isom["population"] > 0
    assert {m["status"] for m in isom["members"]} == {"geldig"}
    only = client.get("/api/v1/associations", params={"as_of": "2016-01-01", "code": "W13"}).json()
    assert (only["associations"][0]["member_count"], only["associations"][0]["unknown_count"]) == (0, 13)
    today = client.get("/api/v1/associations", params={"code": "WRNL"}).json()["associations"][0]
    assert (today["member_count"], today["unknown_count"]) == (6, 2)
    assert client.get("/api/v1/associations", params={"as_of": "2019-02-30"}).json()["code"] == "invalid_input"
    assert client.get("/api/v1/associations", params={"code": "NOPE"}).status_code == 404


def test_associations_without_a_date_are_those_of_the_services_date(make_client):
    """No ``as_of``: the date the association layer is served on (the setting), so the list and
    the layer's overlays count the same members; the 2018 date shows ISOM as the layer would."""
    on_2026 = make_client().get("/api/v1/associations").json()
    assert on_2026["as_of"] == "2026-12-01"  # tests pin REGIOMATCH_AS_OF
    in_2018 = make_client(as_of="2018-06-30").get("/api/v1/associations").json()
    assert in_2018["as_of"] == "2018-06-30"
    assert "ISOM" in {a["code"] for a in in_2018["associations"]}
    assert "ISOM" not in {a["code"] for a in on_2026["associations"]}


def test_cli_commands(state_dir, capsys):
    from api.cli import main

    assert main(["validate", "eerstelijnszone", "--format", "json"]) == 0
    assert '"territory"' in capsys.readouterr().out
    assert main(["cost-share", "W13", "--amount", "1000", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert sum(Decimal(r["total"]) for r in rows) == Decimal("1000.00")
    assert main(["suggest", "--max-moves", "2", "--seed", "1"]) == 0
    assert "Suggestie voor Eerstelijnszones" in capsys.readouterr().out
    assert main(["compare", "eerstelijnszone", "eerstelijnszone", "--format", "csv"]) == 0
    assert "section,layer" in capsys.readouterr().out
    assert main(["validate", "nope"]) == 2
