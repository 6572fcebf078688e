"""Whole zonings proposed: the best plans under the same rules for an objective, explained.

``propose(problem, objective)`` searches with GerryChain's short bursts
(:meth:`gerrychain.optimization.SingleMetricOptimizer.short_bursts`): runs of a few ReCom steps
(the same proposal and constraints as the ensemble), each burst starting from the best plan so
far. Objectives (lower is better):

* ``"crossings"``: associations crossing a zone line (ties broken by inhabitants outside);
* ``"outside"``: inhabitants outside their association's dominant zone, summed;
* ``"closest"``: inhabitants in another zone than today (after matching zones to today's), with
  the associations crossing a line as a small tie-break so the result is not just the start.

Each proposal is explained against today's zoning: the associations it heals (fewer zones
touched) and harms (more), and which municipalities move (:func:`plan_moves`: the plan as moves of
the base layer, ready to save as a scenario).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from geo import dutch
from geo.engine.scenario import Move
from geo.errors import Cancelled, InvalidInput

if TYPE_CHECKING:
    from geo.ensemble.problem import Problem

OBJECTIVES = {"crossings": "zo weinig mogelijk samenwerkingsverbanden die een grens kruisen",
              "outside": "zo weinig mogelijk inwoners buiten de grootste zone van hun samenwerkingsverband",
              "closest": "zo dicht mogelijk bij de huidige indeling"}
MAX_PROPOSALS = 10
BURST_LENGTH = 8
BURSTS = 60


@dataclass(frozen=True, eq=False)
class Proposal:
    """One proposed zoning and what it does compared with today."""

    objective: str
    score: float
    plan: np.ndarray
    measures: dict
    moves: tuple[tuple[int, str | None, str], ...]
    healed: tuple[str, ...]
    harmed: tuple[str, ...]
    explanation: str

    def to_dict(self) -> dict:
        """The proposal as a JSON-ready dict."""
        return {"objective": self.objective, "score": self.score, "measures": self.measures,
                "moves": [{"nis_code": n, "from_zone": f, "to_zone": t} for n, f, t in self.moves],
                "healed": list(self.healed), "harmed": list(self.harmed), "explanation": self.explanation}


def match_zones(problem: Problem, plan: np.ndarray) -> np.ndarray:
    """For each zone index of ``plan``, the start zone it continues (most shared inhabitants,
    one to one: the Hungarian method), so zone codes can be given to a plan's zones."""
    from scipy.optimize import linear_sum_assignment

    Z = problem.n_zones
    rows = np.nonzero((plan >= 0) & (problem.start >= 0))[0]
    overlap = np.zeros((Z, Z))
    np.add.at(overlap, (plan[rows], problem.start[rows]), problem.population[rows] + 1e-3)
    r, c = linear_sum_assignment(-overlap)
    out = np.arange(Z)
    out[r] = c
    return out


def plan_zone_codes(problem: Problem, plan: np.ndarray) -> list[str | None]:
    """The zone code of each municipality in ``plan`` (order ``problem.nis``; None: in no zone),
    zones named after the start zone they continue (:func:`match_zones`).

    Examples
    --------
    >>> from geo.storage.workspace import open_workspace
    >>> from geo.ensemble.spec import EnsembleSpec
    >>> from geo.ensemble.problem import prepare
    >>> problem = prepare(open_workspace(None, "sqlite://"), EnsembleSpec("eerstelijnszone", plans=4, chains=1))
    >>> plan_zone_codes(problem, problem.start)[problem.position(44021)]
    'elz13'
    """
    plan = np.asarray(plan)
    matched = match_zones(problem, plan)
    return [problem.zone_codes[matched[z]] if z >= 0 else None for z in plan.tolist()]


