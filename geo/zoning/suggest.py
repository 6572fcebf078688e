"""Suggested reassignments: move municipalities between zones of a layer so that the zoning fits
the cooperation associations (and any other chosen layers) better, within given constraints.

Method: steepest-descent local search on the municipal adjacency graph. A candidate move puts
one municipality (or a "keep together" group, as a unit) in a zone of a neighbouring
municipality. Every step evaluates all candidates on the contingency tables (an update of two
columns per move, so thousands of candidates cost milliseconds), then applies the feasible
move with the largest gain. It stops when no feasible move improves the fit, after
``max_moves`` moves, or when the time budget runs out (reported in ``stopped``). Ties between
equally good moves are broken by a random order drawn from ``seed``, so a run is deterministic
given the seed unless the time budget cuts it short.

The fit ("misfit", lower is better) with a chosen layer L counts inhabitants, per step of the
table ``T[L-zone or 'none', zone]``:

* ``split``: inhabitants of L's members outside their L-zone's main zone (an association cut by
  a zone boundary: the members "on the wrong side of the line");
* ``straddle``: inhabitants of a zone on the minority side of an L-boundary (a zone mixing
  members of an association with non-members, or of two associations).

For associations (partial layers) both count. For complete layers the coarser one should
contain the finer: with fewer zones than the zoning (reference regions) only ``straddle``
counts, with more (police zones) only ``split``. The objective is the sum over chosen layers of
``weight * misfit / inhabitants covered``, plus a penalty for every "keep together" group that
is still split.

Constraints, checked on every move (a move that breaks one is never applied):

* **population bounds**: a zone within the bounds stays within them; a zone already outside
  them never gets further from them;
* **contiguity**: no zone gets a detached piece that the base layer did not have (exclaves such
  as Voeren are accepted, see :mod:`geo.zoning.validation`); no zone is emptied;
* **keep together**: the members of a group always move as one, into one zone;
* **fixed**: listed municipalities never move. Brussels municipalities never move, Flemish ones
  never move into a Brussels-only zone, and municipalities in more than one zone (or only
  partly in one) are left as they are;
* **anchors**: a zone's anchor (the municipality it is named after, else its most populous
  member, see :mod:`geo.zoning.anchors`) stays in its zone unless ``allow_anchor_moves``; a
  keep-together group with an anchor can only be gathered in the anchor's zone.

Candidate moves are scored through :class:`geo.engine.evaluate.Evaluator` (the same incremental tables
the workbench evaluates moves with): ``Evaluator.trial`` applies a candidate, the misfit is read
from the tables, and the candidate is undone.

Examples
--------
>>> from geo.reference.catalog import load_catalog
>>> catalog = load_catalog()
>>> result = suggest(catalog.layer("eerstelijnszone"), [catalog.layer("samenwerkingsverband")],
...                  Constraints(), max_moves=2, seed=1)
>>> len(result.moves) <= 2 and result.objective_after <= result.objective_before
True
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Sequence

import numpy as np

from geo import dutch
from geo.engine.evaluate import Evaluator, Tables
from geo.engine.layer import Layer
from geo.engine.scenario import Move, apply_moves
from geo.errors import InvalidInput
from geo.reference.norms import PopulationNorm, norm_for
from geo.reference.roles import ASSOCIATIONS_ROLE, with_role
from geo.zoning.anchors import zone_anchors
from geo.zoning.compare import Comparison, compare, order_against
from geo.zoning.validation import adjacency_graph, classify_pieces, exclaves, zone_member_codes, zone_pieces

if TYPE_CHECKING:  # networkx is imported by geo.zoning.validation when a graph is built, not at start-up
    import networkx as nx

Direction = Literal["both", "split", "straddle"]
GROUP_PENALTY = 10.0
MIN_GAIN = 1e-12
DEFAULT_MAX_MOVES = 10
DEFAULT_TIME_BUDGET = 5.0


@dataclass(frozen=True)
class Constraints:
    """What a suggestion must respect.

    ``norm=None`` with ``use_default_norm=True`` takes the base layer's default norm
    (:func:`geo.reference.norms.default_norms`).
    """

    norm: PopulationNorm | None = None
    use_default_norm: bool = True
    contiguity: bool = True
    keep_together: tuple[tuple[int, ...], ...] = ()
    fixed: tuple[int, ...] = ()
    allow_anchor_moves: bool = False

    def resolved_norm(self, base: Layer) -> PopulationNorm | None:
        """The population norm to apply: the given one, the layer's default, or None."""
        if self.norm is not None:
            return self.norm
        return norm_for(base) if self.use_default_norm else None

    def as_dict(self, base: Layer) -> dict:
        """The constraints as a JSON-ready dict."""
        norm = self.resolved_norm(base)
        return {
            "population": None if norm is None else {"label": norm.label, "minimum": norm.minimum,
                                                     "maximum": norm.maximum},
            "contiguity": self.contiguity,
            "keep_together": [list(g) for g in self.keep_together],
            "fixed": list(self.fixed),
            "allow_anchor_moves": self.allow_anchor_moves,
        }


