"""Making the chain's start valid: a deterministic repair of the base zoning, reported move by move.

Today's primary care zones do not all meet the rules an ensemble draws under: six of the 57 cross
a reference-region line and Oostkust is in two pieces (Knokke-Heist and Blankenberge are separated
by Brugge's port). A Markov chain must start from a valid plan, so the base zoning is repaired,
always the same way, and every municipality that had to move is reported (:class:`Repair`):

1. **nesting**: each zone belongs to the nest zone (reference region) holding most of its
   inhabitants; its municipalities in another nest zone leave it;
2. **large municipalities**: with an upper bound, a municipality above it (Antwerpen, 555,399
   inhabitants, against 125,000 in the 2018 call) is a zone of its own and never moves: the other
   members of its zone leave it;
3. **placing**: every municipality that left joins the adjacent zone of its own nest zone with the
   fewest inhabitants (ties: the first zone); where none is adjacent, the municipalities left form a
   new zone;
4. **together**: a group that must stay together joins the zone of its most populous member;
5. **contiguity**: a detached piece of a zone (not only exclaves such as Voeren) leaves it and is
   placed as in 3;
6. **population**: a zone below the lower bound merges with its adjacent zone (same nest zone) with
   the fewest inhabitants; a zone of several municipalities above the upper bound first hands a
   border municipality to an adjacent zone with room, else is split in two by GerryChain's tree
   bipartition (seeded, so deterministic), else its nest zone's zones are redrawn from scratch
   (same number where the bounds allow).

Steps 3 to 6 repeat until nothing changes. Municipalities that are fixed stay where they are; a
fixed municipality the repair would have to move (it lies on the wrong side of a region line, or
in a detached piece of its zone) is refused at once (:class:`~geo.errors.InvalidInput`): fixed
there, it cuts its zone in two.

With a chosen total number of zones (``zones=<int>``) the start is drawn instead: the total is
shared over the nest zones by population (each nest zone gets at least one zone and no more than
its bounds and municipalities allow) and each nest zone is cut by GerryChain's tree bipartition,
one zone at a time, seeded.
"""

from __future__ import annotations

import math
import random
import warnings
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from geo import dutch
from geo.ensemble.graph import components
from geo.errors import InvalidInput

REASONS = {
    "nesting": "lag in een zone die grotendeels in een andere referentieregio ligt",
    "large": "moest wijken voor een gemeente die groter is dan de bovengrens en een eigen zone vormt",
    "together": "hoort bij een groep die samen in één zone blijft",
    "contiguity": "lag in een los stuk van de zone",
    "population": "lag in een zone onder de ondergrens, die samengevoegd werd met een buurzone",
    "split": "lag in een zone boven de bovengrens, die in twee gesplitst werd",
    "shift": "lag aan de rand van een zone boven de bovengrens en ging naar een buurzone met ruimte",
    "redraw": "lag in een referentieregio waarvan de zones binnen de bevolkingsgrenzen hertekend werden",
    "gap": "lag in geen enkele zone",
}
MAX_ROUNDS = 2_000
SPLIT_SEED = 20261207
REDRAW_TRIES = 8


@dataclass(frozen=True)
class Repair:
    """One municipality moved to make the start valid.

    ``from_zone`` is its zone code in the base layer (None: in no zone); ``to_zone`` its zone code
    in the valid start; ``reason`` one of :data:`REASONS` (the first reason it had to move).
    """

    nis_code: int
    municipality: str
    population: int
    from_zone: str | None
    to_zone: str
    reason: str
    explanation: str

    def to_dict(self) -> dict:
        """The move as a JSON-ready dict."""
        return {"nis_code": self.nis_code, "municipality": self.municipality, "population": self.population,
                "from_zone": self.from_zone, "to_zone": self.to_zone, "reason": self.reason,
                "explanation": self.explanation}


