"""Live feedback for the zoning workbench: what a set of moves does to a base layer.

A planner edits a zoning in the browser one municipality at a time; after every edit the page
asks the server for the whole picture of *base + all moves so far* (the server keeps no state
per user, so any worker can answer). :func:`evaluate_moves` composes what the other modules
know into one typed result:

* population per zone against the layer's norm (:mod:`geo.reference.norms`), before and after;
* contiguity of the zones the moves touched (:mod:`geo.zoning.validation`: pieces the base already had
  are ``inherited``, named exclaves such as Voeren are ``exclave``, anything new is a
  ``violation``);
* nesting in a higher layer (default: the reference regions), before and after;
* per reference layer (associations first) the overlay measures before and after
  (:class:`geo.engine.evaluate.Evaluator`, updated move by move rather than re-overlaid) and, per
  reference zone, the zones it touches, its dominant zone and share and the members outside it.

The expensive parts (an :class:`~geo.engine.evaluate.Evaluator` per base and reference layers, the
base's own contiguity and nesting tables) are prepared once per set of layers and reused: a
request then costs a few milliseconds whatever the number of moves.

Examples
--------
>>> from geo.reference.catalog import load_catalog
>>> from geo.engine.scenario import Move
>>> catalog = load_catalog()
>>> result = evaluate_moves(catalog.layer("eerstelijnszone"), [Move(34025, "elz18")],
...                         [catalog.layer("samenwerkingsverband")], catalog.layer("referentieregio"))
>>> w13 = result.references[0].zone("W13")
>>> (w13.zones_touched_before, w13.zones_touched)
(4, 3)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from geo import dutch
from geo.engine.evaluate import Evaluator
from geo.engine.layer import Layer
from geo.engine.overlay import Summary, weighted_table
from geo.engine.scenario import Move, check_moves
from geo.errors import InvalidInput
from geo.reference.norms import PopulationNorm
from geo.zoning.validation import Piece, adjacency_graph, classify_pieces, exclaves, zone_member_codes, zone_pieces

if TYPE_CHECKING:  # networkx is imported by geo.zoning.validation when the graph is built
    import networkx as nx

# Cells below this many inhabitants (or km²) after adding and subtracting are rounding, not people.
_EMPTY = 1e-6
_PREPARED_SIZE = 16
_SNAPSHOTS = 8  # states after the moves of recent requests, per prepared base (one per editor at work)
_PIECES_SIZE = 4096  # remembered connected pieces of edited zones, per prepared base (a few MB at most)


# -- results -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class MovedMunicipality:
    """One municipality in another zone than in the base layer."""

    nis_code: int
    municipality: str
    population: int
    from_zones: tuple[str, ...]
    to_zone: str


@dataclass(frozen=True)
class ZoneStatus:
    """A zone's population before and after, and where it stands against the norm.

    ``norm_status``: ``ok``, ``below_minimum``, ``above_maximum``, ``not_judged`` (Brussels-only
    zones, or no norm for this layer).
    """

    code: str
    name: str
    population_before: int
    population: int
    members_before: int
    members: int
    norm_status: str
    norm_status_before: str

    @property
    def changed(self) -> bool:
        """Whether the zone's members or population changed."""
        return self.members != self.members_before or self.population != self.population_before


@dataclass(frozen=True)
class DetachedPiece:
    """A piece of a zone that is not connected to its main piece."""

    zone_code: str
    zone_name: str
    piece: Piece


@dataclass(frozen=True)
class NestingStatus:
    """Zones that do not lie inside one zone of a higher layer, before and after the moves."""

    parent_id: str
    parent_name: str
    violations_before: tuple[str, ...]
    violations: tuple[dict, ...]


@dataclass(frozen=True)
class ReferenceZoneFit:
    """How one zone of a reference layer (an association, say) fits the zoning, before -> after."""

    code: str
    name: str
    population: int
    zones_touched_before: int
    zones_touched: int
    dominant_zone_before: str | None
    dominant_zone: str | None
    dominant_share_before: float
    dominant_share: float
    outside_before: tuple[dict, ...]
    outside: tuple[dict, ...]

    @property
    def changed(self) -> bool:
        """Whether the fit with the reference zones changed."""
        return (self.zones_touched != self.zones_touched_before or self.dominant_zone != self.dominant_zone_before
                or abs(self.dominant_share - self.dominant_share_before) > 1e-9)