@dataclass(frozen=True)
class SuggestedMove:
    """One applied step: which municipalities, from where to where, and what it did."""

    step: int
    nis_codes: tuple[int, ...]
    municipalities: tuple[str, ...]
    population: int
    from_zones: tuple[str, ...]
    to_zone: str
    to_zone_name: str
    objective_before: float
    objective_after: float
    effects: list[dict]
    zone_population: list[dict]
    explanation: str

    def as_dict(self) -> dict:
        """The step as a JSON-ready dict."""
        return {
            "step": self.step, "nis_codes": list(self.nis_codes), "municipalities": list(self.municipalities),
            "population": self.population, "from_zones": list(self.from_zones), "to_zone": self.to_zone,
            "to_zone_name": self.to_zone_name, "objective_before": round(self.objective_before, 8),
            "objective_after": round(self.objective_after, 8), "effects": self.effects,
            "zone_population": self.zone_population, "explanation": self.explanation,
        }


@dataclass(frozen=True, eq=False)
class Suggestion:
    """The result of :func:`suggest`: the moves in order, the scenario they give, and its
    comparison with the base layer."""

    base: Layer
    scenario: Layer
    against: list[Layer]
    constraints: Constraints
    moves: list[SuggestedMove]
    net_moves: list[Move]
    objective_before: float
    objective_after: float
    seed: int
    time_budget: float
    elapsed: float
    evaluations: int
    stopped: str
    unresolved: list[dict]
    comparison: Comparison = field(repr=False)

    def as_dict(self) -> dict:
        """The suggestion as a JSON-ready dict."""
        return {
            "base_layer": self.base.id,
            "against": [l.id for l in self.against],
            "constraints": self.constraints.as_dict(self.base),
            "seed": self.seed,
            "time_budget_seconds": self.time_budget,
            "elapsed_seconds": round(self.elapsed, 3),
            "evaluations": self.evaluations,
            "stopped": self.stopped,
            "objective_before": round(self.objective_before, 8),
            "objective_after": round(self.objective_after, 8),
            "population_year": self.base.atoms.population_year,
            "steps": [m.as_dict() for m in self.moves],
            "moves": [{"nis_code": m.nis_code, "to_zone": m.to_zone} for m in self.net_moves],
            "unresolved": self.unresolved,
            "comparison": self.comparison.as_dict(),
        }


# -- the fit -----------------------------------------------------------------------------------
def misfit_parts(tables: Tables) -> tuple[float, float]:
    """Inhabitants ``(split, straddle)`` of one layer against the zoning (see the module docstring).

    ``split``: members outside their L-zone's main zone; ``straddle``: inhabitants of a zone on
    the minority side of an L-boundary, counting "in no L-zone" as one side.
    """
    table, outside = tables.table, tables.outside
    split = float((table.sum(axis=1) - table.max(axis=1, initial=0.0)).sum())
    column_max = np.maximum(table.max(axis=0, initial=0.0), outside)
    straddle = float((table.sum(axis=0) + outside - column_max).sum())
    return split, straddle


@dataclass(frozen=True)
class _Term:
    """One chosen layer's part of the objective: its weight and which misfit counts."""

    layer_id: str
    weight: float
    direction: Direction
    total: float

    def score(self, tables: Tables) -> float:
        split, straddle = misfit_parts(tables)
        counted = {"both": split + straddle, "split": split, "straddle": straddle}[self.direction]
        return self.weight * counted / self.total if self.total > 0 else 0.0


def _direction(layer: Layer, base: Layer) -> Direction:
    coverage = layer.coverage()[layer.atoms.flemish]
    complete = bool(np.all(np.abs(coverage - 1.0) < 1e-6))
    if not complete:
        return "both"
    return "straddle" if len(layer) < len(base) else "split"


