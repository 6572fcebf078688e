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

# Said once wherever a sector-summed year is named (issue 16): Statbel could not place every
# resident in a statistical sector, so these counts are slightly below the official ones.
SECTOR_SUM_NOTE = ("Bevolking op 1 januari {year}: opgeteld uit de statistische sectoren van Statbel, "
                   "ongeveer 0,1 à 0,3 % onder het officiële gemeentelijke cijfer (inwoners die Statbel aan "
                   "geen sector kon toewijzen, ontbreken).")
PopulationBasis = Literal["municipal", "sectors"]
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
    population_basis : {"municipal", "sectors"}
        Statbel's municipal count, or the sum of its statistical sectors (see
        :attr:`population_note`).
    part_areas : pandas.DataFrame, optional
        Each 2019-2024 municipality that merged into a 2025 one, indexed by its 2019-2024 NIS
        code: ``nis_2025`` and ``area_km2`` (the parts of a merged municipality add up to its
        polygon's area; ``data/part_areas.csv``). What a partial membership covers by area.

    Examples
    --------
    >>> atoms = Atoms.from_frame(pd.DataFrame({"nis_code": [1, 2], "name": ["A", "B"],
    ...     "region": "Vlaams Gewest", "area_km2": [1.0, 2.0], "population": [10, 20]}), 2020)
    >>> atoms.weights("population").tolist()
    [10.0, 20.0]
    """

    table: pd.DataFrame
    population_year: int
    population_basis: PopulationBasis = "municipal"
    sectors: "Sectors | None" = field(default=None, repr=False)
    part_areas: "pd.DataFrame | None" = field(default=None, repr=False)
    _position: dict[int, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_position", {int(c): i for i, c in enumerate(self.table.index)})

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, population_year: int,
                   population_basis: PopulationBasis = "municipal", sectors: pd.DataFrame | None = None,
                   part_areas: pd.DataFrame | None = None) -> "Atoms":
        """Build the atoms from a table of municipalities.

        Parameters
        ----------
        frame : pandas.DataFrame
            One row per municipality: ``nis_code``, ``name``, ``region``, ``area_km2``,
            ``population`` and optionally ``name_fr`` (defaults to ``name``).
        population_year : int
            Statbel year (1 January) of ``population``.
        population_basis : {"municipal", "sectors"}
            Statbel's municipal count, or the sum of the statistical sectors.
        sectors : pandas.DataFrame, optional
            The statistical sectors (see :class:`Sectors`); rows of unknown municipalities are dropped.
        part_areas : pandas.DataFrame, optional
            The parts of merged municipalities: ``nis_2019_2024``, ``nis_2025``, ``area_km2`` (see
            :class:`Atoms`).

        Returns
        -------
        Atoms
            Sorted by NIS code; duplicate NIS codes raise ``InvalidInput``.
        """
        table = frame.copy()
        table["nis_code"] = table["nis_code"].astype(int)
        if "name_fr" not in table:
            table["name_fr"] = table["name"]
        table = table.set_index("nis_code").sort_index()
        if table.index.has_duplicates:
            raise InvalidInput(f"duplicate NIS codes {table.index[table.index.duplicated()].tolist()}")
        atoms = cls(table[["name", "name_fr", "region", "area_km2", "population"]], population_year,
                    population_basis, part_areas=_part_areas(part_areas))
        if sectors is not None:
            object.__setattr__(atoms, "sectors", Sectors.from_frame(sectors, atoms))
        return atoms

    def __len__(self) -> int:
        return len(self.table)

    @property
    def population_note(self) -> str:
        """The one sentence to show next to the population year when it is a sector sum
        (empty for Statbel's official municipal count).

        Examples
        --------
        >>> Atoms.from_frame(pd.DataFrame({"nis_code": [1], "name": ["A"], "region": "Vlaams Gewest",
        ...     "area_km2": [1.0], "population": [10]}), 2024, "sectors").population_note[:31]
        'Bevolking op 1 januari 2024: op'
        """
        return SECTOR_SUM_NOTE.format(year=self.population_year) if self.population_basis == "sectors" else ""

    def _column(self, slot: str, compute) -> np.ndarray:  # noqa: ANN001 - a function of no arguments
        """A read-only array derived from the table, computed once (the table never changes):
        pages ask for these per municipality, and each derivation costs tens of microseconds."""
        cached = self.__dict__.get(slot)
        if cached is None:
            cached = np.asarray(compute())
            cached.setflags(write=False)
            object.__setattr__(self, slot, cached)
        return cached

    @property
    def nis_codes(self) -> np.ndarray:
        """NIS codes of the municipalities, in row order."""
        return self._column("_nis_codes", lambda: self.table.index.to_numpy().copy())

    @property
    def names(self) -> np.ndarray:
        """Names of the municipalities, in row order."""
        return self._column("_names", lambda: self.table["name"].to_numpy().copy())

    @property
    def flemish(self) -> np.ndarray:
        """Boolean mask: the municipalities under the Flemish local social policy decree."""
        return self._column("_flemish", lambda: (self.table["region"] == FLEMISH_REGION).to_numpy())

    def weights(self, weight: Weight = "population") -> np.ndarray:
        """Weight per atom: inhabitants, or area in km^2.

        Parameters
        ----------
        weight : {"population", "area"}
            Anything else raises ``InvalidInput``.

        Returns
        -------
        numpy.ndarray
            One float per atom, in atom order.
        """
        if weight == "population":
            return self.table["population"].to_numpy(dtype=float)
        if weight == "area":
            return self.table["area_km2"].to_numpy(dtype=float)
        raise InvalidInput(f"unknown weight {weight!r}; expected one of {', '.join(WEIGHTS)}")

    def __contains__(self, nis_code: object) -> bool:
        try:
            return int(nis_code) in self._position  # type: ignore[call-overload]  # any object; TypeError caught
        except (TypeError, ValueError):
            return False

    def position(self, nis_code: int) -> int:
        """Row of a 2025 NIS code; unknown codes are refused with the code named.

        Parameters
        ----------
        nis_code : int
            A 2025 NIS code.

        Returns
        -------
        int
            The atom's row; an unknown code raises ``UnknownMunicipality``.
        """
        try:
            return self._position[int(nis_code)]
        except (KeyError, TypeError, ValueError):
            raise UnknownMunicipality(f"unknown NIS code {nis_code!r} (not a municipality of 2025)") from None

    def positions(self, nis_codes: Iterable[int]) -> np.ndarray:
        """Rows of several 2025 NIS codes (see :meth:`position`).

        Parameters
        ----------
        nis_codes : iterable of int

        Returns
        -------
        numpy.ndarray
            int64 rows, in the order given.
        """
        return np.array([self.position(c) for c in nis_codes], dtype=np.int64)

    def name(self, nis_code: int) -> str:
        """The Dutch name of a municipality.

        Parameters
        ----------
        nis_code : int
            A 2025 NIS code (unknown codes raise ``UnknownMunicipality``).

        Returns
        -------
        str
        """
        return str(self.names[self.position(nis_code)])

    def population(self, nis_code: int) -> int:
        """The inhabitants of a municipality on 1 January of ``population_year``.

        Parameters
        ----------
        nis_code : int
            A 2025 NIS code (unknown codes raise ``UnknownMunicipality``).

        Returns
        -------
        int
        """
        return int(self._column("_population", lambda: self.table["population"].to_numpy())[self.position(nis_code)])


def _part_areas(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    if frame is None:
        return None
    table = frame.reset_index() if "nis_2019_2024" not in frame else frame
    return (pd.DataFrame({"nis_2019_2024": table["nis_2019_2024"].astype(int),
                          "nis_2025": table["nis_2025"].astype(int),
                          "area_km2": table["area_km2"].astype(float)})
            .set_index("nis_2019_2024").sort_index())


@dataclass(frozen=True, eq=False)
class Sectors:
    """The statistical sectors: atoms finer than a municipality, for the few places that need them.

    A sector is a population point (its centroid, EPSG:31370) inside one 2025 municipality.
    Layers that split a municipality (the Antwerp sub-zones, an imported polygon layer) assign
    each sector to one zone, so two such layers can be overlaid on who really lives where.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per sector: ``sector`` (code), ``nis_code``, optionally ``nis_2019_2024`` (its
        municipality before the 2025 mergers), ``population`` (1 January of the atoms' year:
        Statbel's 2024 figure, scaled for another year by
        :func:`geo.reference.catalog.sectors_in_year`), ``x``, ``y`` (EPSG:31370) and any extra
        assignment columns (``elzantw``).
    row : numpy.ndarray
        The atom (municipality row) of each sector.

    Examples
    --------
    >>> from geo.reference.catalog import load_catalog
    >>> sectors = load_catalog().atoms.sectors
    >>> int(sectors.population[sectors.of(sectors.atoms.position(11002))].sum())
    555399
    """

    table: pd.DataFrame
    atoms: "Atoms"
    row: np.ndarray
    population: np.ndarray
    _order: np.ndarray = field(repr=False)
    _bounds: np.ndarray = field(repr=False)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, atoms: "Atoms") -> "Sectors":
        """Index the sectors by municipality.

        Parameters
        ----------
        frame : pandas.DataFrame
            One row per sector (columns as :attr:`table`).
        atoms : Atoms
            The municipalities; sectors of other NIS codes are dropped.

        Returns
        -------
        Sectors
        """
        table = frame.reset_index(drop=True)
        known = table["nis_code"].isin(atoms.nis_codes)
        table = table[known].reset_index(drop=True)
        row = atoms.positions(table["nis_code"])
        order = np.argsort(row, kind="stable")
        bounds = np.searchsorted(row[order], np.arange(len(atoms) + 1))
        return cls(table, atoms, row, table["population"].to_numpy(dtype=float), order, bounds)

    def __len__(self) -> int:
        return len(self.table)

    def of(self, atom_row: int) -> np.ndarray:
        """Indices of the sectors in one municipality (by its atom row).

        Parameters
        ----------
        atom_row : int
            The municipality's row in ``atoms`` (:meth:`Atoms.position`).

        Returns
        -------
        numpy.ndarray
            Rows of :attr:`table`.
        """
        return self._order[self._bounds[atom_row]:self._bounds[atom_row + 1]]

    @property
    def xy(self) -> np.ndarray:
        """Coordinates as an ``n x 2`` float array (``x``, ``y`` columns)."""
        return self.table[["x", "y"]].to_numpy(dtype=float)

    @property
    def part(self) -> np.ndarray | None:
        """The 2019-2024 NIS code of each sector (its municipality before the 2025 mergers), or
        None when the sector table does not name it."""
        if "nis_2019_2024" not in self.table:
            return None
        return self.table["nis_2019_2024"].to_numpy(dtype=np.int64)