@dataclass(frozen=True)
class ReferenceFit:
    """One reference layer against the zoning: measures and per-zone fit, before and after."""

    layer_id: str
    layer_name: str
    before: Summary
    after: Summary
    zones: tuple[ReferenceZoneFit, ...]

    def zone(self, code: str) -> ReferenceZoneFit:
        """The fit of reference zone ``code``; InvalidInput if the layer has no such zone."""
        for z in self.zones:
            if z.code == code:
                return z
        raise InvalidInput(f"reference layer {self.layer_id!r} has no zone {code!r}")


@dataclass(frozen=True)
class WorkbenchResult:
    """Everything the workbench shows after an edit (see :func:`evaluate_moves`)."""

    base: Layer
    norm: PopulationNorm | None
    moved: tuple[MovedMunicipality, ...]
    zones: tuple[ZoneStatus, ...]
    contiguity: tuple[DetachedPiece, ...]
    nesting: NestingStatus | None
    references: tuple[ReferenceFit, ...] = field(default=())

    def as_dict(self) -> dict:
        """JSON-ready, with Dutch wording of the numbers a page shows next to the raw numbers."""
        atoms = self.base.atoms
        norm = None if self.norm is None else {"label": self.norm.label, "minimum": self.norm.minimum,
                                               "maximum": self.norm.maximum, "source": self.norm.source}
        return {
            "base_layer": self.base.id,
            "base_name": self.base.name,
            "population_year": atoms.population_year,
            "norm": norm,
            "problems": self.problems,
            "moved": [{"nis_code": m.nis_code, "municipality": m.municipality, "population": m.population,
                       "from_zones": list(m.from_zones), "to_zone": m.to_zone,
                       "to_zone_name": self.base.zone_name(m.to_zone)} for m in self.moved],
            "zones": [{"code": z.code, "name": z.name, "population": z.population,
                       "population_before": z.population_before, "population_text": dutch.number(z.population),
                       "members": z.members, "members_before": z.members_before, "norm_status": z.norm_status,
                       "norm_status_before": z.norm_status_before, "changed": z.changed} for z in self.zones],
            "contiguity": [{"zone_code": p.zone_code, "zone_name": p.zone_name, **p.piece.as_dict(atoms)}
                           for p in self.contiguity],
            "nesting": None if self.nesting is None else {
                "parent": self.nesting.parent_id, "parent_name": self.nesting.parent_name,
                "violations_before": list(self.nesting.violations_before),
                "violations": list(self.nesting.violations)},
            "references": [{
                "layer": f.layer_id, "name": f.layer_name,
                "before": f.before.as_dict(), "after": f.after.as_dict(),
                "nested_share_text": [dutch.percent(f.before.nested_share), dutch.percent(f.after.nested_share)],
                "zones": [{"code": z.code, "name": z.name, "population": z.population, "changed": z.changed,
                           "zones_touched_before": z.zones_touched_before, "zones_touched": z.zones_touched,
                           "dominant_zone_before": z.dominant_zone_before, "dominant_zone": z.dominant_zone,
                           "dominant_share_before": round(z.dominant_share_before, 6),
                           "dominant_share": round(z.dominant_share, 6),
                           "dominant_share_text": [dutch.percent(z.dominant_share_before),
                                                   dutch.percent(z.dominant_share)],
                           "outside_before": list(z.outside_before), "outside": list(z.outside)}
                          for z in f.zones],
            } for f in self.references],
        }

    @property
    def problems(self) -> dict[str, int]:
        """Counts of what a planner should look at: zones off the norm, new detached pieces, not nested."""
        return {
            "population": sum(z.norm_status in ("below_minimum", "above_maximum") for z in self.zones),
            "not_contiguous": sum(p.piece.status == "violation" for p in self.contiguity),
            "not_nested": len(self.nesting.violations) if self.nesting else 0,
        }