def plan_moves(problem: Problem, plan: np.ndarray) -> list[Move]:
    """``plan`` as moves of the base layer (:class:`geo.engine.scenario.Move`), to save as a
    scenario: every municipality whose (matched) zone differs from its zone in the base layer.

    Raises :class:`~geo.errors.InvalidInput` when the plan has a zone the base layer does not have
    (a new zone of the repair, or a chosen number of zones): moves cannot express it.

    Examples
    --------
    >>> from geo.storage.workspace import open_workspace
    >>> from geo.ensemble.spec import EnsembleSpec
    >>> from geo.ensemble.problem import prepare
    >>> problem = prepare(open_workspace(None, "sqlite://"), EnsembleSpec("eerstelijnszone", plans=4, chains=1))
    >>> len(plan_moves(problem, problem.start)) == len(problem.repairs)
    True
    """
    codes = plan_zone_codes(problem, plan)
    known = set(problem.base_zone_codes)
    out = []
    for row in np.nonzero(problem.movable)[0].tolist():
        code = codes[row]
        before = problem.base_zone_codes[problem.base_labels[row]] if problem.base_labels[row] >= 0 else None
        if code == before or code is None:
            continue
        if code not in known:
            raise InvalidInput(f"Deze indeling heeft een zone ({code}) die {problem.base_layer_name} niet heeft; "
                               "ze kan niet als verschuivingen van gemeenten bewaard worden.")
        out.append(Move(int(problem.nis[row]), code))
    return out


def _plan_of(problem: Problem, partition, node_unit: np.ndarray) -> np.ndarray:
    plan = problem.start.astype(np.int64).copy()
    labels = np.zeros(len(node_unit), dtype=np.int64)
    for node, label in partition.assignment.mapping.items():
        labels[node_unit[node]] = label
    rows = np.nonzero(problem.in_chain)[0]
    plan[rows] = labels[problem.units[rows]]
    return plan


def _score(problem: Problem, objective: str, plan: np.ndarray) -> float:
    from geo.ensemble.measures import plan_measures

    m = plan_measures(problem.measures, plan[None, :], problem.n_zones)
    total = float(problem.measures.totals.sum()) or 1.0
    outside = float(m["outside"][0].sum())
    if objective == "crossings":
        return float(m["crossing"][0]) + outside / total
    if objective == "outside":
        return outside
    matched = match_zones(problem, plan)
    today = problem.base_labels
    codes_now = np.array([problem.zone_codes[matched[z]] if z >= 0 else "" for z in plan.tolist()])
    codes_base = np.array([problem.base_zone_codes[z] if z >= 0 else "" for z in today.tolist()])
    moved = float(problem.population[problem.movable & (codes_now != codes_base)].sum())
    return moved + float(m["crossing"][0]) * 1e-3


