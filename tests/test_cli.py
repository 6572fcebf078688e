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


# -- --as-of: the date the association layer is served on (REGIOMATCH_AS_OF of the API) ------------------
def _zone_codes(out: str) -> set[str]:
    return {row["zone_code"] for row in csv.DictReader(io.StringIO(out))}


@pytest.mark.parametrize("where", ["before", "after"])
def test_as_of_serves_the_association_layer_on_that_date(capsys, where):
    """ISOM (until 2018-12-31) is a zone on 30 June 2018, not on the pinned date (1 December 2026)."""
    command = ["members", "samenwerkingsverband", "--format", "csv"]
    args = ["--as-of", "2018-06-30", *command] if where == "before" else [*command, "--as-of", "2018-06-30"]
    code, out, _ = run(capsys, *args)
    assert code == 0 and "ISOM" in _zone_codes(out) and "NETELAND" not in _zone_codes(out)
    code, out, _ = run(capsys, *command)  # REGIOMATCH_AS_OF, pinned by the tests
    assert code == 0 and "ISOM" not in _zone_codes(out) and "NETELAND" in _zone_codes(out)


def test_as_of_means_the_dated_layer_id(capsys):
    """``--as-of D`` with ``samenwerkingsverband`` gives what the id ``samenwerkingsverband@D`` gives
    (the API's dated layer ids), and dated ids still work next to the option."""
    _, dated, _ = run(capsys, "overlay", "samenwerkingsverband@2018-06-30", "eerstelijnszone", "--format", "json")
    code, served, _ = run(capsys, "--as-of", "2018-06-30", "overlay", "samenwerkingsverband", "eerstelijnszone",
                          "--format", "json")
    assert code == 0
    dated_body, served_body = json.loads(dated), json.loads(served)
    assert served_body["zones"] == dated_body["zones"] and served_body["summary"] == dated_body["summary"]
    code, out, _ = run(capsys, "--as-of", "2018-06-30", "members", "samenwerkingsverband@2026-12-01", "--format", "csv")
    assert code == 0 and "ISOM" not in _zone_codes(out)


@pytest.mark.parametrize("bad", ["2018-13-01", "2018-02-30", "30-06-2018", "gisteren"])
def test_a_bad_as_of_date_is_refused_and_changes_nothing(capsys, monkeypatch, tmp_path, bad):
    from tests.conftest import reset_app_caches

    monkeypatch.setenv("REGIOMATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'as_of.sqlite3'}")
    reset_app_caches()
    try:
        code, out, err = run(capsys, "--as-of", bad, "users", "add", "planner", "--role", "bijdrager",
                             "--no-password")
        assert code == 2 and out == ""
        assert bad in err and "YYYY-MM-DD" in err
        code, out, _ = run(capsys, "users", "list", "--format", "csv")
        assert code == 0 and "planner" not in out
    finally:
        reset_app_caches()


def test_serve_passes_as_of_to_the_server(monkeypatch):
    """``serve --as-of`` serves the association layer on that date (REGIOMATCH_AS_OF of the server)."""
    import uvicorn

    from tests.conftest import reset_app_caches

    started = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: started.update(kwargs))
    monkeypatch.setenv("REGIOMATCH_AS_OF", "2026-12-01")
    reset_app_caches()
    try:
        assert main(["serve", "--as-of", "2018-06-30", "--port", "8101"]) == 0
        from api.settings import get_settings

        assert started["port"] == 8101 and str(get_settings().as_of) == "2018-06-30"
    finally:
        monkeypatch.setenv("REGIOMATCH_AS_OF", "2026-12-01")
        reset_app_caches()