# -- preparation (cached per set of layers) -----------------------------------------------------
class _Scorer(Evaluator):
    """An evaluator that answers with the measures *and* the tables of a trial, then restores itself
    exactly (as :meth:`Evaluator.score` does: saved copies, not subtraction, so nothing drifts)."""

    def measure(self, moves: Sequence[Move]) -> tuple[dict[str, Summary], dict[str, np.ndarray]]:
        """Measures and tables with ``moves`` applied to the base.

        The page sends every move so far on each edit: the state after the moves of a recent
        request (a copy, :data:`_SNAPSHOTS` of them) is loaded when they begin this request's
        moves, and only the new moves are applied. The state is a copy of what applying those
        moves gave, so the answer is the same to the last bit as applying every move."""
        steps = [(pos, col) for pos, col in self._checked(moves)]
        self.summaries()  # the base's measures survive the trial
        saved = self._save()
        try:
            done = self._load_longest_prefix(steps, saved)
            for pos, col in steps[done:]:
                self._set_row(pos, col, saved)
            result = self.summaries(), {rid: self.table(rid) for rid in self.reference_ids}
            if steps and done < len(steps):
                self._remember(steps)  # copies in the arrays' own memory order: sums stay bit-identical
            return result
        finally:
            self._restore(saved)

    def _load_longest_prefix(self, steps: list[tuple[int, int]], saved: dict) -> int:
        """Load the remembered state of the longest remembered beginning of ``steps``; how many
        steps it holds (0: none, the base state stays)."""
        snapshots = self.__dict__.setdefault("_snapshots", OrderedDict())
        best: tuple | None = None
        for key in snapshots:
            if len(key) <= len(steps) and (best is None or len(key) > len(best)) and list(key) == steps[:len(key)]:
                best = key
        if best is None:
            return 0
        snapshots.move_to_end(best)
        moved, totals, atoms, refs = snapshots[best]
        for pos, (coverage, terms) in atoms.items():
            if pos not in saved["atoms"]:  # the base's values, restored after the trial
                saved["atoms"][pos] = (self._coverage[pos], {rid: (r.gap_terms[pos], r.overlap_terms[pos])
                                                             for rid, r in self._refs.items()})
            self._coverage[pos] = coverage
            for rid, (gap, overlap) in terms.items():
                self._refs[rid].gap_terms[pos], self._refs[rid].overlap_terms[pos] = gap, overlap
        self._moved = dict(moved)
        self._totals = totals.copy(order="K")
        for rid, (table, partition_table, gap, overlap, summary, outside) in refs.items():
            ref = self._refs[rid]
            ref.table, ref.gap, ref.overlap, ref.summary, ref.outside = (table.copy(order="K"), gap, overlap, summary,
                                                                         outside.copy(order="K"))
            ref.partition_table = partition_table.copy(order="K") if ref.partitioned else ref.table
        return len(best)

    def _remember(self, steps: list[tuple[int, int]]) -> None:
        snapshots = self.__dict__.setdefault("_snapshots", OrderedDict())
        atoms = {pos: (self._coverage[pos],
                       {rid: (r.gap_terms[pos], r.overlap_terms[pos]) for rid, r in self._refs.items()})
                 for pos in self._moved}
        refs = {rid: (r.table.copy(order="K"), r.partition_table.copy(order="K") if r.partitioned else None, r.gap,
                      r.overlap, r.summary,
                      r.outside.copy(order="K")) for rid, r in self._refs.items()}
        snapshots[tuple(steps)] = (dict(self._moved), self._totals.copy(order="K"), atoms, refs)
        while len(snapshots) > _SNAPSHOTS:
            snapshots.popitem(last=False)


