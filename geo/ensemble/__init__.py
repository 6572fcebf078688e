"""Ensembles of valid zonings: thousands of plans drawn under the same rules, and whole zonings proposed.

A zoning of a layer (default the primary care zones) is *valid* when every zone is one connected
piece on the municipal adjacency graph, has a population within the bounds, lies inside one zone
of the nesting layer (default the reference regions) and keeps the fixed municipalities and
groups in place. GerryChain's ReCom chain draws such plans inside each nest zone; every plan is
measured against the associations like the workbench does; the summary places today's zoning and
any scenario among them as a percentile, in Dutch. See ``README.md`` ("Ensembles") for the rules
decided here (large municipalities, exclaves, how the start is made valid).

Public parts (imported on first use, so importing one module never loads its siblings):
- ``spec``: EnsembleSpec
- ``problem``: Problem, Repair, prepare
- ``sampler``: ChainResult, EnsembleResult, run_chain (one chain)
- ``run``: run_ensemble (every chain on an executor, then every measure)
- ``summary``: EnsembleSummary, MeasureSummary, Placement, Convergence, summarise
- ``validate``: validate_plan
- ``propose``: Proposal, propose, plan_moves, plan_zone_codes
- ``measures``: MEASURES, plan_measures, layer_measures, per_plan_table
- ``executors``: local_executor, dask_executor, default_executor
"""

from geo.lazy import lazy_exports

_EXPORTS = {
    "EnsembleSpec": "geo.ensemble.spec",
    "Problem": "geo.ensemble.problem",
    "Repair": "geo.ensemble.problem",
    "prepare": "geo.ensemble.problem",
    "ChainResult": "geo.ensemble.sampler",
    "EnsembleResult": "geo.ensemble.sampler",
    "run_chain": "geo.ensemble.sampler",
    "run_ensemble": "geo.ensemble.run",
    "EnsembleSummary": "geo.ensemble.summary",
    "MeasureSummary": "geo.ensemble.summary",
    "Placement": "geo.ensemble.summary",
    "Convergence": "geo.ensemble.summary",
    "summarise": "geo.ensemble.summary",
    "validate_plan": "geo.ensemble.validate",
    "Proposal": "geo.ensemble.propose",
    "propose": "geo.ensemble.propose",
    "plan_moves": "geo.ensemble.propose",
    "plan_zone_codes": "geo.ensemble.propose",
    "MEASURES": "geo.ensemble.measures",
    "plan_measures": "geo.ensemble.measures",
    "layer_measures": "geo.ensemble.measures",
    "per_plan_table": "geo.ensemble.measures",
    "local_executor": "geo.ensemble.executors",
    "dask_executor": "geo.ensemble.executors",
    "default_executor": "geo.ensemble.executors",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
