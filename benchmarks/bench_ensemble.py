"""Measure 10 (issue 28): an ensemble of 10,000 plans of the primary care zones inside the
reference regions, with every measure, on the local process pool.

Timed:

* ``prepare``: rules checked, the start repaired, the chain graph built;
* ``run_ensemble``: 4 GerryChain ReCom chains (2,500 plans each) in a process pool of up to 2
  processes, then every measure of every plan (vectorised on the contingency tables);
* the measures alone (``plan_measures`` on the 10,000 plans);
* the obvious alternative for the measures: a full ``overlay(associations, plan)`` per plan
  (a layer built from the plan, then the overlay and its per-zone details), timed on a sample of
  plans and scaled to 10,000; reported as a ratio to the vectorised measures;
* the validator on a sample of plans (every plan must pass: the count of failures is reported).

Target: the whole ``run_ensemble`` in at most 60 s on 2 cores.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd

from benchmarks.common import peak_rss_mib
from geo.engine.layer import Layer
from geo.engine.overlay import overlay
from geo.ensemble.measures import plan_measures
from geo.ensemble.problem import prepare
from geo.ensemble.run import run_ensemble
from geo.ensemble.spec import EnsembleSpec
from geo.ensemble.summary import summarise
from geo.ensemble.validate import validate_plan
from geo.reference.roles import association_layer
from geo.storage.workspace import open_workspace

BASE = "eerstelijnszone"
SAMPLE = 200


def _overlay_measures(problem, plan, associations, atoms) -> float:
    """The alternative: every measure of one plan from a full overlay."""
    rows = np.nonzero(plan >= 0)[0]
    frame = pd.DataFrame({"zone_code": [problem.zone_codes[z] for z in plan[rows]], "nis_code": problem.nis[rows]})
    layer = Layer.from_members("plan", frame, atoms)
    result = overlay(associations, layer)
    touched = [len(d.zones_touched) for d in result.details()]
    population = layer.zone_weight()
    return result.summary.nested_share + sum(touched) + float(population.max() - population.min())


def measure(quick: bool = False) -> dict:
    plans = 2_000 if quick else 10_000
    os.environ.pop("REGIOMATCH_DASK_SCHEDULER", None)
    ws = open_workspace(None, "sqlite://")
    t0 = time.perf_counter()
    problem = prepare(ws, EnsembleSpec(BASE, plans=plans, chains=4, seed=1))
    prepare_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = run_ensemble(problem)
    run_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    plan_measures(problem.measures, result.plans, problem.n_zones)
    measures_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    summary = summarise(problem, result)
    summary_s = time.perf_counter() - t0
    associations = ws.layer(association_layer())
    rng = np.random.default_rng(1)
    sample = rng.choice(len(result.plans), size=min(SAMPLE, len(result.plans)), replace=False)
    t0 = time.perf_counter()
    for k in sample:
        _overlay_measures(problem, result.plans[k], associations, ws.catalog.atoms)
    overlay_per_plan_s = (time.perf_counter() - t0) / len(sample)
    t0 = time.perf_counter()
    invalid = sum(bool(validate_plan(problem, result.plans[k])) for k in sample)
    validate_per_plan_s = (time.perf_counter() - t0) / len(sample)
    overlay_all_s = overlay_per_plan_s * plans
    return {
        "plans": plans, "chains": 4, "workers": min(4, os.cpu_count() or 1), "zones": problem.n_zones,
        "prepare_s": prepare_s, "run_ensemble_s": run_s, "target_s": 60.0,
        "chain_s": [c.seconds for c in result.chains],
        "acceptance_rates": [c.acceptance_rate for c in result.chains],
        "measures_vectorised_s": measures_s, "summary_s": summary_s,
        "overlay_per_plan_ms": overlay_per_plan_s * 1e3, "overlay_all_plans_s_estimated": overlay_all_s,
        "ratio_overlay_to_vectorised_measures": overlay_all_s / measures_s if measures_s else None,
        "ratio_chains_plus_overlay_to_run": (run_s - measures_s + overlay_all_s) / run_s,
        "validated_sample": len(sample), "invalid_in_sample": invalid,
        "validate_per_plan_ms": validate_per_plan_s * 1e3,
        "rhat": summary.convergence.rhat, "convergence": summary.convergence.statement,
        "peak_rss_mib": peak_rss_mib(),
    }


if __name__ == "__main__":  # pragma: no cover
    import json
    import sys

    print(json.dumps(measure("--quick" in sys.argv), indent=2, default=str))