class _Prepared:
    """What does not depend on the moves: evaluator, base tables, base contiguity. Not thread-safe
    on its own: callers hold ``lock``."""

    def __init__(self, base: Layer, references: Sequence[Layer], nest_in: Layer | None):
        self.lock = threading.Lock()
        self.base = base
        self.references = list(references)
        self.nest_in = nest_in
        atoms = base.atoms
        self.codes = base.zone_codes
        # Plain dicts and arrays: pandas lookups per request cost more than the evaluation itself.
        self.zone_names = dict(zip(self.codes, (str(n) for n in base.zones["name"])))
        self.names = {int(c): str(n) for c, n in zip(atoms.nis_codes, atoms.names)}
        self.positions = {int(c): i for i, c in enumerate(atoms.nis_codes)}
        self.flemish = np.asarray(atoms.flemish, dtype=bool)
        self.coverage = np.asarray(base.coverage(), dtype=float)
        self.w = atoms.weights("population")
        self.graph: nx.Graph = adjacency_graph(atoms)
        self.exclaves = exclaves(self.graph)
        self.population = {int(c): int(p) for c, p in atoms.table["population"].items()}
        self.members = zone_member_codes(base)
        self.base_pieces = {code: zone_pieces(codes, self.graph, self.population)
                            for code, codes in self.members.items()}
        self._pieces: OrderedDict[frozenset, list[tuple[int, ...]]] = OrderedDict()
        self.zone_population = np.asarray(base.zone_weight("population"), dtype=float)
        self.flemish_zones = base.flemish_zones()
        self.rows = base.membership.tocsr()
        self.base_zones = {int(nis): [self.codes[c]
                                      for c in self.rows.indices[self.rows.indptr[i]:self.rows.indptr[i + 1]]]
                           for i, nis in enumerate(atoms.nis_codes)}
        self.evaluator = self._evaluator()
        self.before = self.evaluator.summaries() if self.evaluator is not None else {}
        # No evaluator only without references: then there are no tables either.
        self.tables_before = ({r.id: self.evaluator.table(r.id) for r in self.references}
                              if self.evaluator is not None else {})
        self.ref_totals = {r.id: np.asarray(r.membership.T @ self.w, dtype=float) for r in self.references}
        self.ref_members = {r.id: zone_member_codes(r) for r in self.references}
        self.ref_rows = {r.id: r.membership.tocsr() for r in self.references}
        self.ref_zone_names = {r.id: [str(n) for n in r.zones["name"]] for r in self.references}
        self.outside_before = {r.id: self._outside(r, self.tables_before[r.id], lambda nis: self._base_zones(nis))
                               for r in self.references}
        if nest_in is not None:
            self.nest_table = np.array(weighted_table(base.membership, nest_in.membership, self.w), dtype=float)
            self.nest_rows = nest_in.membership.tocsr()
            self.nest_codes = nest_in.zone_codes
            self.nest_names = [str(n) for n in nest_in.zones["name"]]
            self.nest_before = self._not_nested(self.nest_table)

    def pieces(self, members: Sequence[int]) -> list[tuple[int, ...]]:
        """:func:`geo.validation.zone_pieces` of a zone with these members, remembered: the page
        sends every move so far on each edit, so all zones but the one or two the last move
        touched have the members they had in the previous request (callers hold ``lock``)."""
        key = frozenset(members)
        found = self._pieces.get(key)
        if found is None:
            found = self._pieces[key] = zone_pieces(members, self.graph, self.population)
            while len(self._pieces) > _PIECES_SIZE:
                self._pieces.popitem(last=False)
        else:
            self._pieces.move_to_end(key)
        return found

    def _evaluator(self) -> _Scorer | None:
        return _Scorer(self.base, self.references) if self.references else None

    def _base_zones(self, nis: int) -> list[str]:
        return self.base_zones[nis]

    def _outside(self, reference: Layer, table: np.ndarray, zones_of, only: set[int] | None = None  # noqa: ANN001
                 ) -> dict[str, tuple]:
        """Per reference zone (all, or the positions in ``only``): the members not in its dominant zone."""
        out = {}
        codes = self.codes
        for i, code in enumerate(reference.zone_codes):
            if only is not None and i not in only:
                continue
            row = table[i]
            dominant = codes[int(np.argmax(row))] if row.max() > _EMPTY else None
            outside = []
            for nis in self.ref_members[reference.id].get(code, []):
                if dominant is None or dominant not in zones_of(nis):
                    outside.append({"nis_code": nis, "municipality": self.names[nis],
                                    "population": self.population[nis], "zones": list(zones_of(nis))})
            out[code] = tuple(outside)
        return out

    def _not_nested(self, table: np.ndarray) -> list[int]:
        """Positions of Flemish base zones with inhabitants in more than one parent zone."""
        touched = (table > _EMPTY).sum(axis=1)
        return [int(i) for i in np.nonzero((touched > 1) & self.flemish_zones)[0]]


