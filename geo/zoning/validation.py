"""Validation of a zoning: assignment, contiguity, population bounds and nesting.

A zoning (a shipped layer, an imported one or a scenario) is checked on four questions a
planner asks before proposing it:

1. **Assignment**: is every municipality of the territory in exactly one zone? Gaps (in no
   zone), doubles (in two or more) and partial memberships are listed by NIS code.
2. **Contiguity**: is every zone one connected piece on the municipal adjacency graph
   (:func:`geo.geometry.polygons.adjacency`, shared border longer than 10 m)? A zone's main piece is the
   one with the most inhabitants; every other piece is listed with a status:

   * ``exclave``: the piece consists only of municipalities that are cut off from their
     neighbours by a national or regional border (:data:`EXCLAVES`, and any municipality
     without a Flemish or Brussels neighbour, such as Voeren). Accepted, named, never an error.
   * ``inherited``: a scenario keeps a detached piece its base layer already had (for example
     Knokke-Heist and Blankenberge in the primary care zone Oostkust, separated by Brugge's
     port). Reported, not an error of the scenario.
   * ``violation``: anything else.
3. **Population**: zones outside the bounds (defaults from :mod:`geo.reference.norms`, configurable).
   Zones made only of Brussels municipalities are shown but not judged.
4. **Nesting**: does every zone lie inside one zone of a higher layer (for example every
   primary care zone in one reference region)? Violations list the higher zones touched with
   the members and inhabitants in each.

Examples
--------
>>> from geo.reference.catalog import load_catalog
>>> catalog = load_catalog()
>>> report = validate(catalog.layer("eerstelijnszone"), nest_in=[catalog.layer("referentieregio")])
>>> report.territory.label
'Vlaams Gewest + Brussels Hoofdstedelijk Gewest'
>>> [p.status for z in report.contiguity for p in z.pieces if 73109 in p.nis_codes]
['exclave']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Iterable, Literal

import numpy as np
import pandas as pd

from geo import dutch
from geo.engine.atoms import Atoms
from geo.engine.layer import Layer
from geo.engine.overlay import overlay
from geo.errors import InvalidInput
from geo.geometry.polygons import adjacency
from geo.reference.norms import PopulationNorm, check_population, norm_for

if TYPE_CHECKING:
    import networkx as nx

TerritoryChoice = Literal["auto", "flanders", "flanders_brussels"]
PieceStatus = Literal["main", "exclave", "inherited", "violation"]

# Municipalities whose territory is cut off from the rest of Flanders by a border. They are
# named here so that a zone containing them is never reported as "not contiguous" because of
# them. Baarle-Hertog's enclaves lie in the Netherlands; its section Zondereigen does touch
# Belgian municipalities in the 2025 polygons, so it is usually connected anyway.
EXCLAVES: dict[int, str] = {
    13002: "Baarle-Hertog: enclaves in Nederland",
    73109: "Voeren: van de rest van Limburg gescheiden door Wallonië en Nederland",
}
SHARE_TOLERANCE = 1e-6


# -- territory ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Territory:
    """The municipalities a check is about, with a label that says which they are."""

    label: str
    mask: np.ndarray = field(repr=False, compare=False)

    @property
    def size(self) -> int:
        """Number of municipalities in the territory."""
        return int(self.mask.sum())

    def as_dict(self) -> dict:
        """The territory as a JSON-ready dict."""
        return {"label": self.label, "municipalities": self.size}


def territory_for(layer: Layer, choice: TerritoryChoice = "auto") -> Territory:
    """The territory a layer should cover exactly once.

    ``auto``: the Flemish municipalities, plus the Brussels ones when the layer puts at least one
    Brussels municipality in a zone (Brussels is outside the Flemish local social policy decree,
    so a Flemish-only layer is not blamed for leaving it out).
    """
    flemish = layer.atoms.flemish
    if choice == "flanders":
        covers_brussels = False
    elif choice == "flanders_brussels":
        covers_brussels = True
    elif choice == "auto":
        covers_brussels = bool((layer.coverage()[~flemish] > 0).any())
    else:
        raise InvalidInput(f"unknown territory {choice!r}; expected auto, flanders or flanders_brussels")
    if covers_brussels:
        return Territory("Vlaams Gewest + Brussels Hoofdstedelijk Gewest", np.ones(len(layer.atoms), dtype=bool))
    return Territory("Vlaams Gewest", flemish.copy())


# -- assignment --------------------------------------------------------------------------------
@dataclass(frozen=True)
class AssignmentCheck:
    """Municipalities of the territory in no zone, in several zones, or only partly covered."""

    gaps: list[dict]
    doubles: list[dict]
    partial: list[dict]
    outside_territory: list[dict]

    @property
    def ok(self) -> bool:
        """Whether there are no gaps, doubles or partial memberships."""
        return not (self.gaps or self.doubles or self.partial)


def check_assignment(layer: Layer, territory: Territory) -> AssignmentCheck:
    """Every municipality of ``territory`` in exactly one zone with share 1?

    Examples
    --------
    >>> layer = catalog.layer("igs_woonbeleid")
    >>> len(check_assignment(layer, territory_for(layer)).gaps)
    22
    """
    atoms = layer.atoms
    coverage = layer.coverage()
    counts = np.diff(layer.membership.tocsr().indptr)
    gaps, doubles, partial, outside = [], [], [], []
    for row in np.nonzero(territory.mask)[0]:
        nis = int(atoms.nis_codes[row])
        entry = {"nis_code": nis, "municipality": str(atoms.names[row]),
                 "population": int(atoms.table["population"].iloc[row])}
        if counts[row] == 0:
            gaps.append(entry)
        elif counts[row] > 1:
            doubles.append({**entry, "zones": [c for c, _, _ in layer.zones_of(nis)]})
        elif abs(coverage[row] - 1.0) > SHARE_TOLERANCE:
            partial.append({**entry, "zones": [c for c, _, _ in layer.zones_of(nis)],
                            "share": round(float(coverage[row]), 6)})
    for row in np.nonzero(~territory.mask & (counts > 0))[0]:
        nis = int(atoms.nis_codes[row])
        outside.append({"nis_code": nis, "municipality": str(atoms.names[row]),
                        "zones": [c for c, _, _ in layer.zones_of(nis)]})
    return AssignmentCheck(gaps, doubles, partial, outside)


# -- contiguity --------------------------------------------------------------------------------
def adjacency_graph(atoms: Atoms) -> nx.Graph:
    """The municipal adjacency graph (nodes: NIS codes of ``atoms``), cached per atoms object."""
    return _graph(atoms)


@lru_cache(maxsize=4)
def _graph(atoms: Atoms) -> nx.Graph:
    import networkx as nx  # here, not at start-up: 0.15 s of import the first request does not need

    graph = nx.Graph()
    graph.add_nodes_from(int(c) for c in atoms.nis_codes)
    pairs = adjacency()
    known = set(graph.nodes)
    graph.add_edges_from((int(a), int(b)) for a, b in zip(pairs["nis_a"], pairs["nis_b"])
                         if a in known and b in known)
    return graph


def exclaves(graph: nx.Graph) -> dict[int, str]:
    """Named exclave municipalities: :data:`EXCLAVES` plus any municipality without a neighbour."""
    found = {c: reason for c, reason in EXCLAVES.items() if c in graph}
    for node in sorted(graph.nodes):
        if graph.degree(node) == 0 and node not in found:
            found[int(node)] = "geen Vlaamse of Brusselse buurgemeente"
    return found


@dataclass(frozen=True)
class Piece:
    """A connected piece of a zone."""

    nis_codes: tuple[int, ...]
    population: int
    status: PieceStatus
    reason: str = ""

    def as_dict(self, atoms: Atoms) -> dict:
        """The piece as a JSON-ready dict (names from ``atoms``)."""
        return {"nis_codes": list(self.nis_codes),
                "municipalities": [atoms.name(c) for c in self.nis_codes],
                "population": self.population, "status": self.status, "reason": self.reason}


@dataclass(frozen=True)
class ZoneContiguity:
    """A zone that is not one connected piece."""

    code: str
    name: str
    pieces: list[Piece]

    @property
    def violations(self) -> list[Piece]:
        """The pieces that violate the rule."""
        return [p for p in self.pieces if p.status == "violation"]


def zone_pieces(nis_codes: Iterable[int], graph: nx.Graph, population: dict[int, int]) -> list[tuple[int, ...]]:
    """Connected pieces of a set of municipalities, main piece (most inhabitants) first.

    Ties are broken by size, then by the smallest NIS code, so the order is deterministic.
    """
    codes = [int(c) for c in nis_codes]
    import networkx as nx

    pieces = [tuple(sorted(p)) for p in nx.connected_components(graph.subgraph(codes))]
    return sorted(pieces, key=lambda p: (-sum(population[c] for c in p), -len(p), p[0]))


def classify_pieces(pieces: list[tuple[int, ...]], graph_exclaves: dict[int, str],
                    base_pieces: list[tuple[int, ...]] | None, population: dict[int, int]) -> list[Piece]:
    """Status of each piece of one zone (see the module docstring)."""
    inherited = set(base_pieces[1:]) if base_pieces else set()
    out = []
    for i, piece in enumerate(pieces):
        weight = int(sum(population[c] for c in piece))
        if i == 0:
            out.append(Piece(piece, weight, "main"))
        elif all(c in graph_exclaves for c in piece):
            out.append(Piece(piece, weight, "exclave", "; ".join(graph_exclaves[c] for c in piece)))
        elif piece in inherited:
            out.append(Piece(piece, weight, "inherited", "dit losliggende deel bestaat al in de basislaag"))
        else:
            out.append(Piece(piece, weight, "violation", "niet verbonden met de rest van de zone"))
    return out


def zone_member_codes(layer: Layer) -> dict[str, list[int]]:
    """Per zone code: the NIS codes of its members (any share)."""
    members = layer.members()
    grouped = members.groupby("zone_code", sort=False)["nis_code"].apply(list).to_dict()
    return {code: [int(c) for c in grouped.get(code, [])] for code in layer.zone_codes}


def check_contiguity(layer: Layer, base: Layer | None = None, graph: nx.Graph | None = None) -> list[ZoneContiguity]:
    """Zones of ``layer`` that are in more than one piece (connected zones are not listed).

    With ``base`` (the layer a scenario was made from), detached pieces the base zone with the
    same code already had are ``inherited``.
    """
    graph = graph if graph is not None else adjacency_graph(layer.atoms)
    population = {int(c): int(p) for c, p in layer.atoms.table["population"].items()}
    known_exclaves = exclaves(graph)
    members = zone_member_codes(layer)
    base_members = zone_member_codes(base) if base is not None else {}
    out = []
    for code, codes in members.items():
        pieces = zone_pieces(codes, graph, population)
        if len(pieces) <= 1:
            continue
        base_pieces = zone_pieces(base_members[code], graph, population) if code in base_members else None
        out.append(ZoneContiguity(code, layer.zone_name(code),
                                  classify_pieces(pieces, known_exclaves, base_pieces, population)))
    return out


# -- nesting -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class NestingCheck:
    """Zones of a layer that do not lie inside one zone of ``parent``."""

    parent_id: str
    parent_name: str
    violations: list[dict]
    not_judged: list[str]


def check_nesting(layer: Layer, parent: Layer) -> NestingCheck:
    """Each zone inside one zone of ``parent``? Violations list the parent zones touched.

    Zones without a Flemish municipality are not judged (Brussels is shown, not judged).

    Examples
    --------
    >>> nesting = check_nesting(catalog.layer("eerstelijnszone"), catalog.layer("referentieregio"))
    >>> [v["code"] for v in nesting.violations]
    ['elz11', 'elz16', 'elz40', 'elz45', 'elz48', 'elz50']
    """
    result = overlay(layer, parent, "population")
    flemish_zones = layer.flemish_zones()
    violations, not_judged = [], []
    for i, detail in enumerate(result.details()):
        if not flemish_zones[i]:
            not_judged.append(detail.code)
            continue
        if detail.nested:
            continue
        violations.append({
            "code": detail.code, "name": detail.name, "population": int(round(detail.weight)),
            "dominant_zone": detail.dominant_zone, "dominant_share": round(detail.dominant_share, 6),
            "zones_touched": [{"code": z.code, "name": z.name, "population": int(round(z.weight)),
                               "members": [{"nis_code": m.nis_code, "municipality": m.name,
                                            "population": int(round(m.weight))} for m in z.members]}
                              for z in detail.zones_touched],
            "not_covered": [{"nis_code": m.nis_code, "municipality": m.name, "population": int(round(m.weight))}
                            for m in detail.not_covered],
        })
    return NestingCheck(parent.id, parent.name, violations, not_judged)


# -- population --------------------------------------------------------------------------------
def check_bounds(layer: Layer, norm: PopulationNorm) -> list[dict]:
    """Zones outside the population bounds (Brussels-only zones are not judged)."""
    table = check_population(layer, norm, flemish_only=True)
    out = []
    for row in table[~table["passes"]].itertuples():
        population = float(row.population)
        side = "below_minimum" if norm.minimum is not None and population < norm.minimum else "above_maximum"
        out.append({"code": str(row.code), "name": str(row.name), "population": int(round(population)),
                    "problem": side, "minimum": norm.minimum, "maximum": norm.maximum})
    return out


def make_norm(minimum: int | None = None, maximum: int | None = None,
              default: PopulationNorm | None = None) -> PopulationNorm | None:
    """A norm from explicit bounds; a bound not given is taken from ``default``.

    ``default`` itself is returned when neither bound is given. Pass ``minimum=0`` to drop a
    default minimum.

    Examples
    --------
    >>> make_norm(None, 125_000, PopulationNorm("x", 60_000)).minimum
    60000
    """
    if minimum is None and maximum is None:
        return default
    if default is not None:
        minimum = default.minimum if minimum is None else minimum
        maximum = default.maximum if maximum is None else maximum
    minimum = minimum or None  # 0 means no lower bound
    if (minimum is not None and minimum < 0) or (maximum is not None and maximum < 0):
        raise InvalidInput("population bounds cannot be negative")
    low = dutch.number(minimum) if minimum is not None else None
    high = dutch.number(maximum) if maximum is not None else None
    label = (f"{low} tot {high} inwoners" if low and high else f"minstens {low} inwoners" if low
             else f"hoogstens {high} inwoners")
    return PopulationNorm(label, minimum, maximum, "opgegeven door de gebruiker")


# -- the report --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ValidationReport:
    """The four checks of one layer; ``valid`` when none has an error.

    Exclave and inherited pieces, and Brussels zones that are not judged, are information, not
    errors.
    """

    layer: Layer
    territory: Territory
    assignment: AssignmentCheck
    contiguity: list[ZoneContiguity]
    norm: PopulationNorm | None
    population: list[dict]
    nesting: list[NestingCheck]
    base_id: str | None = None

    @property
    def errors(self) -> dict[str, int]:
        """Number of problems of each kind."""
        return {
            "gaps": len(self.assignment.gaps),
            "doubles": len(self.assignment.doubles),
            "partial": len(self.assignment.partial),
            "not_contiguous": sum(len(z.violations) for z in self.contiguity),
            "population": len(self.population),
            "not_nested": sum(len(n.violations) for n in self.nesting),
        }

    @property
    def valid(self) -> bool:
        """Whether there are no problems at all."""
        return not any(self.errors.values())

    def as_dict(self) -> dict:
        """The validation as a JSON-ready dict."""
        atoms = self.layer.atoms
        return {
            "layer": self.layer.id,
            "layer_name": self.layer.name,
            "base_layer": self.base_id,
            "valid": self.valid,
            "errors": self.errors,
            "territory": self.territory.as_dict(),
            "population_year": atoms.population_year,
            "assignment": {"gaps": self.assignment.gaps, "doubles": self.assignment.doubles,
                           "partial": self.assignment.partial,
                           "outside_territory": self.assignment.outside_territory},
            "contiguity": [{"code": z.code, "name": z.name, "pieces": [p.as_dict(atoms) for p in z.pieces]}
                           for z in self.contiguity],
            "population": {
                "norm": None if self.norm is None else {"label": self.norm.label, "minimum": self.norm.minimum,
                                                        "maximum": self.norm.maximum, "source": self.norm.source},
                "violations": self.population,
            },
            "nesting": [{"parent": n.parent_id, "parent_name": n.parent_name, "violations": n.violations,
                         "not_judged": n.not_judged} for n in self.nesting],
        }

    def rows(self) -> pd.DataFrame:
        """One row per finding, for CSV and the command line."""
        rows = []
        for kind in ("gaps", "doubles", "partial"):
            for m in getattr(self.assignment, kind):
                rows.append({"check": "assignment", "status": kind, "zone": ",".join(m.get("zones", [])),
                             "nis_codes": str(m["nis_code"]), "municipalities": m["municipality"],
                             "population": m["population"], "detail": ""})
        for z in self.contiguity:
            for p in z.pieces[1:]:
                rows.append({"check": "contiguity", "status": p.status, "zone": z.code,
                             "nis_codes": " ".join(map(str, p.nis_codes)),
                             "municipalities": ", ".join(self.layer.atoms.name(c) for c in p.nis_codes),
                             "population": p.population, "detail": p.reason})
        for v in self.population:
            rows.append({"check": "population", "status": v["problem"], "zone": v["code"], "nis_codes": "",
                         "municipalities": v["name"], "population": v["population"],
                         "detail": self.norm.label if self.norm else ""})
        for n in self.nesting:
            for v in n.violations:
                rows.append({"check": f"nesting:{n.parent_id}", "status": "not_nested", "zone": v["code"],
                             "nis_codes": "", "municipalities": v["name"], "population": v["population"],
                             "detail": "; ".join(f"{z['code']} ({z['population']})" for z in v["zones_touched"])})
        return pd.DataFrame(rows, columns=["check", "status", "zone", "nis_codes", "municipalities",
                                           "population", "detail"])


def validate(layer: Layer, *, base: Layer | None = None, norm: PopulationNorm | None | Literal["default"] = "default",
             nest_in: Iterable[Layer] = (), territory: TerritoryChoice = "auto",
             graph: nx.Graph | None = None) -> ValidationReport:
    """Run the four checks on a layer or scenario.

    Parameters
    ----------
    layer : Layer
        The zoning to check.
    base : Layer, optional
        The layer a scenario was made from: detached pieces it already had are ``inherited``,
        and its default population norm applies.
    norm : PopulationNorm, None or "default"
        Population bounds; ``"default"`` takes :func:`geo.reference.norms.default_norms` for the layer (or
        its base), ``None`` skips the check.
    nest_in : iterable of Layer
        Higher layers each zone should lie inside.
    territory : {"auto", "flanders", "flanders_brussels"}
        Which municipalities must be assigned exactly once (see :func:`territory_for`).

    Examples
    --------
    >>> report = validate(catalog.layer("eerstelijnszone"))
    >>> report.errors["gaps"], report.errors["doubles"]
    (0, 0)
    """
    if norm == "default":
        norm = norm_for(layer, base.id if base is not None else None)
    chosen = territory_for(layer, territory)
    return ValidationReport(
        layer=layer,
        territory=chosen,
        assignment=check_assignment(layer, chosen),
        contiguity=check_contiguity(layer, base, graph),
        norm=norm,
        population=check_bounds(layer, norm) if norm is not None else [],
        nesting=[check_nesting(layer, parent) for parent in nest_in],
        base_id=base.id if base is not None else None,
    )