@dataclass
class StartState:
    """The working state of the repair (positions are atom positions)."""

    labels: np.ndarray            # zone index per atom, -1: in no zone
    zone_codes: list[str]
    zone_names: list[str]
    zone_nest: list[int]          # nest zone index per zone, -1: not judged (Brussels)
    movable: np.ndarray           # atoms the ensemble may move (Flemish, in the territory)
    nest: np.ndarray              # nest zone index per atom (-1: none)
    nest_names: list[str]
    population: np.ndarray
    neighbours: list[np.ndarray]
    exclave: np.ndarray
    names: list[str]
    nis: np.ndarray
    lower: float
    upper: float | None
    fixed: np.ndarray             # bool per atom
    large: np.ndarray             # bool per atom: above the upper bound, own zone
    groups: list[np.ndarray]
    why: dict[int, str] = field(default_factory=dict)  # atom -> first reason it moved

    # -- helpers ---------------------------------------------------------------------------------
    def members(self, zone: int) -> np.ndarray:
        """Positions of the atoms in zone ``zone``."""
        return np.nonzero(self.labels == zone)[0]

    def zone_population(self, zone: int) -> float:
        """Population of zone ``zone``."""
        return float(self.population[self.labels == zone].sum())

    def upper_bound(self) -> float:
        """The upper bound, for the steps that run only when there is one (shifting out, splitting)."""
        if self.upper is None:
            raise ValueError("this step needs an upper bound and the rules have none")
        return float(self.upper)

    def new_zone(self, nest: int, like: str | None = None) -> int:
        """Add a new zone (``nieuw-N``) in nest zone ``nest`` and return its number."""
        number = sum(code.startswith("nieuw-") for code in self.zone_codes) + 1
        self.zone_codes.append(f"nieuw-{number}")
        where = self.nest_names[nest] if nest >= 0 else "het gebied"
        self.zone_names.append(f"Nieuwe zone {number} ({where})")
        self.zone_nest.append(nest)
        return len(self.zone_codes) - 1

    def move(self, atom: int, zone: int, reason: str) -> None:
        """Put ``atom`` in ``zone``, remembering the first reason it was moved."""
        if self.labels[atom] != zone:
            self.why.setdefault(atom, reason)
            self.labels[atom] = zone

    def refuse_fixed(self, atom: int, zone: int, what: str) -> None:
        """Raise InvalidInput: the fixed municipality ``atom`` cannot stay in ``zone`` because it ``what``."""
        raise InvalidInput(
            f"Vaste gemeente {self.names[atom]} ({int(self.nis[atom])}) kan niet in zone "
            f"{self.zone_names[zone]} blijven: ze {what}. Zo vastgezet snijdt ze de zone in twee; "
            "maak ze los of kies een andere beginindeling.")


def nest_of_zones(state: StartState) -> None:
    """Step 1's first half: each zone's nest zone, by most inhabitants of its movable members."""
    for zone in range(len(state.zone_codes)):
        members = state.members(zone)
        members = members[state.movable[members]]
        if not len(members):
            continue
        weights: dict[int, float] = {}
        for atom in members.tolist():
            weights[int(state.nest[atom])] = weights.get(int(state.nest[atom]), 0.0) + float(state.population[atom])
        state.zone_nest[zone] = min(weights, key=lambda k: (-weights[k], k))


def unplaced_for_nesting(state: StartState) -> list[int]:
    """Movable atoms in no zone or in a zone of another nest zone (refuses fixed ones)."""
    out = []
    for atom in np.nonzero(state.movable)[0].tolist():
        zone = int(state.labels[atom])
        if zone < 0:
            state.why.setdefault(atom, "gap")
            out.append(atom)
        elif state.zone_nest[zone] != state.nest[atom]:
            if state.fixed[atom]:
                state.refuse_fixed(atom, zone, f"ligt in {state.nest_names[state.nest[atom]]}, terwijl de zone "
                                               f"grotendeels in {state.nest_names[state.zone_nest[zone]]} ligt")
            state.why.setdefault(atom, "nesting")
            out.append(atom)
    return out


def unplaced_for_large(state: StartState) -> list[int]:
    """Atoms sharing a zone with a municipality above the upper bound (a second large one gets a new zone)."""
    out = []
    for atom in np.nonzero(state.large)[0].tolist():
        zone = int(state.labels[atom])
        others = [a for a in state.members(zone).tolist() if a != atom]
        if any(state.large[o] for o in others if o < atom):
            # a second large municipality in the same zone gets a zone of its own
            state.move(atom, state.new_zone(int(state.nest[atom])), "large")
            continue
        for other in others:
            if state.large[other]:
                continue
            if state.fixed[other]:
                state.refuse_fixed(other, zone, f"deelt haar zone met {state.names[atom]}, dat groter is dan de "
                                                "bovengrens en een eigen zone vormt")
            state.why.setdefault(other, "large")
            out.append(other)
    return out


