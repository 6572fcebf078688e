"""The regiomatch command line on the shipped data."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from api.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    # Golden figures of 1 January 2020 (Statbel's municipal count): pinned, see conftest.GOLDEN_YEAR.
    code = main(["--population-year", "2020", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_layers(capsys):
    code, out, _ = run(capsys, "layers")
    assert code == 0
    assert "eerstelijnszone" in out and "Eerstelijnszones" in out and "57" in out


def test_members_of_one_zone(capsys):
    code, out, _ = run(capsys, "members", "samenwerkingsverband", "WRNL", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 6  # Oudsbergen and Pelt: start unknown, not counted
    assert {"Bree", "Lommel"} <= {r["municipality"] for r in rows}


def test_overlay_table_states_the_population_year(capsys):
    code, out, _ = run(capsys, "overlay", "samenwerkingsverband", "eerstelijnszone")
    assert code == 0
    assert "1 januari 2020" in out
    assert "Middenkempen" in out and "adjusted_rand_index" in out
    assert "Statbel" in out


def test_overlay_json(capsys):
    code, out, _ = run(capsys, "overlay", "samenwerkingsverband", "referentieregio", "--format", "json")
    body = json.loads(out)
    assert code == 0 and body["b"] == "referentieregio"
    assert {z["code"]: z["nested"] for z in body["zones"]} == {"NETELAND": True, "W13": False, "WRNL": True,
                                                                    "WZK": True}


def test_mismatch_names_the_members_on_the_wrong_side(capsys):
    code, out, _ = run(capsys, "mismatch", "W13", "--layer", "samenwerkingsverband", "--against", "eerstelijnszone")
    assert code == 0
    assert "Kortrijk-Kuurne-Harelbeke" in out
    lendelede = next(line for line in out.splitlines() if "Lendelede" in line)
    assert "RITS" in lendelede and "5.787" in lendelede and "False" in lendelede


def test_mismatch_of_a_nested_zone(capsys):
    code, out, _ = run(capsys, "mismatch", "NETELAND")
    assert code == 0 and "volledig in Middenkempen" in out
    # ISOM ended in 2018: asked on a date when it existed.
    code, out, _ = run(capsys, "mismatch", "ISOM", "--layer", "samenwerkingsverband@2018-06-30")
    assert code == 0 and "volledig in Middenkempen" in out


@pytest.mark.parametrize("args, named", [
    (("members", "nope"), "nope"),
    (("mismatch", "W99"), "W99"),
    (("overlay", "samenwerkingsverband", "x"), "'x'"),
])
def test_errors_name_the_problem(capsys, args, named):
    code, _, err = run(capsys, *args)
    assert code == 2 and named in err


def test_console_script_is_installed():
    result = subprocess.run([sys.executable, "-m", "api.cli", "layers", "--format", "json"], capture_output=True,
                            text=True, check=True)
    assert len(json.loads(result.stdout)) >= 14


def test_serve_refuses_an_open_network_address_without_a_token(monkeypatch):
    from tests.conftest import reset_app_caches

    monkeypatch.delenv("REGIOMATCH_API_TOKEN", raising=False)
    reset_app_caches()
    with pytest.raises(SystemExit, match="REGIOMATCH_API_TOKEN"):
        main(["serve", "--host", "0.0.0.0"])
    reset_app_caches()
