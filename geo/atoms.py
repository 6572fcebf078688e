"""The atoms: the municipalities of 2025, with their population and area.

Every layer is expressed over these atoms, in this order, so that overlaying two layers is a
matrix product over the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Literal

import numpy as np
import pandas as pd

from geo.errors import InvalidInput, UnknownMunicipality

Weight = Literal["population", "area"]
WEIGHTS: tuple[str, ...] = ("population", "area")
FLEMISH_REGION = "Vlaams Gewest"


@dataclass(frozen=True, eq=False)
class Atoms:
    """The municipalities that every layer groups.

    Parameters
    ----------
    table : pandas.DataFrame
        Indexed by 5-digit NIS code (int), sorted; columns ``name``, ``name_fr``, ``region``,
        ``area_km2`` and ``population``.
    population_year : int
        The 1 January of which ``population`` is the Statbel count.

    Examples
    --------
    >>> atoms = Atoms.from_frame(pd.DataFrame({"nis_code": [1, 2], "name": ["A", "B"],
    ...     "region": "Vlaams Gewest", "area_km2": [1.0, 2.0], "population": [10, 20]}), 2020)
    >>> atoms.weights("population").tolist()
    [10.0, 20.0]
    """

    table: pd.DataFrame
    population_year: int
    _position: dict[int, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_position", {int(c): i for i, c in enumerate(self.table.index)})

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, population_year: int) -> "Atoms":
        table = frame.copy()
        table["nis_code"] = table["nis_code"].astype(int)
        if "name_fr" not in table:
            table["name_fr"] = table["name"]
        table = table.set_index("nis_code").sort_index()
        if table.index.has_duplicates:
            raise InvalidInput(f"duplicate NIS codes {table.index[table.index.duplicated()].tolist()}")
        return cls(table[["name", "name_fr", "region", "area_km2", "population"]], population_year)

    def __len__(self) -> int:
        return len(self.table)

    @property
    def nis_codes(self) -> np.ndarray:
        return self.table.index.to_numpy()

    @property
    def names(self) -> np.ndarray:
        return self.table["name"].to_numpy()

    @property
    def flemish(self) -> np.ndarray:
        """Boolean mask: the municipalities under the Flemish local social policy decree."""
        return (self.table["region"] == FLEMISH_REGION).to_numpy()

    def weights(self, weight: Weight = "population") -> np.ndarray:
        """Weight per atom: inhabitants, or area in km^2."""
        if weight == "population":
            return self.table["population"].to_numpy(dtype=float)
        if weight == "area":
            return self.table["area_km2"].to_numpy(dtype=float)
        raise InvalidInput(f"unknown weight {weight!r}; expected one of {', '.join(WEIGHTS)}")

    def __contains__(self, nis_code: object) -> bool:
        try:
            return int(nis_code) in self._position  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False

    def position(self, nis_code: int) -> int:
        """Row of a 2025 NIS code; unknown codes are refused with the code named."""
        try:
            return self._position[int(nis_code)]
        except (KeyError, TypeError, ValueError):
            raise UnknownMunicipality(f"unknown NIS code {nis_code!r} (not a municipality of 2025)") from None

    def positions(self, nis_codes: Iterable[int]) -> np.ndarray:
        return np.array([self.position(c) for c in nis_codes], dtype=np.int64)

    def name(self, nis_code: int) -> str:
        return str(self.table["name"].iloc[self.position(nis_code)])

    def population(self, nis_code: int) -> int:
        return int(self.table["population"].iloc[self.position(nis_code)])
