"""The ensemble and proposal jobs of issue 28: submitted with their rules checked at once, run by
the job runner on the engine (:mod:`geo.ensemble`), stored by their inputs, read back.

A submit prepares the problem first (:func:`geo.ensemble.prepare`), so rules no plan can meet
are refused at once, in Dutch, naming the rule; only then is a job queued. The prepared problem
is kept in memory for the runner, and prepared again from the job's stored rules when a result is
read after a restart. A result holds the engine's plans, chains and per-plan measures (arrays)
and the summary with today's zoning placed in every distribution; scenarios are placed on
request. Framework-free: the API, the pages and the CLI call these.

Examples
--------
>>> spec = spec_of({"base_layer": "eerstelijnszone", "nest_in": None, "plans": 8, "chains": 2})
>>> spec.nest_in, spec.plans
('default', 8)
>>> spec_of({"base_layer": "eerstelijnszone", "nest_in": ""}).nest_in is None
True
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np

from geo.errors import InvalidInput, UnknownScenario
from geo.jobs.codec import pack, unpack
from geo.jobs.records import RERUNNABLE, JobRecord
from geo.storage.workspace import scenario_id

if TYPE_CHECKING:
    import pandas as pd

    from geo.ensemble.problem import Problem
    from geo.ensemble.sampler import EnsembleResult
    from geo.ensemble.spec import EnsembleSpec
    from geo.storage.records import ScenarioRecord
    from geo.storage.workspace import Workspace

ENSEMBLE = "ensemble"
PROPOSAL = "proposal"
OBJECTIVES = {"crossings": "zo weinig mogelijk samenwerkingsverbanden die een grens kruisen",
              "outside": "zo weinig mogelijk inwoners buiten de grootste zone van hun samenwerkingsverband",
              "closest": "zo dicht mogelijk bij de huidige indeling"}
# Bumped when a stored result would no longer be read the same way: older results are recomputed.
RESULT_VERSION = 1
_CACHE_SIZE = 4
CHAINS_SHARE = 0.9  # of a job's progress bar: the chains (the rest is measuring and storing)


# -- rules -----------------------------------------------------------------------------------------
def spec_of(params: dict[str, Any]) -> "EnsembleSpec":
    """The engine's spec from JSON-like rules (API body, stored job params). ``nest_in``: None
    or missing -> the default nesting (reference regions); '' -> no nesting."""
    from geo.ensemble.spec import DEFAULT, EnsembleSpec

    values = dict(params)
    nest = values.get("nest_in", None)
    values["nest_in"] = DEFAULT if nest is None else (nest or None)
    values["fixed"] = tuple(int(n) for n in values.get("fixed") or ())
    values["together"] = tuple(tuple(int(n) for n in group) for group in values.get("together") or ())
    return EnsembleSpec(**{k: v for k, v in values.items() if k in EnsembleSpec.__dataclass_fields__})


def params_of(spec: "EnsembleSpec") -> dict[str, Any]:
    """The spec as JSON (a job's stored rules), the inverse of :func:`spec_of`."""
    values = asdict(spec)
    values["nest_in"] = "" if spec.nest_in is None else spec.nest_in
    values["fixed"] = list(spec.fixed)
    values["together"] = [list(g) for g in spec.together]
    return values


def data_version(ws: "Workspace", spec: "EnsembleSpec") -> str:
    """What the result depends on besides the rules: the population year and the versions of
    the base and nesting layers (a scenario's include its chain of bases). Read without
    preparing anything, so a result already computed is found at once."""
    from geo.ensemble.spec import DEFAULT

    year = spec.population_year or ws.catalog.atoms.population_year
    nest = default_nest_id() if spec.nest_in == DEFAULT else spec.nest_in
    layers = [spec.base_layer] + ([nest] if nest else [])
    return json.dumps([RESULT_VERSION, int(year), [list(map(str, ws.version_key(i))) for i in layers]])


# -- submitting ------------------------------------------------------------------------------------
_problems: "OrderedDict[str, Problem]" = OrderedDict()
_results: "OrderedDict[str, tuple]" = OrderedDict()
_cache_lock = threading.Lock()


def _keep(cache: OrderedDict, key: str, value: Any) -> None:
    with _cache_lock:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)


def _kept(cache: OrderedDict, key: str) -> Any:
    with _cache_lock:
        value = cache.get(key)
        if value is not None:
            cache.move_to_end(key)
        return value