def propose(problem: Problem, objective: str, n: int = 3, progress: Callable[[float], None] | None = None,
            cancelled: Callable[[], bool] | None = None) -> list[Proposal]:
    """Up to ``n`` distinct whole zonings that do best on ``objective`` (see the module docstring),
    best first, each explained. Deterministic for ``problem.spec.seed``.

    Examples
    --------
    >>> from geo.storage.workspace import open_workspace
    >>> from geo.ensemble.problem import prepare
    >>> from geo.ensemble.spec import EnsembleSpec
    >>> problem = prepare(open_workspace(None, "sqlite://"), EnsembleSpec("eerstelijnszone", plans=4, chains=1))
    >>> [best] = propose(problem, "outside", n=1)
    >>> best.explanation[:60]
    'Voorstel met zo weinig mogelijk inwoners buiten de grootste '
    """
    from gerrychain.constraints import Bounds, contiguous
    from gerrychain.optimization import SingleMetricOptimizer

    from geo.ensemble.measures import layer_measures, plan_measures
    from geo.ensemble.sampler import (
        _fixed_ok,
        _node_units,
        _proposal,
        _Step,
        chain_partition,
    )
    from geo.ensemble.summary import _base_layer

    if objective not in OBJECTIVES:
        raise InvalidInput(f"Onbekend doel {objective!r}; kies uit {', '.join(OBJECTIVES)}.")
    if not 1 <= int(n) <= MAX_PROPOSALS:
        raise InvalidInput(f"Aantal voorstellen: tussen 1 en {MAX_PROPOSALS}, niet {n}.")
    upper = problem.upper if problem.upper is not None else float(problem.population.sum())
    found: list[tuple[float, np.ndarray]] = []
    for i in range(int(n)):
        partition = chain_partition(problem)
        node_unit = _node_units(partition)
        unit_node = np.empty(len(node_unit), dtype=np.int64)
        unit_node[node_unit] = np.arange(len(node_unit))
        fixed_label = {int(unit_node[u]): int(partition.assignment[int(unit_node[u])])
                       for u in np.nonzero(problem.unit_fixed)[0].tolist()}
        constraints: list[Callable[[Any], bool]] = [contiguous, Bounds(lambda p: p["population"].values(),
                                                                       (problem.lower, upper))]
        if fixed_label:
            constraints.append(partial(_fixed_ok, fixed_label=fixed_label))
        scorer = partial(_partition_score, problem=problem, objective=objective, node_unit=node_unit)
        optimizer = SingleMetricOptimizer(partial(_proposal, step=_Step(problem.lower, upper, fixed_label)),
                                          constraints, partition, scorer, maximize=False,
                                          rng=random.Random(problem.spec.seed * 7_919 + i))
        for k, _ in enumerate(optimizer.short_bursts(BURST_LENGTH, BURSTS)):
            if k % 20 == 0:
                if cancelled is not None and cancelled():
                    raise Cancelled("De berekening werd geannuleerd.")
                if progress is not None:
                    progress((i + k / (BURST_LENGTH * BURSTS)) / n)
        # After the bursts the optimizer holds its best plan and score.
        found.append((float(cast(float, optimizer.best_score)), _plan_of(problem, optimizer.best_part, node_unit)))
    if progress is not None:
        progress(1.0)
    today_layer = _base_layer(problem)
    today = layer_measures(problem.measures, today_layer) if today_layer is not None else None
    out: list[Proposal] = []
    seen: set[bytes] = set()
    for score, plan in sorted(found, key=lambda pair: pair[0]):
        canonical = np.array(plan_zone_codes(problem, plan), dtype=object)
        key = "|".join(str(c) for c in canonical).encode()
        if key in seen:
            continue
        seen.add(key)
        m = plan_measures(problem.measures, plan[None, :], problem.n_zones)
        out.append(_explain(problem, objective, score, plan, m, today))
    return out


def _partition_score(partition, *, problem: Problem, objective: str, node_unit: np.ndarray) -> float:
    return _score(problem, objective, _plan_of(problem, partition, node_unit))


def _explain(problem: Problem, objective: str, score: float, plan: np.ndarray, m: dict, today: dict | None) -> Proposal:
    data = problem.measures
    codes = plan_zone_codes(problem, plan)
    moves = []
    for row in np.nonzero(problem.movable)[0].tolist():
        before = problem.base_zone_codes[problem.base_labels[row]] if problem.base_labels[row] >= 0 else None
        if codes[row] != before:
            moves.append((int(problem.nis[row]), before, str(codes[row])))
    healed, harmed = [], []
    if today is not None:
        for a, code in enumerate(data.codes):
            now, then = int(m["zones_touched"][0, a]), int(today["zones_touched"][0, a])
            if now < then:
                healed.append(code)
            elif now > then:
                harmed.append(code)
    people = sum(int(problem.population[problem.position(nis)]) for nis, _, _ in moves)
    parts = [f"Voorstel met {OBJECTIVES[objective]}: {dutch.municipalities(len(moves))} "
             f"({dutch.inhabitants(people)}) in een andere zone dan vandaag."]
    if healed:
        parts.append(f"Het brengt {dutch.join(healed)} in minder zones samen.")
    if harmed:
        parts.append(f"Het verdeelt {dutch.join(harmed)} over meer zones.")
    if not healed and not harmed:
        parts.append("Geen enkel samenwerkingsverband raakt meer of minder zones dan vandaag.")
    parts.append(f"{dutch.number(int(m['crossing'][0]))} samenwerkingsverbanden kruisen nog een grens"
                 f"{'' if today is None else ' (vandaag ' + dutch.number(int(today['crossing'][0])) + ')'}.")
    measures = {k: (v[0].tolist() if v.ndim > 1 else float(v[0])) for k, v in m.items()}
    return Proposal(objective, float(score), plan.astype(np.int32), measures, tuple(moves), tuple(healed),
                    tuple(harmed), " ".join(parts))