def place(state: StartState, unplaced: list[int]) -> None:
    """Step 3: each unplaced atom joins the smallest adjacent zone of its own nest zone."""
    waiting = set(unplaced)
    for atom in waiting:
        state.labels[atom] = -1
    while waiting:
        progress = False
        for atom in sorted(waiting):
            options = set()
            for other in state.neighbours[atom].tolist():
                zone = int(state.labels[other])
                if (other not in waiting and zone >= 0 and state.movable[other] and not state.large[other]
                        and state.zone_nest[zone] == state.nest[atom]):
                    options.add(zone)
            if options:
                best = min(options, key=lambda z: (state.zone_population(z), z))
                state.labels[atom] = best
                waiting.discard(atom)
                progress = True
        if not progress:
            # Nothing adjacent to join: what is left forms new zones, one per connected piece.
            for piece in components(np.array(sorted(waiting)), state.neighbours):
                zone = state.new_zone(int(state.nest[piece[0]]))
                for atom in piece.tolist():
                    state.labels[atom] = zone
                    waiting.discard(atom)


def gather_groups(state: StartState) -> bool:
    """Put each group of atoms that must stay together in the zone of its most populous member."""
    changed = False
    for group in state.groups:
        lead = max(group.tolist(), key=lambda a: (state.population[a], -a))
        for atom in group.tolist():
            if state.labels[atom] != state.labels[lead]:
                state.move(atom, int(state.labels[lead]), "together")
                changed = True
    return changed


def detached(state: StartState) -> list[int]:
    """Step 5: atoms in a detached piece of their zone (pieces of only exclaves are accepted)."""
    out = []
    for zone in range(len(state.zone_codes)):
        members = state.members(zone)
        members = members[state.movable[members]]
        if len(members) < 2:
            continue
        pieces = components(members, state.neighbours)
        if len(pieces) < 2:
            continue
        pieces.sort(key=lambda p: (-float(state.population[p].sum()), -len(p), int(p[0])))
        for piece in pieces[1:]:
            if state.exclave[piece].all():
                continue
            for atom in piece.tolist():
                if state.fixed[atom]:
                    state.refuse_fixed(atom, zone, "ligt in een los stuk van die zone")
                state.why.setdefault(atom, "contiguity")
                out.append(atom)
    return out


def judged(state: StartState, zone: int) -> bool:
    """Whether zone ``zone`` has members and at least one of them may move."""
    members = state.members(zone)
    return bool(len(members)) and bool(state.movable[members].any())


def fix_population(state: StartState) -> bool:
    """Step 6: merge one zone below the lower bound, or split one above the upper bound."""
    zones = [z for z in range(len(state.zone_codes)) if judged(state, z)]
    small = [z for z in zones if state.zone_population(z) < state.lower]
    if small:
        zone = min(small, key=lambda z: (state.zone_population(z), z))
        members = state.members(zone)
        options = set()
        for atom in members.tolist():
            for other in state.neighbours[atom].tolist():
                target = int(state.labels[other])
                if (target != zone and target >= 0 and state.movable[other] and not state.large[other]
                        and state.zone_nest[target] == state.zone_nest[zone]):
                    options.add(target)
        if not options:
            nest = state.zone_nest[zone]
            raise InvalidInput(
                f"Bevolkingsgrenzen: zone {state.zone_names[zone]} telt "
                f"{dutch.inhabitants(state.zone_population(zone))}, "
                f"minder dan de ondergrens van {dutch.number(state.lower)}, en heeft geen buurzone in "
                f"{state.nest_names[nest] if nest >= 0 else 'hetzelfde gebied'} om mee samen te gaan.")
        # Merge into the smallest neighbour, keeping the neighbour's code (the larger zone's identity).
        target = min(options, key=lambda z: (state.zone_population(z), z))
        for atom in members.tolist():
            state.move(atom, target, "population")
        return True
    if state.upper is None:
        return False
    big = [z for z in zones if state.zone_population(z) > state.upper and len(state.members(z)) > 1]
    if not big:
        return False
    zone = big[0]
    if shift_out(state, zone):
        return True
    try:
        split_zone(state, zone)
    except InvalidInput:
        redraw(state, state.zone_nest[zone])
    return True


