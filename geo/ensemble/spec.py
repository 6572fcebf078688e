"""The rules of an ensemble: what a valid zoning is, how many plans to draw, and the caps.

An :class:`EnsembleSpec` names the layer whose zonings are drawn (``base_layer``: a shipped or
imported layer, or ``scenario:<id>`` as the starting point), the layer each zone must lie inside
(``nest_in``, by default the layer with role ``nesting`` in ``data/layers.json``: the 15
reference regions), how many zones, the population bounds (by default the base layer's norm,
:func:`geo.reference.norms.norm_for`), municipalities that never move and groups that stay in
one zone, and how many plans and chains to draw from which seed.

Plans, chains and running time are capped (:data:`MAX_PLANS`, :data:`MAX_CHAINS`,
:data:`MAX_SECONDS`); :meth:`EnsembleSpec.check` refuses more in Dutch, naming the cap.

Examples
--------
>>> spec = EnsembleSpec("eerstelijnszone", plans=200, chains=2, seed=7)
>>> spec.check().plans
200
>>> spec.key("data-1") == EnsembleSpec("eerstelijnszone", plans=200, chains=2, seed=7).key("data-1")
True
>>> spec.key("data-1") == spec.key("data-2")
False
>>> EnsembleSpec("eerstelijnszone", plans=10**9).check()
Traceback (most recent call last):
...
geo.errors.InvalidInput: Te veel indelingen gevraagd: 1.000.000.000; het maximum is 100.000.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace

from geo import dutch
from geo.errors import InvalidInput
from geo.reference.roles import NESTING_ROLE

NEST_ROLE = NESTING_ROLE  # the layer a zoning nests in by default (imported from here by others)
# ``nest_in`` default: the layer with role NEST_ROLE (resolved by geo.ensemble.problem.prepare).
DEFAULT = "default"
MAX_PLANS = 100_000
MAX_CHAINS = 16
MAX_SECONDS = 3_600.0
MAX_GROUP_COUNT = 100


@dataclass(frozen=True)
class EnsembleSpec:
    """Everything that decides an ensemble's plans (see the module docstring).

    Parameters
    ----------
    base_layer : str
        Layer id, or ``scenario:<id>`` (a saved scenario as the starting point).
    nest_in : str or None
        Layer each zone lies inside; ``"default"``: the reference regions; None: no nesting
        (the whole territory is then one nest zone).
    zones : "today" or int
        ``"today"``: each nest zone keeps the number of zones of the (repaired) start; an int: that
        many zones in total, shared over the nest zones by population.
    lower, upper : float or None
        Population bounds per zone; None takes the base layer's norm (``upper`` None with a norm
        without maximum: no upper bound).
    fixed : tuple of int
        NIS codes that never move (Brussels never moves in any case).
    together : tuple of tuple of int
        Groups of NIS codes that always lie in one zone.
    plans, chains, seed : int
        Plans kept over all chains, independent chains, and the seed (same seed: same plans).
    population_year : int or None
        Statbel year of the populations (None: the workspace's).
    max_seconds : float
        Time cap of a run; beyond it the run stops with an error naming the cap.
    """

    base_layer: str
    nest_in: str | None = DEFAULT
    zones: str | int = "today"
    lower: float | None = None
    upper: float | None = None
    fixed: tuple[int, ...] = ()
    together: tuple[tuple[int, ...], ...] = ()
    plans: int = 1000
    chains: int = 4
    seed: int = 0
    population_year: int | None = None
    max_seconds: float = field(default=MAX_SECONDS)

    def check(self) -> EnsembleSpec:
        """The spec with normalised values, or :class:`~geo.errors.InvalidInput` in Dutch naming
        the rule or cap that is broken. Nothing is computed yet: these are the checks that need
        no data."""
        if not isinstance(self.plans, int) or self.plans < 1:
            raise InvalidInput(f"Het aantal indelingen moet minstens 1 zijn, niet {self.plans!r}.")
        if self.plans > MAX_PLANS:
            raise InvalidInput(f"Te veel indelingen gevraagd: {dutch.number(self.plans)}; "
                               f"het maximum is {dutch.number(MAX_PLANS)}.")
        if not isinstance(self.chains, int) or self.chains < 1:
            raise InvalidInput(f"Het aantal ketens moet minstens 1 zijn, niet {self.chains!r}.")
        if self.chains > MAX_CHAINS:
            raise InvalidInput(f"Te veel ketens gevraagd: {self.chains}; het maximum is {MAX_CHAINS}.")
        if self.chains > self.plans:
            raise InvalidInput(f"Meer ketens ({self.chains}) dan indelingen ({self.plans}): elke keten "
                               "levert minstens één indeling.")
        if not (0 < float(self.max_seconds) <= MAX_SECONDS):
            raise InvalidInput(f"De rekentijd moet tussen 0 en {dutch.number(MAX_SECONDS)} seconden liggen, "
                               f"niet {self.max_seconds!r}.")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise InvalidInput(f"Het zaadgetal (seed) moet een natuurlijk getal zijn, niet {self.seed!r}.")
        zones = self.zones
        if isinstance(zones, str):
            if zones != "today":
                try:
                    zones = int(zones)
                except ValueError:
                    raise InvalidInput(f"Aantal zones: 'today' of een getal, niet {zones!r}.") from None
        if isinstance(zones, int) and not isinstance(zones, bool) and zones < 1:
            raise InvalidInput(f"Het aantal zones moet minstens 1 zijn, niet {zones}.")
        for name in ("lower", "upper"):
            value = getattr(self, name)
            if value is not None and (value != value or value < 0):
                raise InvalidInput(f"De {'ondergrens' if name == 'lower' else 'bovengrens'} van de bevolking "
                                   f"per zone kan niet negatief zijn ({value!r}).")
        if self.lower is not None and self.upper is not None and self.lower > self.upper:
            raise InvalidInput(f"Bevolkingsgrenzen: de ondergrens ({dutch.number(self.lower)}) ligt boven de "
                               f"bovengrens ({dutch.number(self.upper)}); geen enkele zone kan dat halen.")
        if len(self.together) > MAX_GROUP_COUNT:
            raise InvalidInput(f"Te veel groepen die samen blijven: {len(self.together)}; het maximum is "
                               f"{MAX_GROUP_COUNT}.")
        fixed = tuple(sorted({int(c) for c in self.fixed}))
        together = tuple(sorted(tuple(sorted({int(c) for c in g})) for g in self.together if len(set(g)) > 1))
        return replace(self, zones=zones, fixed=fixed, together=together)

    def key(self, data_version: str) -> str:
        """A stable hash of every input and the data/base version (e.g. the workspace's version
        key of the base layer and the data folder's): same rules, seed and data, same key.

        Examples
        --------
        >>> EnsembleSpec("eerstelijnszone").key("v1")[:8] == EnsembleSpec("eerstelijnszone").key("v1")[:8]
        True
        """
        spec = self.check()
        payload = {**asdict(spec), "data_version": str(data_version), "engine": ENGINE_VERSION}
        payload.pop("max_seconds")  # a time cap changes whether a run finishes, never its plans
        text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    def as_dict(self) -> dict:
        """JSON-ready (API field names in English)."""
        spec = self.check()
        out = asdict(spec)
        out["fixed"] = list(spec.fixed)
        out["together"] = [list(g) for g in spec.together]
        return out


# Part of every key: a change in how plans are drawn makes stored results stale.
ENGINE_VERSION = "2"  # 2: the nesting share among the measures