# -- the search --------------------------------------------------------------------------------
def suggest(base: Layer, against: Sequence[Layer], constraints: Constraints = Constraints(), *,
            weights: dict[str, float] | None = None, max_moves: int = DEFAULT_MAX_MOVES,
            time_budget: float = DEFAULT_TIME_BUDGET, seed: int = 0,
            graph: nx.Graph | None = None) -> Suggestion:
    """Propose moves that make ``base`` fit the ``against`` layers better.

    Parameters
    ----------
    base : Layer
        The zoning to change (e.g. ``eerstelijnszone`` or a scenario).
    against : sequence of Layer
        Layers the zoning should fit (associations first; default weight 1 each).
    constraints : Constraints
    weights : dict, optional
        Weight per layer id in the objective.
    max_moves : int
        At most this many steps.
    time_budget : float
        Seconds; the search stops (keeping the moves found so far) when it is spent.
    seed : int
        Breaks ties between equally good moves.

    Returns
    -------
    Suggestion

    Examples
    --------
    >>> suggestion = suggest(elz, [assoc], Constraints(keep_together=((34022, 34025),)), seed=3)
    >>> first = suggestion.moves[0]
    >>> first.municipalities, first.from_zones, first.to_zone
    (('Lendelede',), ('elz40',), 'elz18')
    """
    started = time.perf_counter()
    chosen = order_against(against)
    if not chosen:
        raise InvalidInput("choose at least one layer to fit (e.g. samenwerkingsverband)")
    if any(l.atoms is not base.atoms for l in chosen):
        raise InvalidInput("all layers must be over the same municipalities")
    if not 0 <= max_moves <= 500:
        raise InvalidInput(f"max_moves must be between 0 and 500, got {max_moves}")
    if not 0 < time_budget <= 600:
        raise InvalidInput(f"time_budget must be between 0 and 600 seconds, got {time_budget}")
    weights = dict(weights or {})
    unknown = set(weights) - {l.id for l in chosen}
    if unknown:
        raise InvalidInput(f"weights given for layers that are not compared against: {', '.join(sorted(unknown))}")
    if any(not math.isfinite(w) or w < 0 for w in weights.values()):
        raise InvalidInput("layer weights must be finite numbers, not negative")

    search = _Search(base, chosen, constraints, weights, seed, graph)
    objective_before = search.objective()
    steps: list[SuggestedMove] = []
    stopped = "no_improvement"
    while True:
        if len(steps) >= max_moves:
            stopped = "max_moves"
            break
        if time.perf_counter() - started > time_budget:
            stopped = "time_budget"
            break
        found = search.best_move(deadline=started + time_budget)
        if found is None:
            stopped = "time_budget" if time.perf_counter() - started > time_budget else "no_improvement"
            break
        steps.append(search.apply(*found, step=len(steps) + 1))

    net = search.net_moves()
    scenario = apply_moves(base, net, id=f"{base.id}+suggestie", name=f"{base.name} (suggestie)",
                           description=f"{len(net)} verplaatsing(en) voorgesteld door regiomatch suggest (seed {seed})")
    norm = constraints.resolved_norm(base)
    comparison = compare(base, scenario, chosen, norm=norm)
    return Suggestion(base, scenario, chosen, constraints, steps, net, objective_before, search.objective(), seed,
                      time_budget, time.perf_counter() - started, search.evaluations, stopped,
                      search.unresolved(), comparison)