def shift_out(state: StartState, zone: int) -> bool:
    """Move one border municipality of a zone above the upper bound into an adjacent zone of the
    same nest zone that stays within the bounds (the zone left behind stays in one piece and above
    the lower bound). False when no such move exists."""
    members = state.members(zone)
    total = state.zone_population(zone)
    grouped = {int(a) for g in state.groups for a in g.tolist()}
    best = None
    for atom in members.tolist():
        if state.fixed[atom] or state.large[atom] or atom in grouped or not state.movable[atom]:
            continue
        weight = float(state.population[atom])
        if total - weight < state.lower:
            continue
        rest = members[members != atom]
        pieces = components(rest[state.movable[rest]], state.neighbours)
        if sum(not state.exclave[p].all() for p in pieces) > 1:
            continue
        for other in state.neighbours[atom].tolist():
            target = int(state.labels[other])
            if (target == zone or target < 0 or not state.movable[other] or state.large[other]
                    or state.zone_nest[target] != state.zone_nest[zone]):
                continue
            after = state.zone_population(target) + weight
            if after > state.upper_bound():
                continue
            key = (total - weight > state.upper_bound(), after, atom, target)
            if best is None or key < best[0]:
                best = (key, atom, target)
    if best is None:
        return False
    state.move(best[1], best[2], "shift")
    return True


def _members_graph(state: StartState, members: np.ndarray) -> tuple[Any, list[int], int | None]:
    """The adjacency graph of ``members`` (atoms), each node weighted by its population, for a
    balanced cut. A municipality without neighbours (Voeren) is left out and rides with the most
    populous member (``mate``): its inhabitants count there. Returns the graph, those left out and
    the mate (None when every member is alone)."""
    import networkx as nx

    graph = nx.Graph()
    inside = set(members.tolist())
    alone = [a for a in members.tolist() if not len(state.neighbours[a])]
    others = [a for a in members.tolist() if a not in alone]
    mate = max(others, key=lambda a: (state.population[a], -a)) if others else None
    for atom in others:
        extra = sum(float(state.population[x]) for x in alone) if atom == mate else 0.0
        graph.add_node(atom, population=float(state.population[atom]) + extra)
        for other in state.neighbours[atom].tolist():
            if other in inside and other > atom:
                graph.add_edge(atom, other)
    return graph, alone, mate


