"""An ensemble's problem: the rules checked against the data, the graph, and the valid start.

:func:`prepare` turns an :class:`~geo.ensemble.spec.EnsembleSpec` into a :class:`Problem`: plain
arrays a worker process (or a Dask worker) can receive, holding everything a chain and the measures
need. Rules no plan can meet are refused here, at once, in Dutch, naming the rule
(:class:`~geo.errors.InvalidInput`): bounds no zone can meet, a nest zone with fewer municipalities
than the zones asked of it, a fixed municipality that would cut its zone in two, a group that does
not hang together.

Decisions (see also ``README.md``, "Ensembles"):

* **Brussels** municipalities never move and are not judged (outside the Flemish decree); so do
  municipalities the base layer leaves out.
* **Large municipalities**: with an upper bound (the norm's maximum or the user's), a municipality
  above it (Antwerpen: 555,399 inhabitants) is a zone of its own that never moves: its nest zone's
  other zones are drawn around it. The shipped norm of the primary care zones has only a minimum
  (60,000), so by default Antwerpen is an ordinary municipality that simply needs no partner.
* **Exclaves**: a municipality without neighbours (Voeren) travels with the most populous member
  of its start zone (one chain unit); its zone counts as one piece, as :mod:`geo.zoning.validation`
  counts a piece of only exclaves. Baarle-Hertog touches Belgian neighbours and is an ordinary unit.
* **Nesting** by construction: the chain graph has no edge across a nest-zone line.

Examples
--------
>>> from geo.storage.workspace import open_workspace
>>> from geo.ensemble.spec import EnsembleSpec
>>> problem = prepare(open_workspace(None, "sqlite://"), EnsembleSpec("eerstelijnszone", plans=10, chains=1))
>>> sorted({r.reason for r in problem.repairs})
['contiguity', 'nesting', 'population']
>>> int((problem.start >= 0).sum())
304
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from geo import dutch
from geo.engine.layer import Layer
from geo.ensemble.graph import (
    build_units,
    components,
    exclave_positions,
    municipal_edges,
    neighbour_lists,
    unit_edges,
)
from geo.ensemble.measures import MeasureData, measure_data
from geo.ensemble.spec import DEFAULT, NEST_ROLE, EnsembleSpec
from geo.ensemble.start import Repair, StartState, draw, repair, repairs
from geo.errors import InvalidInput
from geo.reference.norms import norm_for
from geo.reference.roles import association_layer, with_role

__all__ = ["Problem", "Repair", "prepare"]


@dataclass(frozen=True, eq=False)
class Problem:
    """Everything a chain needs, as plain picklable arrays (positions follow ``nis``).

    Attributes
    ----------
    spec : EnsembleSpec
        The checked spec.
    nis, names, population, flemish : numpy.ndarray / tuple
        The municipalities (all of them, in ``atoms`` order), their inhabitants and whether they
        fall under the Flemish decree.
    start : numpy.ndarray
        Zone index per municipality in the valid start (int32, -1: in no zone).
    zone_codes, zone_names, zone_nest : tuple
        Per zone of the start: code (the base layer's code where the zone continues one, else
        ``nieuw-<n>``), name, and the nest-zone index it lies in (-1: not judged).
    base_zone_codes, base_labels : tuple / numpy.ndarray
        The base layer's zone codes and each municipality's zone position in it (-1: none).
    nest_codes, nest_names, nest : tuple / numpy.ndarray
        The nest layer's zones and each municipality's nest-zone index (-1: none).
    lower, upper : float / float or None
        Population bounds per zone.
    movable, fixed, large : numpy.ndarray
        Per municipality: drawn by the chain; never moves (Brussels, outside the base layer,
        ``spec.fixed``, large municipalities); above the upper bound (own zone).
    units, unit_population, unit_edges, in_chain : numpy.ndarray
        The chain graph: unit per municipality (-1: not in the chain), its inhabitants, and the
        unit pairs that border each other inside one nest zone.
    edges, exclave : numpy.ndarray
        The municipal adjacency graph (atom position pairs) and the exclave mask.
    repairs : tuple of Repair
        What was changed to make the start valid.
    measures : MeasureData
        What the measures need (the association layer as arrays).
    """

    spec: EnsembleSpec
    base_layer_id: str
    base_layer_name: str
    nest_id: str | None
    nest_name: str
    population_year: int
    nis: np.ndarray
    names: tuple[str, ...]
    population: np.ndarray
    flemish: np.ndarray
    start: np.ndarray
    zone_codes: tuple[str, ...]
    zone_names: tuple[str, ...]
    zone_nest: np.ndarray
    base_zone_codes: tuple[str, ...]
    base_zone_names: tuple[str, ...]
    base_labels: np.ndarray
    nest_codes: tuple[str, ...]
    nest_names: tuple[str, ...]
    nest: np.ndarray
    lower: float
    upper: float | None
    norm_label: str
    movable: np.ndarray
    fixed: np.ndarray
    large: np.ndarray
    units: np.ndarray
    unit_population: np.ndarray
    unit_edges: np.ndarray
    in_chain: np.ndarray
    unit_fixed: np.ndarray
    edges: np.ndarray
    exclave: np.ndarray
    repairs: tuple[Repair, ...]
    measures: MeasureData
    zone_counts: dict = field(default_factory=dict)  # nest code -> zones in the start

    @property
    def n_zones(self) -> int:
        """Number of zones in the plans."""
        return len(self.zone_codes)

    def plans_per_chain(self, chain: int) -> int:
        """Plans chain ``chain`` keeps: ``spec.plans`` shared as evenly as possible."""
        base, extra = divmod(self.spec.plans, self.spec.chains)
        return base + (1 if chain < extra else 0)

    def position(self, nis_code: int) -> int:
        """Row of a municipality (by NIS code); raises UnknownMunicipality when it is not in the problem."""
        found = np.nonzero(self.nis == int(nis_code))[0]
        if not len(found):
            from geo.errors import UnknownMunicipality

            raise UnknownMunicipality(f"unknown NIS code {nis_code!r} (not a municipality of 2025)")
        return int(found[0])

    def to_dict(self) -> dict:
        """The rules and the start as the API shows them (English fields, Dutch sentences)."""
        return {
            "spec": self.spec.as_dict(),
            "base_layer": self.base_layer_id, "base_layer_name": self.base_layer_name,
            "nest_in": self.nest_id, "nest_in_name": self.nest_name,
            "population_year": self.population_year,
            "bounds": {"lower": self.lower, "upper": self.upper, "label": self.norm_label},
            "zones": len(self.zone_codes), "zones_per_nest_zone": dict(self.zone_counts),
            "large_municipalities": [int(self.nis[i]) for i in np.nonzero(self.large)[0]],
            "fixed": [int(self.nis[i]) for i in np.nonzero(self.fixed & self.flemish)[0]],
            "repairs": [r.to_dict() for r in self.repairs],
            "repairs_text": repairs_sentence(self),
        }


def repairs_sentence(problem: Problem) -> str:
    """One Dutch sentence: how the start was made valid."""
    if not problem.repairs:
        return f"De beginindeling ({problem.base_layer_name}) voldoet al aan de regels; er werd niets verplaatst."
    zones = len({r.from_zone for r in problem.repairs})
    return (f"Om aan de regels te voldoen, werden in de beginindeling {dutch.municipalities(len(problem.repairs))} "
            f"uit {zones} zones verplaatst ({dutch.inhabitants(sum(r.population for r in problem.repairs))}).")


def _nest_layer(workspace, spec: EnsembleSpec) -> Layer | None:
    if spec.nest_in is None:
        return None
    nest_id = spec.nest_in
    if nest_id == DEFAULT:
        found = with_role(NEST_ROLE)
        if not found:
            raise InvalidInput(f"Er is geen laag met de rol {NEST_ROLE!r} om in te nestelen; kies er een.")
        nest_id = found[0]
    return workspace.layer(nest_id)


def _zoning_labels(layer: Layer, what: str) -> np.ndarray:
    """Zone position per atom (-1: none) of a layer that is a zoning. A municipality split over zones
    (shares that add up to at most one) counts in the zone with its largest share when that is at
    least half of it, else in none (the chain leaves it alone); one in two zones at once (overlapping
    zones, as associations) makes the layer no zoning."""
    m = layer.membership.tocsr()
    m.sum_duplicates()
    coverage = np.asarray(m.sum(axis=1)).ravel()
    counts = np.diff(m.indptr)
    overlapping = np.nonzero((counts > 1) & (coverage > 1.0 + 1e-6))[0]
    if len(overlapping):
        row = int(overlapping[0])
        raise InvalidInput(f"{what} {layer.name} is geen indeling: {layer.atoms.names[row]} ligt er in "
                           f"{int(counts[row])} zones tegelijk.")
    labels = np.full(m.shape[0], -1, dtype=np.int64)
    for row in np.nonzero(counts > 0)[0].tolist():
        start, end = m.indptr[row], m.indptr[row + 1]
        best = start + int(np.argmax(m.data[start:end]))
        if m.data[best] >= 0.5:
            labels[row] = int(m.indices[best])
    return labels


def prepare(workspace, spec: EnsembleSpec) -> Problem:
    """Check the rules against the data and build the problem with its valid start.

    Parameters
    ----------
    workspace : geo.storage.workspace.Workspace
        Resolves ``spec.base_layer`` (also ``scenario:<id>``) and ``spec.nest_in``.
    spec : EnsembleSpec

    Returns
    -------
    Problem

    Raises
    ------
    geo.errors.InvalidInput
        A rule no plan can meet (Dutch, naming the rule), or a cap exceeded.
    geo.errors.UnknownLayer, geo.errors.UnknownMunicipality
        An unknown layer id or NIS code.
    """
    spec = spec.check()
    base = workspace.layer(spec.base_layer)
    atoms = base.atoms
    if spec.population_year is not None and int(spec.population_year) != atoms.population_year:
        raise InvalidInput(f"Bevolkingsjaar {spec.population_year} gevraagd, maar deze werkruimte rekent met "
                           f"{atoms.population_year}.")
    nest_layer = _nest_layer(workspace, spec)
    n = len(atoms)
    nis = atoms.nis_codes.astype(np.int64)
    names = [str(x) for x in atoms.names]
    population = atoms.weights("population")
    flemish = np.asarray(atoms.flemish, dtype=bool)
    base_labels = _zoning_labels(base, "De basislaag")
    if nest_layer is not None:
        nest = _zoning_labels(nest_layer, "De nestlaag")
        nest_codes = tuple(str(c) for c in nest_layer.zone_codes)
        nest_names = tuple(str(x) for x in nest_layer.zones["name"])
    else:
        nest = np.where(flemish, 0, -1).astype(np.int64)
        nest_codes, nest_names = ("alles",), ("het Vlaamse Gewest",)
    movable = flemish & (base_labels >= 0)
    if not movable.any():
        raise InvalidInput(f"De basislaag {base.name} deelt geen enkele Vlaamse gemeente (voor minstens de helft) in "
                           "een zone in: er valt niets te verschuiven. "
                           "Kies een laag die een indeling van gemeenten is.")
    outside = movable & (nest < 0)
    if outside.any():
        row = int(np.nonzero(outside)[0][0])
        assert nest_layer is not None  # without a nest layer every movable municipality is in nest 0
        raise InvalidInput(f"Nesting: {names[row]} ligt in geen enkele zone van {nest_layer.name}; "
                           "elke Vlaamse gemeente van de basislaag moet in een zone van de nestlaag liggen.")

    # -- bounds -------------------------------------------------------------------------------
    norm = norm_for(base, workspace.base_id_of(spec.base_layer) if spec.base_layer.startswith("scenario:") else None)
    lower = spec.lower if spec.lower is not None else (norm.minimum if norm and norm.minimum is not None else 0.0)
    upper = spec.upper if spec.upper is not None else (norm.maximum if norm else None)
    lower, upper = float(lower), (float(upper) if upper is not None else None)
    if upper is not None and lower > upper:
        raise InvalidInput(f"Bevolkingsgrenzen: de ondergrens ({dutch.number(lower)}) ligt boven de bovengrens "
                           f"({dutch.number(upper)}); geen enkele zone kan dat halen.")
    label = (f"{dutch.number(lower)} tot {dutch.number(upper)} inwoners per zone" if upper is not None
             else f"minstens {dutch.number(lower)} inwoners per zone")
    for k, code in enumerate(nest_codes):
        inside = movable & (nest == k)
        if inside.any() and float(population[inside].sum()) < lower:
            raise InvalidInput(f"Bevolkingsgrenzen: {nest_names[k]} telt "
                               f"{dutch.inhabitants(population[inside].sum())}, "
                               f"minder dan de ondergrens van {dutch.number(lower)} per zone: geen enkele zone daar "
                               "kan die grens halen.")
    large = movable & (population > upper) if upper is not None else np.zeros(n, dtype=bool)

    # -- fixed and together ----------------------------------------------------------------------
    fixed = ~movable | large
    for fixed_code in spec.fixed:
        fixed[atoms.position(fixed_code)] = True
    edges = municipal_edges(atoms)
    neighbours = neighbour_lists(n, edges)
    groups = []
    for group in spec.together:
        rows = atoms.positions(group)
        what = dutch.join([names[r] for r in rows.tolist()])
        if not movable[rows].all():
            raise InvalidInput(f"Samen in één zone: {what} kan niet, want "
                               f"{names[int(rows[~movable[rows]][0])]} wordt niet ingedeeld "
                               "(Brussel of buiten de laag).")
        if large[rows].any():
            raise InvalidInput(f"Samen in één zone: {what} kan niet, want {names[int(rows[large[rows]][0])]} is groter "
                               f"dan de bovengrens van {dutch.number(upper)} en vormt een eigen zone.")
        if len(set(nest[rows].tolist())) > 1:
            assert nest_layer is not None  # without a nest layer all movable rows share nest 0
            raise InvalidInput(f"Samen in één zone: {what} liggen in verschillende zones van de laag "
                               f"{nest_layer.name}; "
                               "zo'n groep kan nooit in één geneste zone liggen.")
        if len(components(rows, neighbours)) > 1:
            raise InvalidInput(f"Samen in één zone: {what} grenzen niet aan elkaar; een groep die samen blijft, "
                               "moet één aaneengesloten stuk zijn.")
        if fixed[rows].any() and not fixed[rows].all():
            fixed[rows] = True  # a group moves as one: fixing one member fixes all
        groups.append(rows)
    exclave = exclave_positions(atoms, neighbours)

    # -- the valid start ------------------------------------------------------------------------------
    base_codes = [str(c) for c in base.zone_codes]
    base_names = [str(x) for x in base.zones["name"]]
    state = StartState(labels=base_labels.copy(), zone_codes=list(base_codes), zone_names=list(base_names),
                       zone_nest=[-1] * len(base_codes), movable=movable, nest=nest, nest_names=list(nest_names),
                       population=population, neighbours=neighbours, exclave=exclave, names=names, nis=nis,
                       lower=lower, upper=upper, fixed=fixed & movable, large=large, groups=groups)
    if spec.zones == "today":
        repair(state)
    else:
        state.zone_codes, state.zone_names, state.zone_nest = [], [], []
        keep = ~movable & (base_labels >= 0)
        for z in sorted(set(base_labels[keep].tolist())):  # Brussels' zone(s) stay as they are
            new = len(state.zone_codes)
            state.zone_codes.append(base_codes[z])
            state.zone_names.append(base_names[z])
            state.zone_nest.append(-1)
            state.labels[keep & (base_labels == z)] = new
        draw(state, int(spec.zones), spec.seed)
        state.zone_nest = [int(z) for z in state.zone_nest]
    # Compact: zones emptied by the repair are dropped; the order of the rest is kept.
    used = sorted(set(state.labels[state.labels >= 0].tolist()))
    renumber = {z: i for i, z in enumerate(used)}
    start = np.array([renumber.get(int(z), -1) for z in state.labels.tolist()], dtype=np.int32)
    zone_codes = tuple(state.zone_codes[z] for z in used)
    zone_names = tuple(state.zone_names[z] for z in used)
    zone_nest = np.array([state.zone_nest[z] for z in used], dtype=np.int64)
    for z in range(len(used)):
        members = movable & (start == z)
        if members.any():
            zone_nest[z] = int(nest[np.nonzero(members)[0][0]])
    # A drawn start (a chosen number of zones) is not a repair of the base layer: nothing to report.
    found = repairs(state, base_labels, base_codes, base_names) if spec.zones == "today" else []

    # -- units and the chain graph ----------------------------------------------------------------------
    tie = [rows for rows in groups]
    for row in np.nonzero(exclave & movable)[0].tolist():
        if len(neighbours[row]):
            continue
        mates = np.nonzero((start == start[row]) & movable & ~exclave)[0]
        if len(mates):
            tie.append(np.array([row, int(mates[np.argmax(population[mates])])]))
    units_all = build_units(n, tie)
    # Zones that are only fixed municipalities (a large municipality's own zone) never change: out of the chain.
    free_zone = np.zeros(len(zone_codes), dtype=bool)
    for z in range(len(zone_codes)):
        members = start == z
        free_zone[z] = bool((members & movable & ~fixed).any())
    in_chain = movable & (start >= 0) & free_zone[np.maximum(start, 0)]
    chain_units = sorted(set(units_all[in_chain].tolist()))
    renumber_units = {u: i for i, u in enumerate(chain_units)}
    units = np.array([renumber_units[int(u)] if in_chain[i] else -1 for i, u in enumerate(units_all.tolist())],
                     dtype=np.int64)
    unit_population = np.bincount(units[in_chain], weights=population[in_chain], minlength=len(chain_units))
    unit_fixed = np.zeros(len(chain_units), dtype=bool)
    unit_fixed[units[in_chain & fixed]] = True
    graph_edges = unit_edges(units, edges, nest, in_chain)
    counts: dict[str, int] = {}
    for z in range(len(zone_codes)):
        if zone_nest[z] >= 0:
            counts[nest_codes[zone_nest[z]]] = counts.get(nest_codes[zone_nest[z]], 0) + 1
    references = association_layer()
    return Problem(
        spec=spec, base_layer_id=spec.base_layer, base_layer_name=base.name,
        nest_id=None if nest_layer is None else nest_layer.id,
        nest_name="" if nest_layer is None else nest_layer.name, population_year=atoms.population_year,
        nis=nis, names=tuple(names), population=population, flemish=flemish, start=start,
        zone_codes=zone_codes, zone_names=zone_names, zone_nest=zone_nest,
        base_zone_codes=tuple(base_codes), base_zone_names=tuple(base_names), base_labels=base_labels,
        nest_codes=nest_codes, nest_names=nest_names, nest=nest, lower=lower, upper=upper, norm_label=label,
        movable=movable, fixed=fixed, large=large, units=units, unit_population=unit_population,
        unit_edges=graph_edges, in_chain=in_chain, unit_fixed=unit_fixed, edges=edges, exclave=exclave,
        repairs=tuple(found), measures=measure_data(workspace.layer(references), population, flemish,
                                                        nest if nest_layer is not None else None),
        zone_counts=counts)