class _Search:
    """State of the local search: current zone per movable municipality, tables, populations."""

    def __init__(self, base: Layer, against: list[Layer], constraints: Constraints, weights: dict[str, float],
                 seed: int, graph: nx.Graph | None):
        self.base = base
        self.atoms = base.atoms
        self.constraints = constraints
        self.norm = constraints.resolved_norm(base)
        self.graph = graph if graph is not None else adjacency_graph(base.atoms)
        self.random = random.Random(seed)
        self.evaluations = 0
        population = self.atoms.weights("population")
        self.population = population
        self.pop_by_nis = {int(c): int(p) for c, p in zip(self.atoms.nis_codes, population)}
        self.exclaves = exclaves(self.graph)
        self.against = against
        self.evaluator = Evaluator(base, against, "population", base_as="b")
        tables = self.evaluator.tables()
        self.terms = [_Term(l.id, float(weights.get(l.id, 1.0)), _direction(l, base),
                            float(tables[l.id].table.sum() + tables[l.id].outside.sum())) for l in against]

        csr = base.membership.tocsr()
        counts = np.diff(csr.indptr)
        flemish = self.atoms.flemish
        self.zone_pop = base.zone_weight("population").astype(float)
        self.zone_flemish = base.flemish_zones()
        # Current zone of every municipality that may move (wholly in one zone, Flemish, not fixed).
        fixed = {int(c) for c in constraints.fixed}
        for code in fixed:
            self.atoms.position(code)
        self.zone_of: dict[int, int] = {}
        for row in range(len(self.atoms)):
            nis = int(self.atoms.nis_codes[row])
            if counts[row] == 1 and abs(csr.data[csr.indptr[row]] - 1.0) < 1e-9 and flemish[row] and nis not in fixed:
                self.zone_of[nis] = int(csr.indices[csr.indptr[row]])
        self.base_zone_of = dict(self.zone_of)
        self.members = {code: set(codes) for code, codes in zone_member_codes(base).items()}
        self.base_pieces = {code: zone_pieces(codes, self.graph, self.pop_by_nis)
                            for code, codes in self.members.items()}

        # Units: keep-together groups (moving as one) and every other movable municipality.
        self.groups: list[tuple[int, ...]] = []
        grouped: set[int] = set()
        self.blocked_groups: list[dict] = []
        for group in constraints.keep_together:
            codes = tuple(sorted({int(c) for c in group}))
            for code in codes:
                self.atoms.position(code)
            if len(codes) < 2:
                raise InvalidInput(f"a keep-together group needs at least two municipalities, got {list(codes)}")
            overlap = grouped & set(codes)
            if overlap:
                raise InvalidInput(f"NIS code(s) {sorted(overlap)} appear in more than one keep-together group; "
                                   "merge those groups into one")
            grouped |= set(codes)
            self.groups.append(codes)
        # Anchors stay put: alone they are no unit; a group holding one is gathered in its zone.
        self.anchors = set() if constraints.allow_anchor_moves else set(zone_anchors(base).values())
        self.pinned: dict[tuple[int, ...], int] = {}
        self.units: list[tuple[int, ...]] = []
        for g in self.groups:
            anchor_zones = {self.zone_of[c] for c in g if c in self.anchors and c in self.zone_of}
            if not all(c in self.zone_of for c in g):
                self.blocked_groups.append({"nis_codes": list(g), "reason": "contains a municipality that cannot "
                                            "move (fixed, Brussels, or in more than one zone)"})
            elif len(anchor_zones) > 1:
                self.blocked_groups.append({"nis_codes": list(g), "reason": "contains the anchors (the municipality "
                                            "a zone is named after, else its largest) of two zones"})
            else:
                self.units.append(g)
                if anchor_zones:
                    self.pinned[g] = anchor_zones.pop()
        self.units += [(c,) for c in sorted(self.zone_of) if c not in grouped and c not in self.anchors]
        self.zone_codes = base.zone_codes
        self.rows = {int(c): i for i, c in enumerate(self.atoms.nis_codes)}

    # -- objective ---------------------------------------------------------------------------
    def split_groups(self) -> int:
        return sum(1 for g in self.groups if len(self._zones_of_group(g)) > 1)

    def _zones_of_group(self, group: tuple[int, ...]) -> set[str]:
        zones = set()
        for code in group:
            if code in self.zone_of:
                zones.add(self.zone_codes[self.zone_of[code]])
            else:
                zones |= {z for z, _, _ in self.base.zones_of(code)}
        return zones

    def objective(self) -> float:
        return self._fit(self.evaluator) + GROUP_PENALTY * self.split_groups()

    def _fit(self, evaluator: Evaluator) -> float:
        tables = evaluator.tables()
        return sum(term.score(tables[term.layer_id]) for term in self.terms)

    def _moves(self, unit: tuple[int, ...], target: int) -> list[Move]:
        return [Move(code, self.zone_codes[target]) for code in unit if self.zone_of[code] != target]

    # -- candidates --------------------------------------------------------------------------
    def _targets(self, unit: tuple[int, ...]) -> list[int]:
        current = {self.zone_of[c] for c in unit}
        if unit in self.pinned:  # only gathered, in its anchor's zone
            return [self.pinned[unit]] if len(current) > 1 else []
        near = set()
        for code in unit:
            for other in self.graph.neighbors(code):
                near |= self._zone_positions(other)
        if len(current) > 1:
            near |= current  # a split group may be gathered in one of its own zones
        else:
            near -= current
        return sorted(z for z in near if self.zone_flemish[z])

    def _zone_positions(self, code: int) -> set[int]:
        if code in self.zone_of:
            return {self.zone_of[code]}
        row = self.rows[code]
        matrix = self.base.membership
        return {int(j) for j in matrix[[row], :].tocoo().col}

    def best_move(self, deadline: float) -> tuple[tuple[int, ...], int] | None:
        current = self.objective()
        candidates = [(unit, target) for unit in self.units for target in self._targets(unit)]
        order = list(range(len(candidates)))
        self.random.shuffle(order)
        improving = []
        for rank, i in enumerate(order):
            if rank % 256 == 0 and time.perf_counter() > deadline:
                break
            unit, target = candidates[i]
            fit = self.evaluator.trial(self._moves(unit, target), self._fit)
            value = fit + GROUP_PENALTY * self._split_after(unit, target)
            self.evaluations += 1
            if current - value > MIN_GAIN:
                improving.append((current - value, rank, unit, target))
        improving.sort(key=lambda c: (-c[0], c[1]))
        for _, _, unit, target in improving:
            if self.feasible(unit, target):
                return unit, target
        return None

    def _split_after(self, unit: tuple[int, ...], target: int) -> int:
        moved = set(unit)
        count = 0
        for g in self.groups:
            if moved & set(g):
                zones = {self.zone_codes[target] if c in moved else self.zone_codes[self.zone_of[c]] for c in g}
            else:
                zones = self._zones_of_group(g)
            count += len(zones) > 1
        return count

    # -- constraints -------------------------------------------------------------------------
    def feasible(self, unit: tuple[int, ...], target: int) -> bool:
        affected = {self.zone_of[c] for c in unit} | {target}
        new_pop = self.zone_pop.copy()
        new_members = {self.zone_codes[z]: set(self.members[self.zone_codes[z]]) for z in affected}
        for code in unit:
            source = self.zone_of[code]
            new_pop[source] -= self.pop_by_nis[code]
            new_pop[target] += self.pop_by_nis[code]
            new_members[self.zone_codes[source]].discard(code)
            new_members[self.zone_codes[target]].add(code)
        for z in affected:
            if not new_members[self.zone_codes[z]]:
                return False  # never empty a zone
            if self.norm is not None and not self._population_ok(self.zone_pop[z], new_pop[z]):
                return False
        if self.constraints.contiguity:
            for z in affected:
                zone_code = self.zone_codes[z]
                pieces = zone_pieces(new_members[zone_code], self.graph, self.pop_by_nis)
                classified = classify_pieces(pieces, self.exclaves, self.base_pieces.get(zone_code), self.pop_by_nis)
                if any(p.status == "violation" for p in classified):
                    return False
        return True

    def _population_ok(self, before: float, after: float) -> bool:
        norm = self.norm
        assert norm is not None  # only called when a norm applies (see feasible)
        if norm.passes(np.array([after]))[0]:
            return True
        if norm.passes(np.array([before]))[0]:
            return False  # would leave the bounds
        return _distance(norm, after) <= _distance(norm, before)

    # -- applying ----------------------------------------------------------------------------
    def apply(self, unit: tuple[int, ...], target: int, step: int) -> SuggestedMove:
        tables = self.evaluator.tables()
        before_parts = [misfit_parts(tables[layer.id]) for layer in self.against]
        before_dominant = [self._dominant(tables[layer.id], unit) for layer in self.against]
        objective_before = self.objective()
        # Members of a group that already sit in the target zone stay where they are.
        unit = tuple(c for c in unit if self.zone_of[c] != target)
        sources = sorted({self.zone_of[c] for c in unit})
        pops_before = {z: self.zone_pop[z] for z in [*sources, target]}
        for code in unit:
            source = self.zone_of[code]
            self.zone_pop[source] -= self.pop_by_nis[code]
            self.zone_pop[target] += self.pop_by_nis[code]
            self.members[self.zone_codes[source]].discard(code)
            self.members[self.zone_codes[target]].add(code)
            self.zone_of[code] = target
            self.evaluator.apply(code, self.zone_codes[target])
        tables = self.evaluator.tables()
        effects = []
        for term, (split0, straddle0), dom0 in zip(self.terms, before_parts, before_dominant):
            split1, straddle1 = misfit_parts(tables[term.layer_id])
            dom1 = self._dominant(tables[term.layer_id], unit)
            effects.append({
                "layer": term.layer_id, "layer_name": tables[term.layer_id].reference.name, "counted": term.direction,
                "split_population_before": int(round(split0)), "split_population_after": int(round(split1)),
                "straddle_population_before": int(round(straddle0)), "straddle_population_after": int(round(straddle1)),
                "zones": [{"code": code, "name": name, "dominant_share_before": round(d0, 6),
                           "dominant_share_after": round(dom1[code][1], 6)}
                          for code, (name, d0) in dom0.items()],
            })
        zone_population = [{"code": self.zone_codes[z], "name": self.base.zone_name(self.zone_codes[z]),
                            "population_before": int(round(pops_before[z])),
                            "population_after": int(round(self.zone_pop[z]))}
                           for z in [*sources, target]]
        names = tuple(self.atoms.name(c) for c in unit)
        population = int(sum(self.pop_by_nis[c] for c in unit))
        move = SuggestedMove(step, unit, names, population, tuple(self.zone_codes[z] for z in sources),
                             self.zone_codes[target], self.base.zone_name(self.zone_codes[target]),
                             objective_before, self.objective(), effects, zone_population, "")
        return _with_explanation(move, self.base, any(set(unit) <= set(g) for g in self.groups))

    def _dominant(self, tables: Tables, unit: tuple[int, ...]) -> dict[str, tuple[str, float]]:
        """Share in its main zone of each L-zone the unit's municipalities belong to."""
        layer, out = tables.reference, {}
        for code in unit:
            for zone_code, zone_name, _ in layer.zones_of(code):
                row = tables.table[layer.zone_position(zone_code)]
                total = row.sum()
                out[str(zone_code)] = (str(zone_name), float(row.max() / total) if total > 0 else 0.0)
        return out

    def net_moves(self) -> list[Move]:
        return [Move(code, self.zone_codes[z]) for code, z in sorted(self.zone_of.items())
                if z != self.base_zone_of[code]]

    def unresolved(self) -> list[dict]:
        out = list(self.blocked_groups)
        for g in self.groups:
            zones = self._zones_of_group(g)
            if len(zones) > 1:
                out.append({"nis_codes": list(g), "reason": f"group still split over zones {sorted(zones)}: no move "
                            "gathering it respects the other constraints"})
        return out