def check(ws: "Workspace", spec: "EnsembleSpec") -> "Problem":
    """The prepared problem, or the engine's Dutch error naming the rule no plan can meet. A
    population year other than the workspace's is read from the same database and data."""
    from geo.ensemble.problem import prepare

    return prepare(workspace_of_year(ws, spec.population_year), spec.check())


def workspace_of_year(ws: "Workspace", year: int | None) -> "Workspace":
    """The workspace on the same data and database with populations of ``year`` (None: ``ws``)."""
    if year is None or int(year) == ws.catalog.atoms.population_year:
        return ws
    from geo.storage.workspace import open_workspace

    return open_workspace(ws.catalog.data_dir, ws.store.url, int(year))


def _submit(ws: "Workspace", kind: str, key: str, spec: "EnsembleSpec", params: dict) -> tuple[JobRecord, bool]:
    """The job of ``key`` when it is done or under way (served at once, nothing prepared), else
    the rules checked (a Dutch 422 at once when no plan can meet them) and the job queued."""
    found = ws.store.jobs.by_key(key)
    if found is not None and found.status not in RERUNNABLE:
        return found, False
    problem = check(ws, spec)
    job, new = ws.store.jobs.submit(kind, key, problem.base_layer_id, params)
    _keep(_problems, job.id, problem)
    return job, new


def submit_ensemble(ws: "Workspace", spec: "EnsembleSpec") -> tuple[JobRecord, bool]:
    """Queue an ensemble run (or find the job of the same inputs)."""
    spec = spec.check()
    return _submit(ws, ENSEMBLE, "ensemble:" + spec.key(data_version(ws, spec)), spec, params_of(spec))


def submit_proposals(ws: "Workspace", spec: "EnsembleSpec", objective: str, n: int) -> tuple[JobRecord, bool]:
    """Queue the search for ``n`` whole zonings for ``objective`` (or find the same search)."""
    if objective not in OBJECTIVES:
        raise InvalidInput(f"Onbekend doel {objective!r}; kies uit {', '.join(OBJECTIVES)}.")
    spec = spec.check()
    key = f"proposal:{objective}:{int(n)}:" + spec.key(data_version(ws, spec))
    return _submit(ws, PROPOSAL, key, spec, {**params_of(spec), "objective": objective, "n": int(n)})


def job_of(ws: "Workspace", job_id: str, kind: str) -> JobRecord:
    """The job, if it is of this kind (an ensemble's id is not a proposal's)."""
    from geo.errors import UnknownJob

    job = ws.store.jobs.get(job_id)
    if job.kind != kind:
        raise UnknownJob(f"unknown {kind} job {job_id!r}")
    return job


def problem_of(ws: "Workspace", job: JobRecord) -> "Problem":
    """The job's prepared problem (kept since the submit, or prepared again from its rules)."""
    problem = _kept(_problems, job.id)
    if problem is None:
        problem = check(ws, spec_of(_rules(job.params)))
        _keep(_problems, job.id, problem)
    return problem


def _rules(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k not in ("objective", "n")}


# -- running (the runner's handlers) -----------------------------------------------------------------
def handlers(ws: "Workspace") -> dict[str, Callable]:
    """The job kinds of this module, for :class:`geo.jobs.runner.JobRunner`."""

    def ensemble(job: JobRecord, progress: Callable[[float], None], cancelled: Callable[[], bool]) -> bytes:
        from geo.ensemble.run import run_ensemble
        from geo.ensemble.summary import summarise

        problem = problem_of(ws, job)
        # The chains are most of the work; measuring, summarising and storing the rest.
        result = run_ensemble(problem, progress=lambda f: progress(CHAINS_SHARE * f), cancelled=cancelled)
        summary = summarise(problem, result).to_dict()
        progress(0.97)
        _keep(_results, job.id, (result, summary))
        return encode_result(result, summary)

    def proposals(job: JobRecord, progress: Callable[[float], None], cancelled: Callable[[], bool]) -> bytes:
        from geo.ensemble.propose import plan_zone_codes, propose

        problem = problem_of(ws, job)
        found = propose(problem, job.params["objective"], int(job.params.get("n", 3)), progress=progress,
                        cancelled=cancelled)
        meta = {"proposals": [p.to_dict() for p in found]}
        for item, p in zip(meta["proposals"], found):
            item["zones"] = _codes_by_nis(problem, plan_zone_codes(problem, p.plan))
        return pack(meta, {f"plan_{i}": p.plan.astype(np.int32) for i, p in enumerate(found)})

    return {ENSEMBLE: ensemble, PROPOSAL: proposals}