_prepared: OrderedDict[tuple, _Prepared] = OrderedDict()
_prepared_lock = threading.Lock()


def _prepare(base: Layer, references: Sequence[Layer], nest_in: Layer | None) -> _Prepared:
    # Keyed by the layer objects themselves: the workspace hands out one object per layer version,
    # so a changed scenario or re-imported layer is a new key. The entry keeps them alive, so
    # their ids cannot be reused by other objects while cached.
    key = (id(base), tuple(id(r) for r in references), id(nest_in))
    with _prepared_lock:
        found = _prepared.get(key)
        if found is not None:
            _prepared.move_to_end(key)
            return found
    prepared = _Prepared(base, references, nest_in)
    with _prepared_lock:
        _prepared[key] = prepared
        while len(_prepared) > _PREPARED_SIZE:
            _prepared.popitem(last=False)
    return prepared


# -- the evaluation ----------------------------------------------------------------------------
def movable(base: Layer, nis_code: int) -> str | None:
    """Why a municipality cannot be moved in ``base`` (Dutch, for the page), or None if it can.

    Examples
    --------
    >>> movable(catalog.layer("eerstelijnszone"), 21004)
    'Brussel ligt in het Brussels Hoofdstedelijk Gewest, buiten het Vlaamse decreet lokaal sociaal beleid'
    """
    atoms = base.atoms
    pos = atoms.position(nis_code)
    return _locked(atoms.name(nis_code), bool(atoms.flemish[pos]), bool(base.coverage()[pos] > 0), base.name)


def _locked(name: str, flemish: bool, covered: bool, layer_name: str) -> str | None:
    if not flemish:
        return f"{name} ligt in het Brussels Hoofdstedelijk Gewest, buiten het Vlaamse decreet lokaal sociaal beleid"
    if not covered:
        return f"{name} hoort bij geen enkele zone van {layer_name}: het ligt buiten het gebied van deze laag"
    return None


def _check(prepared: "_Prepared", moves: Sequence[Move]) -> list[Move]:
    base = prepared.base
    checked = check_moves(base, moves)
    flemish_zones = prepared.flemish_zones
    for move in checked:
        pos = prepared.positions[move.nis_code]
        why = _locked(prepared.names[move.nis_code], bool(prepared.flemish[pos]), bool(prepared.coverage[pos] > 0),
                      base.name)
        if why is not None:
            raise InvalidInput(f"NIS code {move.nis_code} cannot be moved: {why}")
        if not flemish_zones[base.zone_position(move.to_zone)]:
            raise InvalidInput(f"zone {move.to_zone!r} of {base.id!r} holds only Brussels municipalities; "
                               f"a Flemish municipality (NIS code {move.nis_code}) cannot be moved into it")
    return checked


def _norm_status(population: float, norm: PopulationNorm | None, judged: bool) -> str:
    if norm is None or not judged:
        return "not_judged"
    if norm.minimum is not None and population < norm.minimum:
        return "below_minimum"
    if norm.maximum is not None and population > norm.maximum:
        return "above_maximum"
    return "ok"


