"""The validator every plan must pass: assignment, contiguity, bounds, nesting, fixed in place.

Independent of how the chain drew the plan: it reads the municipal adjacency graph (not the chain
graph), so a bug in the chain's graph or in GerryChain's proposal would show here. The tests run it
on every plan of seeded runs.

Examples
--------
>>> from geo.storage.workspace import open_workspace
>>> from geo.ensemble.spec import EnsembleSpec
>>> from geo.ensemble.problem import prepare
>>> problem = prepare(open_workspace(None, "sqlite://"), EnsembleSpec("eerstelijnszone", plans=10, chains=1))
>>> validate_plan(problem, problem.start)
[]
>>> bad = problem.start.copy()
>>> bad[problem.position(44021)] = bad[problem.position(11002)]  # Gent into Antwerpen's zone
>>> sorted({p.split(':')[0] for p in validate_plan(problem, bad)})
['nesting', 'not_contiguous']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from geo.ensemble.graph import components, neighbour_lists

if TYPE_CHECKING:
    from geo.ensemble.problem import Problem


def validate_plan(problem: Problem, plan: np.ndarray) -> list[str]:
    """Problems of one plan, ``[]`` when it is valid.

    Each problem is ``"<check>: <detail>"`` with check one of ``assignment`` (a municipality of the
    territory in no zone, or an unknown zone), ``not_contiguous`` (a zone in pieces that are not
    only exclaves), ``population`` (a judged zone outside the bounds), ``nesting`` (a zone in two
    nest zones), ``fixed`` (a municipality that never moves is not in its start zone), ``together``
    (a group split over zones).
    """
    plan = np.asarray(plan)
    out: list[str] = []
    n_zones = problem.n_zones
    if plan.shape != problem.start.shape:
        return [f"assignment: expected {problem.start.shape[0]} municipalities, got {plan.shape}"]
    bad = np.nonzero((plan >= n_zones) | (plan < -1) | ((plan < 0) & problem.movable))[0]
    for row in bad.tolist():
        out.append(f"assignment: {problem.names[row]} ({int(problem.nis[row])}) has zone {int(plan[row])}")
    moved = np.nonzero(problem.fixed & (plan != problem.start))[0]
    for row in moved.tolist():
        out.append(f"fixed: {problem.names[row]} ({int(problem.nis[row])}) left zone "
                   f"{problem.zone_codes[problem.start[row]]}")
    neighbours = _neighbours(problem)
    for zone in range(n_zones):
        members = np.nonzero((plan == zone) & problem.movable)[0]
        if not len(members):
            continue
        nests = set(problem.nest[members].tolist())
        if len(nests) > 1:
            out.append(f"nesting: zone {problem.zone_codes[zone]} lies in "
                       f"{', '.join(problem.nest_codes[k] for k in sorted(nests))}")
        population = float(problem.population[plan == zone].sum())
        if population < problem.lower - 1e-6 or (problem.upper is not None and population > problem.upper + 1e-6
                                                  and len(members) > 1):
            out.append(f"population: zone {problem.zone_codes[zone]} has {population:.0f} inhabitants")
        pieces = components(members, neighbours)
        if len(pieces) > 1:
            pieces.sort(key=lambda p: (-float(problem.population[p].sum()), -len(p), int(p[0])))
            for piece in pieces[1:]:
                if not problem.exclave[piece].all():
                    out.append(f"not_contiguous: zone {problem.zone_codes[zone]} has a detached piece "
                               f"{[int(problem.nis[r]) for r in piece.tolist()]}")
    for group in problem.spec.together:
        rows = [problem.position(c) for c in group]
        if len(set(plan[rows].tolist())) > 1:
            out.append(f"together: {list(group)} split over zones")
    return out


def _neighbours(problem: Problem) -> list[np.ndarray]:
    cached = problem.__dict__.get("_neighbours")
    if cached is None:
        cached = neighbour_lists(len(problem.nis), problem.edges)
        problem.__dict__["_neighbours"] = cached
    return cached