def encode_result(result: "EnsembleResult", summary: dict) -> bytes:
    """An ensemble's result as bytes: the plans (int16 when they fit), chains and measures."""
    plans = result.plans
    small = plans.size == 0 or (plans.min() >= np.iinfo(np.int16).min and plans.max() <= np.iinfo(np.int16).max)
    arrays = {"plans": plans.astype(np.int16 if small else np.int32), "chain_of": result.chain_of.astype(np.int16)}
    for name, values in result.measures.items():
        arrays[f"measure:{name}"] = np.asarray(values)
    for c in result.chains:
        arrays[f"accepted:{c.chain}"] = np.asarray(c.accepted, dtype=bool)
    meta = {"summary": summary, "seconds": result.seconds, "executor": result.executor,
            "chains": [{"chain": c.chain, "seconds": c.seconds} for c in result.chains],
            "version": RESULT_VERSION}
    return pack(meta, arrays)


def decode_result(data: bytes) -> tuple["EnsembleResult", dict]:
    """The engine's :class:`EnsembleResult` and the stored summary, from :func:`encode_result`."""
    from geo.ensemble.sampler import ChainResult, EnsembleResult

    meta, arrays = unpack(data)
    plans = arrays["plans"].astype(np.int32)
    chain_of = arrays["chain_of"].astype(np.int64)
    chains = tuple(ChainResult(int(c["chain"]), plans[chain_of == c["chain"]], arrays[f"accepted:{c['chain']}"],
                               float(c["seconds"])) for c in meta["chains"])
    measures = {name.removeprefix("measure:"): values for name, values in arrays.items()
                if name.startswith("measure:")}
    return EnsembleResult(chains, plans, chain_of, measures, float(meta["seconds"]), meta["executor"]), meta["summary"]


# -- reading ---------------------------------------------------------------------------------------
def result_of(ws: "Workspace", job: JobRecord) -> tuple["EnsembleResult", dict]:
    """The finished ensemble's result and stored summary (decoded once, then kept a while)."""
    if job.status != "done":
        raise InvalidInput(f"job {job.id!r} has no result yet (status {job.status})")
    found = _kept(_results, job.id)
    if found is None:
        found = decode_result(ws.store.jobs.result(job.id))
        _keep(_results, job.id, found)
    return found


def scenario_layers(ws: "Workspace", ids: Sequence[str]) -> dict[str, tuple[str, Any]]:
    """Layer id -> (label a user reads, layer) for the zonings to place among the plans."""
    out: dict[str, tuple[str, Any]] = {}
    for layer_id in dict.fromkeys(ids):
        sid = scenario_id(layer_id)
        layer = ws.layer(layer_id)
        label = ws.store.get_scenario(sid).name if sid else layer.name
        out[layer_id] = (label, layer)
    return out


def summary_of(ws: "Workspace", job: JobRecord, scenarios: Sequence[str] = ()) -> dict:
    """The summary as JSON; with ``scenarios`` (layer ids or ``scenario:<id>``) each placed in
    every distribution, keyed by its id, its name in ``label``."""
    result, stored = result_of(ws, job)
    if not scenarios:
        return stored
    from geo.ensemble.summary import summarise

    chosen = scenario_layers(workspace_of_year(ws, job.params.get("population_year")), scenarios)
    labels = {label: layer_id for layer_id, (label, _) in chosen.items()}
    if len(labels) < len(chosen):  # two scenarios with one name: tell them apart by id
        labels = {layer_id: layer_id for layer_id in chosen}
        chosen = {layer_id: (layer_id, layer) for layer_id, (_, layer) in chosen.items()}
    summary = summarise(problem_of(ws, job), result, {label: layer for label, layer in chosen.values()}).to_dict()
    for measure in (*summary["layer"], *summary["associations"]):
        measure["scenarios"] = {labels.get(label, label): placement
                                for label, placement in measure["scenarios"].items()}
    return summary


def _codes_by_nis(problem: "Problem", codes: Sequence[str | None]) -> dict[str, str | None]:
    return {str(int(nis)): code for nis, code in zip(problem.nis, codes)}


def plans_page(ws: "Workspace", job: JobRecord, offset: int, limit: int) -> dict:
    """Plans ``offset`` .. ``offset + limit`` as NIS code -> zone code (zones named after the
    zone of today they continue; None: in no zone)."""
    from geo.ensemble.propose import plan_zone_codes

    result, _ = result_of(ws, job)
    problem = problem_of(ws, job)
    total = len(result.plans)
    rows = range(offset, min(offset + limit, total))
    return {"id": job.id, "total": total, "offset": offset, "limit": limit,
            "plans": [{"index": i, "chain": int(result.chain_of[i]),
                       "zones": _codes_by_nis(problem, plan_zone_codes(problem, result.plans[i]))} for i in rows]}