def evaluate_moves(base: Layer, moves: Sequence[Move], references: Sequence[Layer] = (),
                   nest_in: Layer | None = None, norm: PopulationNorm | None = None) -> WorkbenchResult:
    """The workbench's feedback for ``base`` with ``moves`` applied.

    Parameters
    ----------
    base : Layer
        The layer being edited (shipped, imported or a scenario's base).
    moves : sequence of Move
        All moves so far; a later move of a municipality replaces an earlier one. Brussels
        municipalities, municipalities in no zone of ``base`` and moves into a Brussels-only
        zone are refused (:class:`~geo.errors.InvalidInput`).
    references : sequence of Layer
        Layers the zoning is judged against (associations first), distinct ids.
    nest_in : Layer, optional
        Higher layer each zone should lie inside (e.g. ``referentieregio``).
    norm : PopulationNorm, optional
        Population bounds per zone (see :func:`geo.reference.norms.norm_for` for the layer's default).

    Returns
    -------
    WorkbenchResult

    Examples
    --------
    >>> evaluate_moves(catalog.layer("eerstelijnszone"), [Move(34025, "elz18")]).moved[0].to_zone
    'elz18'
    """
    prepared = _prepare(base, references, nest_in)
    checked = _check(prepared, moves)
    codes = prepared.codes
    # Moves that put a municipality where it already is are not moves.
    effective = [m for m in checked if prepared._base_zones(m.nis_code) != [m.to_zone]]
    after: dict[str, Summary] = {}
    tables: dict[str, np.ndarray] = {}
    if prepared.evaluator is not None:
        with prepared.lock:
            after, tables = prepared.evaluator.measure(effective)

    new_zone = {m.nis_code: m.to_zone for m in effective}

    def zones_now(nis: int) -> list[str]:
        return [new_zone[nis]] if nis in new_zone else prepared._base_zones(nis)

    # Population and members per zone.
    population = prepared.zone_population.copy()
    members = {code: list(nis) for code, nis in prepared.members.items()}
    moved = []
    rows = prepared.rows
    for m in effective:
        pos = prepared.positions[m.nis_code]
        start, end = rows.indptr[pos], rows.indptr[pos + 1]
        w = prepared.w[pos]
        for col, share in zip(rows.indices[start:end], rows.data[start:end]):
            population[col] -= w * share
            members[codes[col]].remove(m.nis_code)
        population[base.zone_position(m.to_zone)] += w
        members[m.to_zone].append(m.nis_code)
        moved.append(MovedMunicipality(m.nis_code, prepared.names[m.nis_code], int(prepared.population[m.nis_code]),
                                       tuple(prepared._base_zones(m.nis_code)), m.to_zone))
    zones = tuple(ZoneStatus(
        code=code, name=prepared.zone_names[code],
        population_before=int(round(prepared.zone_population[i])), population=int(round(population[i])),
        members_before=len(prepared.members[code]), members=len(members[code]),
        norm_status=_norm_status(population[i], norm, bool(prepared.flemish_zones[i])),
        norm_status_before=_norm_status(prepared.zone_population[i], norm, bool(prepared.flemish_zones[i])),
    ) for i, code in enumerate(codes))

    # Contiguity: recomputed for the zones the moves changed, the base's pieces for the others.
    affected = {m.to_zone for m in effective} | {z for m in moved for z in m.from_zones}
    detached = []
    for code in codes:
        base_pieces = prepared.base_pieces[code]
        if code in affected:
            with prepared.lock:
                pieces = prepared.pieces(members[code])
        else:
            pieces = base_pieces
        if len(pieces) <= 1:
            continue
        for piece in classify_pieces(pieces, prepared.exclaves, base_pieces, prepared.population)[1:]:
            detached.append(DetachedPiece(code, prepared.zone_names[code], piece))

    nesting = None
    if nest_in is not None:
        table = prepared.nest_table.copy()
        for m in effective:
            pos = prepared.positions[m.nis_code]
            pstart, pend = prepared.nest_rows.indptr[pos], prepared.nest_rows.indptr[pos + 1]
            pcols, pvals = prepared.nest_rows.indices[pstart:pend], prepared.nest_rows.data[pstart:pend]
            start, end = rows.indptr[pos], rows.indptr[pos + 1]
            w = prepared.w[pos]
            for col, share in zip(rows.indices[start:end], rows.data[start:end]):
                table[col, pcols] -= w * share * pvals
            table[base.zone_position(m.to_zone), pcols] += w * pvals
        parent_codes = prepared.nest_codes
        violations = []
        for i in prepared._not_nested(table):
            cells = np.nonzero(table[i] > _EMPTY)[0]
            violations.append({"code": codes[i], "name": prepared.zone_names[codes[i]],
                               "zones_touched": [{"code": parent_codes[j], "name": prepared.nest_names[j],
                                                  "population": int(round(table[i, j]))}
                                                 for j in sorted(cells, key=lambda j: -table[i, j])]})
        nesting = NestingStatus(nest_in.id, nest_in.name, tuple(codes[i] for i in prepared.nest_before),
                                tuple(violations))

    fits = []
    for reference in references:
        before_table, table = prepared.tables_before[reference.id], tables[reference.id]
        totals = prepared.ref_totals[reference.id]
        # Only the reference zones with a moved member can have changed.
        member_rows = prepared.ref_rows[reference.id]
        touched: set[int] = set()
        for m in effective:
            pos = prepared.positions[m.nis_code]
            touched.update(int(c) for c in member_rows.indices[member_rows.indptr[pos]:member_rows.indptr[pos + 1]])
        outside_after = {**prepared.outside_before[reference.id],
                         **prepared._outside(reference, table, zones_now, touched)}
        zone_fits = []
        for i, code in enumerate(reference.zone_codes):
            total = totals[i]
            zone_fits.append(ReferenceZoneFit(
                code=code, name=prepared.ref_zone_names[reference.id][i], population=int(round(total)),
                zones_touched_before=int((before_table[i] > _EMPTY).sum()),
                zones_touched=int((table[i] > _EMPTY).sum()),
                dominant_zone_before=_dominant(before_table[i], codes), dominant_zone=_dominant(table[i], codes),
                dominant_share_before=float(before_table[i].max() / total) if total > 0 else 0.0,
                dominant_share=float(table[i].max() / total) if total > 0 else 0.0,
                outside_before=prepared.outside_before[reference.id][code], outside=outside_after[code]))
        fits.append(ReferenceFit(reference.id, reference.name, prepared.before[reference.id], after[reference.id],
                                 tuple(zone_fits)))
    return WorkbenchResult(base, norm, tuple(moved), zones, tuple(detached), nesting, tuple(fits))


