"""Population norms per layer, from the policy texts quoted by practitioners (see ``../shared/DOMAIN.md``).

The ``source`` of each norm is shown to users, so it is a Dutch citation, never a file name.

"Vlaanderen normeert op 60.000 inwoners voor het ene en op 100.000 voor het andere": a primary
care zone should have at least about 60,000 inhabitants; the 2018-2019 call asked for 75,000 to
125,000. Which norm applies to which layer is data (``"norms"`` in ``data/layers.json``); callers may
pass their own bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from geo.engine.layer import Layer
from geo.errors import InvalidInput
from geo.reference.roles import layer_meta

# Thresholds drawn in legends of population maps.
NORM_LINES = (60_000, 100_000)


@dataclass(frozen=True)
class PopulationNorm:
    """Bounds on a zone's population (either may be None)."""

    label: str
    minimum: int | None = None
    maximum: int | None = None
    source: str = ""

    def __post_init__(self) -> None:
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise InvalidInput(f"population norm {self.label!r}: minimum {self.minimum} exceeds maximum {self.maximum}")

    def passes(self, population: np.ndarray | list[float]) -> np.ndarray:
        """Which of the populations meet the norm (a boolean array)."""
        population = np.asarray(population, dtype=float)
        ok = np.ones(population.shape, dtype=bool)
        if self.minimum is not None:
            ok &= population >= self.minimum
        if self.maximum is not None:
            ok &= population <= self.maximum
        return ok


ZONE_MINIMUM_60K = PopulationNorm("minstens 60.000 inwoners", 60_000, None,
                                  "Vlaamse norm voor eerstelijnszones, zoals geciteerd in het werkveld")
CALL_2018 = PopulationNorm("75.000 tot 125.000 inwoners", 75_000, 125_000,
                           "oproep eerstelijnszones 2018-2019 (persbericht Belga)")
MINIMUM_100K = PopulationNorm("minstens 100.000 inwoners", 100_000, None,
                              "'op 100.000 voor het andere', zoals geciteerd in het werkveld")

# The norms layers.json may name ("norms": [...]), by key.
NORMS: dict[str, PopulationNorm] = {"minimum_60k": ZONE_MINIMUM_60K, "call_2018": CALL_2018,
                                    "minimum_100k": MINIMUM_100K}
@lru_cache(maxsize=1)
def default_norms() -> dict[str, PopulationNorm]:
    """Layer id -> its own norm: the first one its entry in data/layers.json names (read on first
    use, not when this module is imported).

    Examples
    --------
    >>> default_norms()["eerstelijnszone"].label
    'minstens 60.000 inwoners'
    """
    return {meta.id: NORMS[meta.norms[0]] for meta in layer_meta().values() if meta.norms}


def norm_for(layer: Layer, base_layer_id: str | None = None) -> PopulationNorm | None:
    """The default norm of a layer (a scenario inherits its base layer's norm)."""
    norms = default_norms()
    return norms.get(layer.id) or (norms.get(base_layer_id) if base_layer_id else None)


def check_population(layer: Layer, norm: PopulationNorm, flemish_only: bool = True) -> pd.DataFrame:
    """One row per zone: population and whether it meets the norm.

    Zones made only of Brussels municipalities are left out by default: Brussels is outside the
    Flemish local social policy decree and is shown, not judged.

    Examples
    --------
    >>> table = check_population(catalog.layer("eerstelijnszone"), ZONE_MINIMUM_60K)
    >>> len(table), bool(table["passes"].all())  # 57 zones, Bruzel (Brussels) not judged
    (56, True)
    """
    population = layer.zone_weight("population")
    table = pd.DataFrame({"code": layer.zones["code"].to_numpy(), "name": layer.zones["name"].to_numpy(),
                          "population": population, "passes": norm.passes(population)})
    if flemish_only:
        table = table[layer.flemish_zones()]
    table["norm"] = norm.label
    return table.reset_index(drop=True)
