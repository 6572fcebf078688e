"""``regiomatch ensemble run | propose`` (issue 28): the CLI front end of geo/ensemble."""

from __future__ import annotations

import csv
import json

from api.cli import main


def test_ensemble_run_json_and_plans_csv(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("REGIOMATCH_DASK_SCHEDULER", raising=False)
    out = tmp_path / "plannen.csv"
    code = main(["ensemble", "run", "eerstelijnszone", "--plans", "40", "--chains", "2", "--seed", "2", "--quiet",
                 "--format", "json", "--plans-csv", str(out)])
    assert code in (0, None)
    body = json.loads(capsys.readouterr().out)
    assert body["result"]["plans"] == 40 and len(body["result"]["chains"]) == 2
    assert body["problem"]["bounds"]["lower"] == 60000.0 and body["problem"]["nest_in"] == "referentieregio"
    w13 = next(m for m in body["summary"]["associations"] if m["association"] == "W13" and m["measure"] == "zones_touched")
    assert w13["base"]["sentence"].startswith("Vandaag valt W13 in 4 eerstelijnszones")
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 40 and "zones_touched_W13" in rows[0]


def test_ensemble_table_and_bad_rule(capsys, monkeypatch):
    monkeypatch.delenv("REGIOMATCH_DASK_SCHEDULER", raising=False)
    main(["ensemble", "run", "--plans", "10", "--chains", "1", "--quiet"])
    text = capsys.readouterr().out
    assert "geldige indelingen in 1 ketens" in text and "Vandaag valt WZK in 4 eerstelijnszones" in text
    code = main(["ensemble", "run", "--plans", "10", "--chains", "1", "--quiet", "--min-population", "900000"])
    assert code not in (0, None)
    assert "Bevolkingsgrenzen" in capsys.readouterr().err