def redraw(state: StartState, nest: int) -> None:
    """The last resort of step 6: redraw the zones of one nest zone from scratch (GerryChain's tree
    bipartition, seeded), as many as it has (or the nearest number the bounds allow)."""
    zones = sorted({int(z) for z in state.labels[state.movable & (state.nest == nest)].tolist()})
    zones = [z for z in zones if not state.large[state.labels == z].any()]
    members = np.nonzero(state.movable & (state.nest == nest) & ~state.large)[0]
    total = float(state.population[members].sum())
    low = max(1, math.ceil(total / float(state.upper))) if state.upper else 1
    high = max(1, int(total // state.lower)) if state.lower > 0 else len(members)
    high = min(high, len(members))
    if high < low:
        raise InvalidInput(f"Bevolkingsgrenzen: {state.nest_names[nest]} ({dutch.inhabitants(total)}) "
                           "kan niet in zones "
                           f"van {dutch.number(state.lower)} tot {dutch.number(state.upper)} inwoners verdeeld worden.")
    # Aim at zones halfway between the bounds (a count at the edge of what the bounds allow leaves
    # almost no way to cut); try the nearest other counts after it.
    middle = total / ((state.lower + float(state.upper)) / 2.0) if state.upper else float(len(zones))
    counts = sorted(range(low, high + 1), key=lambda c: (abs(c - middle), c))
    graph, alone, mate = _members_graph(state, members)
    assignment = None
    # A greedy peel can leave a remainder no cut fits: a few seeded tries per count.
    for k, attempt in ((k, a) for k in counts[:3] for a in range(REDRAW_TRIES)):
        try:
            assignment = _peel(graph, list(range(k)), state.lower, state.upper, random.Random(SPLIT_SEED + attempt),
                               max_attempts=500)
            break
        except Exception:  # noqa: BLE001, S112 - GerryChain raises RuntimeError or its own errors when no cut exists
            continue
    if assignment is None:
        raise InvalidInput(f"Bevolkingsgrenzen: de zones van {state.nest_names[nest]} konden niet binnen "
                           f"{dutch.number(state.lower)} tot {dutch.number(state.upper)} inwoners en aaneengesloten "
                           "getekend worden.")
    while len(zones) < k:
        zones.append(state.new_zone(nest))
    assignment = {atom: zones[part] for atom, part in assignment.items()}
    for atom, zone in assignment.items():
        state.move(int(atom), int(zone), "redraw")
    for atom in alone:
        state.move(atom, int(state.labels[mate]) if mate is not None else zones[0], "redraw")


def split_zone(state: StartState, zone: int) -> None:
    """Split zone ``zone`` in two along a random spanning tree of its members (GerryChain)."""
    import networkx as nx
    from gerrychain.tree import bipartition_tree

    members = state.members(zone)
    graph = nx.Graph()
    for atom in members.tolist():
        graph.add_node(atom, population=float(state.population[atom]))
    inside = set(members.tolist())
    for atom in members.tolist():
        for other in state.neighbours[atom].tolist():
            if other in inside and other > atom:
                graph.add_edge(atom, other)
    total = float(state.population[members].sum())
    lower, upper = state.lower, state.upper_bound()
    # One side between max(lower, total - upper) and min(upper, total - lower): both sides in bounds.
    low, high = max(lower, total - upper), min(upper, total - lower)
    if low > high:
        raise InvalidInput(
            f"Bevolkingsgrenzen: zone {state.zone_names[zone]} telt {dutch.inhabitants(total)}, meer dan de "
            f"bovengrens van {dutch.number(upper)}, en kan niet in twee zones binnen de grenzen gesplitst worden.")
    from gerrychain import Graph

    target, epsilon = (low + high) / 2.0, (high - low) / (low + high) if low + high else 0.0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            part = bipartition_tree(Graph.from_networkx(graph), pop_col="population", pop_target=target,
                                    epsilon=epsilon, max_attempts=2000, rng=random.Random(SPLIT_SEED))
    except Exception:  # noqa: BLE001 - GerryChain raises RuntimeError or its own errors when no cut exists
        raise InvalidInput(
            f"Bevolkingsgrenzen: zone {state.zone_names[zone]} telt {dutch.inhabitants(total)}, meer dan de "
            f"bovengrens van {dutch.number(upper)}, en er werd geen splitsing binnen de grenzen gevonden.") from None
    new = state.new_zone(state.zone_nest[zone])
    nodes = sorted(int(n) for n in cast("set[int]", part))  # the graph's nodes are atom positions
    keep_fixed = any(state.fixed[a] for a in members.tolist() if a not in nodes)
    moving = nodes if not any(state.fixed[a] for a in nodes) or not keep_fixed else None
    if moving is None:
        raise InvalidInput(f"Vaste gemeenten liggen aan beide kanten van de enige splitsing van zone "
                           f"{state.zone_names[zone]} binnen de bevolkingsgrenzen.")
    if any(state.fixed[a] for a in moving):
        moving = [a for a in members.tolist() if a not in set(nodes)]
    for atom in moving:
        state.move(atom, new, "split")


def repair(state: StartState) -> StartState:
    """Run steps 1 to 6 (see the module docstring) in place and return the state."""
    nest_of_zones(state)
    place(state, unplaced_for_nesting(state) + unplaced_for_large(state))
    for _ in range(MAX_ROUNDS):
        changed = gather_groups(state)
        pieces = detached(state)
        if pieces:
            place(state, pieces)
            changed = True
        if not changed:
            changed = fix_population(state)
        if not changed:
            return state
    raise InvalidInput("Er kon geen geldige beginindeling gemaakt worden binnen de regels "
                       f"(na {MAX_ROUNDS} herstelrondes); verruim de bevolkingsgrenzen.")


def draw(state: StartState, total: int, seed: int) -> StartState:
    """A start with ``total`` zones (``zones=<int>``): shared over the nest zones, each cut by
    GerryChain's tree bipartition, one zone at a time (:func:`_peel`)."""
    nests = sorted({int(n) for n in state.nest[state.movable].tolist()})
    large = state.large & state.movable
    pops = {n: float(state.population[state.movable & (state.nest == n)].sum()) for n in nests}
    own = {n: int((large & (state.nest == n)).sum()) for n in nests}
    rest = {n: pops[n] - float(state.population[large & (state.nest == n)].sum()) for n in nests}
    count = {n: int((state.movable & ~large & (state.nest == n)).sum()) for n in nests}
    lowest = {n: own[n] + (max(1, math.ceil(rest[n] / state.upper)) if state.upper and rest[n] > 0
                           else (1 if rest[n] > 0 else 0)) for n in nests}
    highest = {n: own[n] + min(count[n], int(rest[n] // state.lower) if state.lower > 0 else count[n]) for n in nests}
    for n in nests:
        if highest[n] < lowest[n]:
            raise InvalidInput(f"Bevolkingsgrenzen: in {state.nest_names[n]} ({dutch.inhabitants(pops[n])}) kan geen "
                               f"enkele indeling in zones van {dutch.number(state.lower)} tot "
                               f"{dutch.number(state.upper) if state.upper else 'onbeperkt'} inwoners.")
    if total < sum(lowest.values()) or total > sum(highest.values()):
        raise InvalidInput(f"Aantal zones: {total} kan niet binnen de regels; met deze bevolkingsgrenzen, "
                           f"de {len(nests)} referentieregio's en hun gemeenten kan het van {sum(lowest.values())} "
                           f"tot {sum(highest.values())}.")
    share = dict(lowest)
    while sum(share.values()) < total:  # D'Hondt on population, within each nest zone's room
        open_ = [n for n in nests if share[n] < highest[n]]
        pick = max(open_, key=lambda n: (pops[n] / (share[n] + 1), -n))
        share[pick] += 1
    labels = np.full(len(state.labels), -1, dtype=np.int64)
    labels[~state.movable] = state.labels[~state.movable]
    state.labels = labels
    rng = random.Random(seed)
    for n in nests:
        for atom in np.nonzero(large & (state.nest == n))[0].tolist():
            state.labels[atom] = state.new_zone(n)
        members = np.nonzero(state.movable & ~large & (state.nest == n))[0]
        k = share[n] - own[n]
        if not len(members):
            continue
        graph, alone, mate = _members_graph(state, members)
        zones = [state.new_zone(n) for _ in range(k)]
        if k == 1:
            for atom in members.tolist():
                state.labels[atom] = zones[0]
            continue
        try:
            assignment = _peel(graph, zones, state.lower, state.upper, rng)
        except Exception:  # noqa: BLE001 - GerryChain raises RuntimeError or its own errors when no cut exists
            raise InvalidInput(f"Aantal zones: {state.nest_names[n]} kon niet in {k} samenhangende zones binnen de "
                               "bevolkingsgrenzen verdeeld worden.") from None
        for atom, zone in assignment.items():
            state.labels[int(atom)] = int(zone)
        for atom in alone:
            state.labels[atom] = state.labels[mate] if mate is not None else zones[0]
    return state


def _peel(graph, zones: list[int], lower: float, upper: float | None, rng: random.Random,
          max_attempts: int = 5000) -> dict:
    """Cut a connected graph into ``len(zones)`` connected zones within the bounds: GerryChain's
    ``bipartition_tree`` peels one zone at a time (its ``recursive_tree_part`` aims every zone at one
    target, which a municipality larger than the target, such as Antwerpen, can never meet)."""
    from gerrychain import Graph
    from gerrychain.tree import bipartition_tree

    remaining = set(graph.nodes)
    out: dict[int, int] = {}
    for i, zone in enumerate(zones):
        left = len(zones) - i
        total = float(sum(graph.nodes[v]["population"] for v in remaining))
        if left == 1:
            for node in remaining:
                out[node] = zone
            break
        # This zone: at least the lower bound, leaving at least the lower bound for each zone after it
        # and, with an upper bound, no more than the upper bound for each of them.
        low = max(lower, total - (left - 1) * upper) if upper else lower
        high = total - (left - 1) * lower
        if upper:
            high = min(high, upper)
        low = max(low, 1.0)
        sub = Graph.from_networkx(graph.subgraph(sorted(remaining)).copy())
        target, epsilon = (low + high) / 2.0, (high - low) / (high + low)
        with warnings.catch_warnings():  # a hard cut is expected here: a failure is handled, not a warning
            warnings.simplefilter("ignore")
            cut = bipartition_tree(sub, pop_col="population", pop_target=target, epsilon=epsilon,
                                   single_district_cut=(left > 2), max_attempts=max_attempts, rng=rng)
        nodes = {int(v) for v in cast("set[int]", cut)}
        for node in nodes:
            out[node] = zone
        remaining -= nodes
    return out


def repairs(state: StartState, base_labels: np.ndarray, base_codes: list[str], base_names: list[str]) -> list[Repair]:
    """What changed between the base zoning and the valid start, one entry per municipality."""
    out = []
    for atom in np.nonzero(state.movable)[0].tolist():
        before = int(base_labels[atom])
        after = int(state.labels[atom])
        before_code = base_codes[before] if before >= 0 else None
        after_code = state.zone_codes[after]
        if before_code == after_code:
            continue
        reason = state.why.get(atom, "population")
        before_name = base_names[before] if before >= 0 else "geen zone"
        text = f"{state.names[atom]} {REASONS[reason]}: van {before_name} naar {state.zone_names[after]}."
        out.append(Repair(int(state.nis[atom]), state.names[atom], int(state.population[atom]), before_code,
                          after_code, reason, text))
    return out
