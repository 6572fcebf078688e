"""The CLI sees what the API saved: a scenario and an imported layer through every command.

One throwaway SQLite database named by ``REGIOMATCH_DATABASE_URL`` for the whole module; the
scenario (Lendelede moved to Kortrijk's zone) and the imported layer are created with the API.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.cli import main
from tests.conftest import reset_app_caches

SEL_CSV = "gemeente,zone_code,zone_name\nKortrijk,S1,SEL Kortrijk\nMenen,S1,SEL Kortrijk\nPelt,S2,SEL Noord\n"
LENDELEDE, KORTRIJK_ZONE = 34025, "elz18"


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The environment of a database holding one scenario and one imported layer (``sel``)."""
    folder = tmp_path_factory.mktemp("cli-db")
    url = f"sqlite:///{folder / 'cli.sqlite3'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REGIOMATCH_DATABASE_URL", url)
        mp.setenv("REGIOMATCH_STATE_DIR", str(folder / "unused-state"))
        mp.delenv("REGIOMATCH_API_TOKEN", raising=False)
        mp.delenv("DATABASE_URL", raising=False)
        reset_app_caches()
        from api.main import create_app

        with TestClient(create_app()) as client:
            created = client.post("/api/v1/layers", data={"id": "sel", "name": "SEL-regio's"},
                                  files={"file": ("sel.csv", SEL_CSV.encode(), "text/csv")})
            assert created.status_code == 201, created.text
            scenario = client.post("/api/v1/scenarios", json={
                "name": "Lendelede naar Kortrijk", "base_layer": "eerstelijnszone",
                "moves": [{"nis_code": LENDELEDE, "to_zone": KORTRIJK_ZONE}]})
            assert scenario.status_code == 201, scenario.text
        reset_app_caches()  # the CLI opens the workspace from the environment itself
        yield {"url": url, "scenario": scenario.json()["layer_id"], "folder": folder}
    reset_app_caches()


def run(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_layers_lists_the_imported_layer(saved, capsys):
    code, out, _ = run(capsys, "layers", "--format", "json")
    assert code == 0
    assert {"sel", "eerstelijnszone"} <= {layer["id"] for layer in json.loads(out)}


def test_members_of_a_scenario_zone_include_the_moved_municipality(saved, capsys):
    code, out, _ = run(capsys, "members", saved["scenario"], KORTRIJK_ZONE, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert "Lendelede" in {r["municipality"] for r in rows}
    code, out, _ = run(capsys, "members", "sel", "S2", "--format", "csv")
    assert code == 0 and [r["municipality"] for r in csv.DictReader(io.StringIO(out))] == ["Pelt"]


def test_overlay_of_an_imported_layer_on_a_scenario(saved, capsys):
    code, out, _ = run(capsys, "overlay", "sel", saved["scenario"], "--format", "json")
    assert code == 0, out
    body = json.loads(out)
    assert body["a"] == "sel" and body["b"] == saved["scenario"]
    assert {z["code"] for z in body["zones"]} == {"S1", "S2"}


def test_global_options_after_the_subcommand(saved, capsys):
    code, out, _ = run(capsys, "overlay", "samenwerkingsverband", saved["scenario"], "--population-year", "2018")
    assert code == 0
    assert "1 januari 2018" in out
    code, out, _ = run(capsys, "--population-year", "2019", "overlay", "samenwerkingsverband", "eerstelijnszone")
    assert code == 0 and "1 januari 2019" in out


def test_table_numbers_are_dutch(saved, capsys):
    # Golden figures of 1 January 2020 (Statbel's municipal count): pinned, see conftest.GOLDEN_YEAR.
    code, out, _ = run(capsys, "mismatch", "W13", "--population-year", "2020")
    assert code == 0
    assert "321.235 inwoners" in out and "37,1 %" in out
    code, out, _ = run(capsys, "cost-share", "W13", "--amount", "321235")
    assert code == 0 and "EUR 321.235,00" in out


def test_compare_today_with_the_scenario_against_the_imported_layer(saved, capsys):
    code, out, _ = run(capsys, "compare", "eerstelijnszone", saved["scenario"], "--against", "sel", "--format", "json")
    assert code == 0, out
    body = json.loads(out)
    assert [m["nis_code"] for m in body["moved"]] == [LENDELEDE]


def test_report_of_a_scenario_zone_and_of_an_imported_zone(saved, capsys, tmp_path: Path):
    scenario_file, sel_file = tmp_path / "scenario.html", tmp_path / "sel.html"
    code, _, err = run(capsys, "report", saved["scenario"], KORTRIJK_ZONE, "-o", str(scenario_file))
    assert code == 0, err
    assert "Lendelede" in scenario_file.read_text(encoding="utf-8")
    code, _, err = run(capsys, "report", "sel", "S1", "-o", str(sel_file), "--against", "eerstelijnszone")
    assert code == 0, err
    text = sel_file.read_text(encoding="utf-8")
    assert "Menen" in text and "Kortrijk" in text


def test_maps_of_a_scenario_and_an_imported_layer(saved, capsys, tmp_path: Path):
    overlay_file, choropleth_file = tmp_path / "overlay.html", tmp_path / "choropleth.html"
    code, _, err = run(capsys, "map", "overlay", "samenwerkingsverband", saved["scenario"], "-o", str(overlay_file))
    assert code == 0, err
    assert "Lendelede naar Kortrijk" in overlay_file.read_text(encoding="utf-8")  # the scenario's name
    code, _, err = run(capsys, "map", "choropleth", "sel", "-o", str(choropleth_file))
    assert code == 0, err
    assert "SEL Kortrijk" in choropleth_file.read_text(encoding="utf-8")


def test_unknown_layer_names_the_known_ones(saved, capsys):
    code, _, err = run(capsys, "overlay", "nope", "sel")
    assert code == 2 and "'nope'" in err and "sel" in err and "scenario:<id>" in err


def test_python_dash_m_has_every_command_and_sees_the_database(saved):
    env = {**os.environ, "REGIOMATCH_DATABASE_URL": saved["url"]}
    helptext = subprocess.run([sys.executable, "-m", "api.cli", "--help"], capture_output=True, text=True,
                              check=True, env=env).stdout
    for command in ("layers", "members", "overlay", "mismatch", "validate", "compare", "suggest", "cost-share",
                    "map", "report", "serve"):
        assert command in helptext
    result = subprocess.run([sys.executable, "-m", "api.cli", "members", saved["scenario"], KORTRIJK_ZONE,
                             "--format", "json"], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert LENDELEDE in {row["nis_code"] for row in json.loads(result.stdout)}