def _distance(norm: PopulationNorm, population: float) -> float:
    if norm.minimum is not None and population < norm.minimum:
        return norm.minimum - population
    if norm.maximum is not None and population > norm.maximum:
        return population - norm.maximum
    return 0.0


def _with_explanation(move: SuggestedMove, base: Layer, kept_together: bool) -> SuggestedMove:
    """A Dutch sentence for planners: what moves, what it does for each layer, the populations."""
    who = " + ".join(move.municipalities)
    sources = ", ".join(f"{base.zone_name(z)} ({z})" for z in move.from_zones)
    parts = [f"{who} ({dutch.number(move.population)} inw.) van {sources} naar {move.to_zone_name} ({move.to_zone})"]
    if kept_together:
        parts[0] += " (om een groep die samen moet blijven in één zone te brengen)"
    for effect in move.effects:
        layer_name = effect.get("layer_name") or effect["layer"]
        split = effect["split_population_before"] - effect["split_population_after"]
        straddle = effect["straddle_population_before"] - effect["straddle_population_after"]
        bits = []
        if effect["counted"] in ("both", "split") and split:
            bits.append(f"{dutch.number(abs(split))} inwoners {'minder' if split > 0 else 'meer'} buiten de hoofdzone "
                        f"van hun {'verband' if effect['layer'] in with_role(ASSOCIATIONS_ROLE) else 'gebied'}")
        if effect["counted"] in ("both", "straddle") and straddle:
            bits.append(f"{dutch.number(abs(straddle))} inwoners {'minder' if straddle > 0 else 'meer'} aan de "
                        f"minderheidskant van een grens van {layer_name} binnen hun zone")
        for zone in effect["zones"]:
            if (effect["counted"] == "straddle"
                    or abs(zone["dominant_share_after"] - zone["dominant_share_before"]) < 5e-4):
                continue
            bits.append(f"{zone['name']} ({zone['code']}) nu voor {dutch.percent(zone['dominant_share_after'])} "
                        "in één zone "
                        f"(was {dutch.percent(zone['dominant_share_before'])})")
        if bits:
            parts.append(f"{layer_name}: " + "; ".join(bits))
    parts.append("bevolking " + ", ".join(f"{z['name']} {dutch.number(z['population_before'])} → "
                                          f"{dutch.number(z['population_after'])}"
                                          for z in move.zone_population))
    return SuggestedMove(**{**move.__dict__, "explanation": ". ".join(parts) + "."})
