"""Start-up with Alembic: ``import geo.storage.store`` and the first ``Store(url)`` in a fresh
interpreter, this checkout beside another (``--baseline``, the code before Alembic) in one run.

    .venv/bin/python -m benchmarks.bench_schema --baseline /work/main --runs 9

Cases (each a new interpreter, the two checkouts alternating):
- ``head``: a SQLite database that checkout made before (this checkout: at Alembic's head; the
  baseline: at its schema version 4) -- every start but the first;
- ``new``: a new SQLite file -- the first start of an installation;
- ``legacy``: this checkout on a database the baseline made (brought to the baseline, stamped) --
  once, on the first start after the upgrade.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.common import machine

REPO = Path(__file__).resolve().parent.parent
_START = """
import sys, time
t0 = time.perf_counter()
from geo.storage.store import Store
t1 = time.perf_counter()
store = Store(sys.argv[1])
t2 = time.perf_counter()
print((t1 - t0) * 1e3, (t2 - t1) * 1e3, 'alembic' in sys.modules)
"""


def _start(checkout: Path, url: str) -> tuple[float, float, bool]:
    out = subprocess.run([sys.executable, "-c", _START, url], cwd=checkout, capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": str(checkout)}).stdout.split()
    return float(out[0]), float(out[1]), out[2] == "True"


def measure(baseline: Path | None, runs: int) -> dict:
    """Median import and open milliseconds per case and checkout, and their ratios."""
    checkouts = {"this": REPO} | ({"baseline": baseline} if baseline else {})
    samples: dict[str, dict[str, list]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, checkout in checkouts.items():  # a database each checkout made, for the "head" case
            _start(checkout, f"sqlite:///{folder}/{name}.sqlite3")
        for run in range(runs):
            for name, checkout in checkouts.items():
                cases = {"head": f"sqlite:///{folder}/{name}.sqlite3",
                         "new": f"sqlite:///{folder}/{name}-new-{run}.sqlite3"}
                if name == "this" and baseline:
                    legacy = f"{folder}/legacy-{run}.sqlite3"
                    _start(baseline, f"sqlite:///{legacy}")
                    cases["legacy"] = f"sqlite:///{legacy}"
                for case, url in cases.items():
                    imported, opened, alembic = _start(checkout, url)
                    row = samples.setdefault(f"{case}/{name}", {"import_ms": [], "open_ms": [], "alembic": []})
                    row["import_ms"].append(imported)
                    row["open_ms"].append(opened)
                    row["alembic"].append(alembic)
    result = {key: {"import_ms": float(np.median(v["import_ms"])), "open_ms": float(np.median(v["open_ms"])),
                    "total_ms": float(np.median(np.add(v["import_ms"], v["open_ms"]))),
                    "alembic_loaded": any(v["alembic"]), "runs": len(v["open_ms"])}
              for key, v in samples.items()}
    if baseline:
        for case in ("head", "new"):
            result[f"{case}/ratio_total"] = result[f"{case}/this"]["total_ms"] / result[f"{case}/baseline"]["total_ms"]
    return result


def main() -> None:
    """Print the measure as JSON (with the machine and its load average)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", type=Path, help="a checkout of the code before Alembic")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    start = machine()
    found = measure(args.baseline, args.runs)
    print(json.dumps({"machine": start, "load_average_at_end": os.getloadavg(), "schema_start": found}, indent=1))


if __name__ == "__main__":
    main()