def plan_table(ws: "Workspace", job: JobRecord) -> tuple["pd.DataFrame", list[str]]:
    """Every plan's measures with Dutch headers (one row per plan), and the notes of a workbook."""
    import pandas as pd

    from geo.ensemble.measures import MEASURES

    result, summary = result_of(ws, job)
    problem = problem_of(ws, job)
    frame = pd.DataFrame({"indeling": np.arange(len(result.plans)) + 1, "keten": result.chain_of + 1})
    ordered = [n for n in MEASURES if n in result.measures] + [n for n in result.measures if n not in MEASURES]
    for name in ordered:
        values = result.measures[name]
        scope, label, _, integer = MEASURES.get(name, ("layer", name, "", False))
        if np.ndim(values) == 1:
            frame[label] = values.astype(int) if integer else np.round(values.astype(float), 6)
    associations = problem.measures.codes
    touched = result.measures.get("zones_touched")
    if touched is not None and np.ndim(touched) == 2:
        for j, code in enumerate(associations):
            frame[f"geraakte zones {code}"] = touched[:, j].astype(int)
    rules = rules_text(problem)
    notes = [f"Alternatieve indelingen van {problem.base_layer_name} ({summary['plans']} indelingen, "
             f"{summary['chains']} ketens, startwaarde {problem.spec.seed})", *rules,
             f"Bevolking: Statbel, 1 januari {problem.population_year}"]
    return frame, notes


def rules_text(problem: "Problem") -> list[str]:
    """The rules of a run in Dutch, one sentence each (pages, exports, reports)."""
    from geo import dutch

    spec = problem.spec
    lines = ["Elke zone is één aaneengesloten geheel van gemeenten."]
    if problem.nest_id:
        lines.append(f"Elke zone ligt binnen één zone van {problem.nest_name}.")
    if spec.zones == "today":
        lines.append("Per zone van de nesting evenveel zones als vandaag." if problem.nest_id else
                     "Evenveel zones als vandaag.")
    else:
        lines.append(f"In totaal {dutch.number(int(spec.zones))} zones.")
    bounds = f"tussen {dutch.number(problem.lower)} en {dutch.number(problem.upper)}" if problem.upper is not None \
        else f"minstens {dutch.number(problem.lower)}"
    lines.append(f"Inwoners per zone: {bounds}" + (f" ({problem.norm_label})." if problem.norm_label else "."))
    if spec.fixed:
        lines.append(f"Vaste gemeenten (NIS): {dutch.join([str(n) for n in spec.fixed])}.")
    for group in spec.together:
        lines.append(f"Blijven samen (NIS): {dutch.join([str(n) for n in group])}.")
    return lines


def proposals_of(ws: "Workspace", job: JobRecord) -> list[dict]:
    """The proposals of a finished search, as JSON (with their zones by NIS code)."""
    if job.status != "done":
        return []
    meta, _ = unpack(ws.store.jobs.result(job.id))
    return meta["proposals"]


# -- saving a plan as a scenario ---------------------------------------------------------------------
def save_plan(ws: "Workspace", job: JobRecord, n: int, name: str | None,
              description: str = "") -> tuple["ScenarioRecord", bool]:
    """Save plan ``n`` of an ensemble as a scenario of its base layer (or find the one saved before)."""
    result, _ = result_of(ws, job)
    if not 0 <= n < len(result.plans):
        raise InvalidInput(f"plan {n} does not exist: this ensemble has plans 0 to {len(result.plans) - 1}")
    problem = problem_of(ws, job)
    default = f"Alternatief {n + 1} voor {problem.base_layer_name}"
    return _save(ws, job, n, problem, result.plans[n], name or default, description)


def save_proposal(ws: "Workspace", job: JobRecord, n: int, name: str | None,
                  description: str = "") -> tuple["ScenarioRecord", bool]:
    """Save proposal ``n`` of a search as a scenario (or find the one saved before)."""
    if job.status != "done":
        raise InvalidInput(f"job {job.id!r} has no proposals yet (status {job.status})")
    meta, arrays = unpack(ws.store.jobs.result(job.id))
    if not 0 <= n < len(meta["proposals"]):
        raise InvalidInput(f"proposal {n} does not exist: this search has {len(meta['proposals'])} proposals")
    problem = problem_of(ws, job)
    objective = OBJECTIVES.get(job.params.get("objective", ""), "")
    default = f"Voorstel {n + 1} voor {problem.base_layer_name}"
    text = description or f"Voorgesteld door regiomatch: {objective}. {meta['proposals'][n].get('explanation', '')}"
    return _save(ws, job, n, problem, arrays[f"plan_{n}"], name or default, text[:5000])