def _dominant(row: np.ndarray, codes: list[str]) -> str | None:
    return codes[int(np.argmax(row))] if len(row) and row.max() > _EMPTY else None


# -- what the editing page needs to know about the base layer -----------------------------------
def editing_context(base: Layer) -> dict:
    """Zones, municipalities (zones, population, neighbours, why not movable) of a base layer.

    The page uses it to colour the map, to offer the zones of a municipality's neighbours
    first, and to say why Brussels or a municipality outside the layer cannot be moved, without
    asking the server. Population: Statbel, 1 January of ``atoms.population_year``.

    Computed once per layer object (a layer never changes; a saved scenario or a re-imported
    layer is a new object): the workbench and the comparison pages ask for it on every view.
    The answer is shared: do not change it.

    Examples
    --------
    >>> ctx = editing_context(catalog.layer("eerstelijnszone"))
    >>> ctx["municipalities"]["34025"]["zones"]
    ['elz40']
    """
    cached = base.__dict__.get("_editing_context")
    if cached is None:
        cached = _editing_context(base)
        object.__setattr__(base, "_editing_context", cached)
    return cached


def _editing_context(base: Layer) -> dict:
    atoms = base.atoms
    graph = adjacency_graph(atoms)
    rows = base.membership.tocsr()
    codes = base.zone_codes
    flemish_zones = base.flemish_zones()
    # Whole columns read once: per municipality, pandas and the region mask cost O(atoms) each.
    names = [str(n) for n in atoms.names]
    population = atoms.table["population"].to_numpy()
    flemish = np.asarray(atoms.flemish, dtype=bool)
    covered = np.asarray(base.coverage()) > 0
    municipalities = {}
    for pos, nis in enumerate(atoms.nis_codes.tolist()):
        start, end = rows.indptr[pos], rows.indptr[pos + 1]
        municipalities[str(nis)] = {
            "name": names[pos],
            "population": int(population[pos]),
            "zones": [codes[c] for c in rows.indices[start:end]],
            "neighbours": sorted(int(n) for n in graph.neighbors(nis)) if nis in graph else [],
            "locked": _locked(names[pos], bool(flemish[pos]), bool(covered[pos]), base.name),
        }
    zone_names = [str(n) for n in base.zones["name"]]
    return {
        "zones": [{"code": c, "name": zone_names[i], "flemish": bool(flemish_zones[i])} for i, c in enumerate(codes)],
        "municipalities": municipalities,
        "population_year": atoms.population_year,
    }