def _save(ws: "Workspace", job: JobRecord, n: int, problem: "Problem", plan: np.ndarray, name: str,
          description: str) -> tuple["ScenarioRecord", bool]:
    from geo.engine.scenario import check_moves
    from geo.ensemble.propose import plan_moves

    earlier = job.saved.get(str(n))
    if earlier:
        try:
            return ws.store.get_scenario(earlier), False
        except UnknownScenario:
            pass  # deleted since: save it again
    base = ws.layer(job.params["base_layer"])
    moves = check_moves(base, plan_moves(problem, plan))
    record = ws.store.create_scenario(name[:200], job.params["base_layer"],
                                      [{"nis_code": m.nis_code, "to_zone": m.to_zone} for m in moves], description)
    ws.store.jobs.remember_saved(job.id, n, record.id)
    return record, True


def best_plans(ws: "Workspace", job: JobRecord, k: int = 5) -> list[dict]:
    """The ``k`` plans with the fewest associations crossing a line (then the fewest inhabitants
    outside their dominant zone), distinct, the best of each chain first, each with those two
    figures: plans worth opening."""
    result, _ = result_of(ws, job)
    crossing = np.asarray(result.measures.get("crossing", np.zeros(len(result.plans))), dtype=float)
    outside = np.asarray(result.measures.get("outside", np.zeros((len(result.plans), 1))), dtype=float)
    outside_total = outside.sum(axis=1) if outside.ndim == 2 else outside
    order = np.lexsort((np.arange(len(crossing)), outside_total, crossing))
    chosen: list[dict] = []
    seen: set[bytes] = set()
    chains_used: set[int] = set()
    # First the best of each chain (neighbouring plans of one chain differ little), then the rest.
    firsts = []
    for i in order.tolist():
        chain = int(result.chain_of[i])
        if chain not in chains_used:
            chains_used.add(chain)
            firsts.append(i)
    for i in firsts + order.tolist():
        fingerprint = result.plans[i].tobytes()
        if fingerprint in seen:
            continue
        seen.add(fingerprint)
        chosen.append({"index": i, "crossing": int(crossing[i]), "outside": float(outside_total[i]),
                       "saved": job.saved.get(str(i))})
        if len(chosen) == k:
            break
    return sorted(chosen, key=lambda p: (p["crossing"], p["outside"], p["index"]))


def default_nest_id() -> str | None:
    """The layer zones nest in by default (role ``reference_regions`` in data/layers.json)."""
    from geo.ensemble.spec import NEST_ROLE
    from geo.reference.roles import with_role

    found = with_role(NEST_ROLE)
    return found[0] if found else None


def latest_summary(ws: "Workspace", layer_id: str) -> tuple[JobRecord, dict] | None:
    """The most recent finished ensemble of ``layer_id`` and its summary, or None (for reports)."""
    job = ws.store.jobs.latest(ENSEMBLE, layer_id)
    if job is None:
        return None
    return job, result_of(ws, job)[1]


def ensembles_about(ws: "Workspace", layer_id: str, others: list) -> list[tuple]:
    """For a report on an association: the latest finished ensemble of each comparison layer
    (they measure every association), as ``(job, layer name, summary)``."""
    from geo.reference.roles import association_layer

    if layer_id != association_layer():
        return []
    found = []
    for other in others:
        latest = latest_summary(ws, other.id)
        if latest is not None:
            found.append((latest[0], other.name, latest[1]))
    return found


def ensembles_stamp(ws: "Workspace") -> tuple:
    """Which ensembles a report may show: the id of the latest finished one (a new one changes
    the report, so the render cache keys on it)."""
    latest = ws.store.jobs.latest(ENSEMBLE)
    return () if latest is None else (latest.id, latest.finished_at.isoformat() if latest.finished_at else "")


__all__ = ["ENSEMBLE", "PROPOSAL", "OBJECTIVES", "spec_of", "params_of", "submit_ensemble", "submit_proposals",
           "job_of", "problem_of", "handlers", "summary_of", "plans_page", "plan_table", "proposals_of",
           "save_plan", "save_proposal", "latest_summary", "rules_text", "best_plans", "default_nest_id",
           "ensembles_about", "ensembles_stamp"]
