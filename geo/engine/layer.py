"""A layer is a membership table: municipality -> zone, with a share.

A municipality normally belongs to one zone with share 1. A share below 1 means the zone covers
part of the municipality (polygon layers, area-weighted); a municipality may be in two zones of
the same layer (associations overlap) or in none (a gap). All three are data, not errors.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy import sparse

from geo.engine.atoms import Atoms
from geo.engine.cells import canonical_csr
from geo.errors import InvalidInput, UnknownZone

if TYPE_CHECKING:  # geopandas loads with the first outlines needed, not with the engine
    from collections.abc import Callable
    from typing import TypeAlias

    import geopandas as gpd

    # A layer's outlines (EPSG:31370) by zone code, or a function without arguments that reads them.
    PolygonSource: TypeAlias = "gpd.GeoSeries | Callable[[], gpd.GeoSeries] | None"

LayerKind = Literal["municipal", "polygon", "imported", "scenario"]
SHARE_TOLERANCE = 1e-6
# How a layer's fractional shares were computed (``Layer.weighting``): "" for a layer given as a
# membership table, else by the inhabitants of statistical sectors, by area, or both
# (geo.uploads.importing.polygon_memberships).
WEIGHTINGS = ("", "population", "area", "population+area")


class _Polygons:
    """``Layer.polygons``: a GeoSeries, or a function without arguments that reads it, called on
    first use. Only maps and overlays of two layers that split the same municipality need the
    outlines; an imported layer read from the database parses its stored GeoJSON (a quarter of a
    second for 10,000 squares) only then, not to answer an overlay."""

    _lock = threading.Lock()

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = "_" + name

    def __get__(self, layer: Layer | None, owner: type | None = None) -> gpd.GeoSeries | None:
        if layer is None:
            return None  # the dataclass default: no outlines
        value = layer.__dict__.get(self.slot)
        if callable(value):
            with self._lock:
                value = layer.__dict__[self.slot]
                if callable(value):
                    value = value()
                    layer.__dict__[self.slot] = value
        return value

    def __set__(self, layer: Layer, value: PolygonSource) -> None:
        layer.__dict__[self.slot] = value


@dataclass(frozen=True, eq=False)
class Layer:
    """A grouping of the atoms into zones.

    Parameters
    ----------
    id, name, kind, vintage, source, description
        Registry metadata; ``name`` is the Dutch name shown to users.
    atoms : Atoms
        The municipalities the memberships refer to.
    zones : pandas.DataFrame
        Columns ``code`` and ``name``, one row per zone, in matrix column order.
    membership : scipy.sparse.csr_array
        ``len(atoms) x len(zones)``: the share of each municipality in each zone.

    Examples
    --------
    >>> members = pd.DataFrame({"zone_code": ["K", "K"], "zone_name": ["Kortrijk e.o.", "Kortrijk e.o."],
    ...                         "nis_code": [34022, 34025]})
    >>> layer = Layer.from_members("demo", members, atoms)
    >>> layer.zone_codes, layer.zone_weight("population").tolist()
    (['K'], [82896.0])
    """

    id: str
    name: str
    atoms: Atoms
    zones: pd.DataFrame
    membership: sparse.csr_array
    kind: LayerKind = "municipal"
    vintage: str = ""
    source: str = ""
    description: str = ""
    # GeoSeries in EPSG:31370 indexed by zone code, for non-municipal layers (or a function that
    # reads it on first use, see _Polygons)
    polygons: PolygonSource = _Polygons()
    # Zone position of each statistical sector (-1: in no zone), for layers that split municipalities;
    # None: derived from ``polygons`` on first use (see :meth:`sector_assignment`).
    sector_zones: np.ndarray | None = None
    weighting: str = ""  # one of WEIGHTINGS
    left_out: tuple = ()  # zone codes of an import that cover nobody (reported, not refused)
    # Partial memberships named by their parts: (atom row, zone position) -> the 2019-2024 NIS codes
    # of the pre-2025 municipalities that are members (only Borsbeek of today's Antwerpen). Their
    # inhabitants live in those parts' statistical sectors (geo.engine.fine), not spread evenly.
    parts: dict[tuple[int, int], tuple[int, ...]] | None = None
    _zone_position: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_zone_position", {str(c): i for i, c in enumerate(self.zones["code"])})
        if self.membership.shape != (len(self.atoms), len(self.zones)):
            raise InvalidInput(f"layer {self.id!r}: membership shape {self.membership.shape} does not match "
                               f"{len(self.atoms)} municipalities x {len(self.zones)} zones")

    @classmethod
    def from_members(cls, id: str, members: pd.DataFrame, atoms: Atoms, *, name: str | None = None,
                     kind: LayerKind = "municipal", vintage: str = "", source: str = "",
                     description: str = "", polygons: PolygonSource = None, weighting: str = "",
                     left_out: tuple[str, ...] = ()) -> "Layer":
        """Build a layer from a long table with columns ``zone_code, zone_name, nis_code[, share][, parts]``.

        Zones are ordered by code. A zone code must have one name; shares must lie in (0, 1].

        ``parts`` (optional): for a member of which only some pre-2025 municipalities take part,
        their 2019-2024 NIS codes (``"11007"``, ``"46003;46013"`` or a tuple); its share is then
        those parts' inhabitants in ``atoms.population_year`` over the whole municipality's,
        counted from the statistical sectors when the atoms have them.

        Parameters
        ----------
        id : str
            The layer id.
        members : pandas.DataFrame
            ``zone_code``, ``nis_code`` (2025), optionally ``zone_name`` (default: the code) and
            ``share`` (default 1).
        atoms : Atoms
            The municipalities the NIS codes refer to (unknown codes raise ``UnknownMunicipality``).
        name, kind, vintage, source, description, polygons, weighting, left_out
            As the fields of :class:`Layer` (``name`` defaults to ``id``).

        Returns
        -------
        Layer
            A table breaking the rules above raises ``InvalidInput`` naming the first bad row.
        """
        table = members.copy()
        if "share" not in table:
            table["share"] = 1.0
        missing = [c for c in ("zone_code", "nis_code") if c not in table]
        if missing:
            raise InvalidInput(f"membership table lacks column(s) {', '.join(missing)}")
        if "zone_name" not in table:
            table["zone_name"] = table["zone_code"]
        table["zone_code"] = table["zone_code"].astype(str).str.strip()
        table["zone_name"] = table["zone_name"].astype(str).str.strip()
        share = pd.to_numeric(table["share"], errors="coerce")
        bad = table[share.isna() | (share <= 0) | (share > 1 + SHARE_TOLERANCE)]
        if len(bad):
            row = bad.iloc[0]
            raise InvalidInput(f"share must be a number in (0, 1]; got {row['share']!r} for "
                               f"NIS code {row['nis_code']} in zone {row['zone_code']!r}")
        table["share"] = share.clip(upper=1.0)
        names = table.groupby("zone_code")["zone_name"].nunique()
        if (names > 1).any():
            code = names[names > 1].index[0]
            raise InvalidInput(f"zone code {code!r} has more than one name: "
                               f"{sorted(table.loc[table['zone_code'] == code, 'zone_name'].unique())}")
        duplicated = table.duplicated(["zone_code", "nis_code"])
        if duplicated.any():
            row = table[duplicated].iloc[0]
            raise InvalidInput(f"NIS code {row['nis_code']} is listed twice in zone {row['zone_code']!r}")
        rows = atoms.positions(table["nis_code"])
        zones = (table[["zone_code", "zone_name"]].drop_duplicates("zone_code")
                 .rename(columns={"zone_code": "code", "zone_name": "name"})
                 .sort_values("code", key=_natural_key).reset_index(drop=True))
        if not len(zones):
            raise InvalidInput(f"layer {id!r} has no zones")
        column = {c: i for i, c in enumerate(zones["code"])}
        cols = table["zone_code"].map(column).to_numpy()
        shares = table["share"].to_numpy(dtype=float)
        parts = _parts(table["parts"], rows, cols) if "parts" in table else {}
        if parts:
            shares = _share_of_parts(parts, rows, cols, shares, atoms)
        membership = sparse.csr_array((shares, (rows, cols)), shape=(len(atoms), len(zones)))
        return cls(id=id, name=name or id, atoms=atoms, zones=zones, membership=membership, kind=kind,
                   vintage=vintage, source=source, description=description, polygons=polygons,
                   weighting=weighting, left_out=tuple(left_out), parts=parts or None)

    # -- lookups ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.zones)

    @property
    def zone_codes(self) -> list[str]:
        """Zone codes, in column order of :attr:`membership`."""
        return self.zones["code"].tolist()

    def zone_position(self, code: str) -> int:
        """Column of a zone in :attr:`membership` (and row in :attr:`zones`).

        Parameters
        ----------
        code : str
            A zone code of this layer (others raise ``UnknownZone``).

        Returns
        -------
        int
        """
        try:
            return self._zone_position[str(code)]
        except KeyError:
            raise UnknownZone(f"layer {self.id!r} has no zone {code!r}") from None

    def zone_name(self, code: str) -> str:
        """The name of zone ``code`` as published (unknown codes raise ``UnknownZone``).

        Parameters
        ----------
        code : str

        Returns
        -------
        str
        """
        names = self.__dict__.get("_zone_names")
        if names is None:  # read once: a pandas cell costs ~20 us, and pages ask per municipality
            names = [str(n) for n in self.zones["name"]]
            object.__setattr__(self, "_zone_names", names)
        return names[self.zone_position(code)]

    def has_zone(self, code: str) -> bool:
        """Whether ``code`` is a zone code of this layer.

        Parameters
        ----------
        code : str

        Returns
        -------
        bool
        """
        return str(code) in self._zone_position

    # -- derived tables ------------------------------------------------------------------
    def members(self, zone: str | None = None) -> pd.DataFrame:
        """Long membership table ``zone_code, zone_name, nis_code, municipality, share``.

        Parameters
        ----------
        zone : str, optional
            Only the members of this zone (unknown codes raise ``UnknownZone``).

        Returns
        -------
        pandas.DataFrame
            In zone order, then by NIS code.

        Examples
        --------
        >>> elz.members("elz40")["municipality"].tolist()[:3]
        ['Lendelede', 'Ingelmunster', 'Izegem']
        """
        coo = self.membership.tocoo()
        frame = pd.DataFrame({
            "zone_code": self.zones["code"].to_numpy()[coo.col],
            "zone_name": self.zones["name"].to_numpy()[coo.col],
            "nis_code": self.atoms.nis_codes[coo.row].astype(int),
            "municipality": self.atoms.names[coo.row],
            "share": coo.data.astype(float),
        })
        if zone is not None:
            self.zone_position(zone)
            frame = frame[frame["zone_code"] == str(zone)]
        order = {c: i for i, c in enumerate(self.zones["code"])}
        return (frame.assign(_z=frame["zone_code"].map(order)).sort_values(["_z", "nis_code"])
                .drop(columns="_z").reset_index(drop=True))

    def coverage(self) -> np.ndarray:
        """Per atom: the sum of its shares (0 = in no zone, 2 = in two zones).

        Returns
        -------
        numpy.ndarray
            One float per atom, read-only.
        """
        # Cached (the membership of a layer never changes): every overlay reads it for both layers.
        cached = self.__dict__.get("_coverage")
        if cached is None:
            cached = np.asarray(self.membership.sum(axis=1)).ravel()
            cached.setflags(write=False)
            object.__setattr__(self, "_coverage", cached)
        return cached

    def zone_weight(self, weight: str = "population") -> np.ndarray:
        """Per zone: the inhabitants inside it (a member counts with its share). A zone's area
        is :func:`geo.engine.areas.zone_areas`: by area, a layer with polygons counts its
        polygons' area in each municipality, not its population share of the municipality.

        Parameters
        ----------
        weight : {"population"}

        Returns
        -------
        numpy.ndarray
            One float per zone, in zone order.
        """
        if weight != "population":
            raise ValueError(f"zone_weight counts inhabitants; areas are geo.engine.areas.zone_areas (got {weight!r})")
        return self.membership.T @ self.atoms.weights(weight)  # type: ignore[arg-type]

    def flemish_zones(self) -> np.ndarray:
        """Per zone: does it have a Flemish member? Zones of only Brussels municipalities are
        outside the Flemish local social policy decree: shown, never judged against its norms.

        Returns
        -------
        numpy.ndarray
            One bool per zone, in zone order.
        """
        return np.asarray(self.membership.T @ self.atoms.flemish.astype(float)).ravel() > 0

    def member_count(self) -> np.ndarray:
        """Per zone: how many municipalities it has (whole or in part).

        Returns
        -------
        numpy.ndarray
            One int per zone, in zone order.
        """
        return np.diff(self.membership.tocsc().indptr)

    def zones_of(self, nis_code: int) -> list[tuple[str, str, float]]:
        """The zones a municipality belongs to, as ``(code, name, share)``.

        Parameters
        ----------
        nis_code : int
            A 2025 NIS code (unknown codes raise ``UnknownMunicipality``).

        Returns
        -------
        list of (str, str, float)
            In zone order; empty for a municipality in no zone.
        """
        # Read the CSR arrays directly: slicing a sparse row costs ~100 us, and maps ask this
        # for every municipality of Flanders.
        index = self.__dict__.get("_row_index")
        if index is None:
            m = sparse.csr_array(self.membership)
            codes, names = self.zones["code"].astype(str).tolist(), self.zones["name"].astype(str).tolist()
            index = (m.indptr, m.indices, m.data, codes, names)
            object.__setattr__(self, "_row_index", index)
        indptr, indices, data, codes, names = index
        row = self.atoms.position(nis_code)
        start, end = indptr[row], indptr[row + 1]
        return [(codes[c], names[c], float(v)) for c, v in sorted(zip(indices[start:end].tolist(), data[start:end]))
                if v != 0]

    def summary(self) -> pd.DataFrame:
        """One row per zone: code, name, population and member count.

        Returns
        -------
        pandas.DataFrame
            Columns ``code, name, population, members``.
        """
        return pd.DataFrame({
            "code": self.zones["code"].to_numpy(),
            "name": self.zones["name"].to_numpy(),
            "population": self.zone_weight("population"),
            "members": self.member_count(),
        })

    def partition(self) -> sparse.csr_array:
        """The membership as a partition of the inhabitants, for the partition measures.

        A municipality in two zones of this layer (a member of two associations) is one group
        of inhabitants with a combined label ("WZK+ISOM"), not two: comparing a layer with
        itself must then give perfect agreement. Fractional shares that sum to at most 1 are
        kept as they are (parts of a municipality in different zones). Columns are the zones,
        followed by one column per combination that occurs.

        Returns
        -------
        scipy.sparse.csr_array
            ``len(atoms) x (zones + combinations)``; the membership itself when no atom is in two zones.
        """
        cached = self.__dict__.get("_partition")
        if cached is None:
            cached = _partition_matrix(self.membership)
            object.__setattr__(self, "_partition", cached)
        return cached

    def fractional_rows(self) -> np.ndarray:
        """Atom rows that this layer splits: a share strictly between 0 and 1, in at most one zone's
        worth in total (a municipality in two associations is not split, it is in both).

        Returns
        -------
        numpy.ndarray
            Sorted atom rows (int).
        """
        cached = self.__dict__.get("_fractional_rows")
        if cached is None:
            m = canonical_csr(self.membership)
            partial = m.data < 1.0 - SHARE_TOLERANCE
            rows = np.unique(np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))[partial])
            cached = rows[self.coverage()[rows] <= 1.0 + SHARE_TOLERANCE] if len(rows) else rows
            object.__setattr__(self, "_fractional_rows", cached)
        return cached

    def with_sector_zones(self, codes: np.ndarray) -> "Layer":
        """A layer like this one with each statistical sector assigned to the zone named in ``codes`` (one
        zone code per sector of ``atoms.sectors``; anything not a zone code: in no zone).

        Parameters
        ----------
        codes : numpy.ndarray
            One zone code per sector.

        Returns
        -------
        Layer
            A copy with ``sector_zones`` set.
        """
        positions = np.array([self._zone_position.get(str(c), -1) for c in codes], dtype=np.int64)
        return replace(self, sector_zones=positions)

    def sector_assignment(self) -> np.ndarray | None:
        """The zone position of every statistical sector (-1: none), or None when unknown.

        Given (``sector_zones``), or derived once from ``polygons``: a sector belongs to the zone
        whose polygon holds its centroid. Used only where this layer splits a municipality.

        Returns
        -------
        numpy.ndarray or None
            One zone position per sector of ``atoms.sectors``.
        """
        if self.sector_zones is not None:
            return np.asarray(self.sector_zones)
        cached = self.__dict__.get("_sector_assignment")
        if cached is None and self.polygons is not None and self.atoms.sectors is not None:
            cached = sectors_in_polygons(self.atoms.sectors.xy, self.polygons, self._zone_position)
            object.__setattr__(self, "_sector_assignment", cached)
        return cached

    def member_parts(self) -> pd.DataFrame:
        """The partial memberships named by their parts: ``zone_code, nis_code, parts`` (the
        2019-2024 NIS codes, ';'-separated), for :meth:`from_members` to rebuild a subset.

        Examples
        --------
        >>> from geo.reference.catalog import load_catalog
        >>> parts = load_catalog().layer("samenwerkingsverbanden").member_parts()
        >>> parts[parts["zone_name"] == "Streekvereniging Zuidrand"][["nis_code", "parts"]].values.tolist()
        [[11002, '11007']]
        """
        items = sorted((self.parts or {}).items())
        codes, names = self.zones["code"].to_numpy(), self.zones["name"].to_numpy()
        return pd.DataFrame({
            "zone_code": [str(codes[c]) for (_, c), _ in items],
            "zone_name": [str(names[c]) for (_, c), _ in items],
            "nis_code": [int(self.atoms.nis_codes[r]) for (r, _), _ in items],
            "parts": [";".join(str(p) for p in v) for _, v in items],
        })

    def with_membership(self, membership: sparse.csr_array, **changes: object) -> "Layer":
        """A copy of this layer with another membership matrix.

        Parameters
        ----------
        membership : scipy.sparse array
            ``len(atoms) x len(zones)`` shares.
        **changes
            Other fields to replace (``id``, ``name``, ``kind``...).

        Returns
        -------
        Layer
        """
        return replace(self, membership=sparse.csr_array(membership), **changes)  # type: ignore[arg-type]


def with_population(members: pd.DataFrame, atoms: Atoms) -> pd.DataFrame:
    """A membership table (``nis_code``, ``share``) with each member's ``population``: its inhabitants
    (Statbel, 1 January of ``atoms.population_year``) times its share, as a float.

    Parameters
    ----------
    members : pandas.DataFrame
        With ``nis_code`` (2025) and ``share`` columns, e.g. :meth:`Layer.members`.
    atoms : Atoms

    Returns
    -------
    pandas.DataFrame
        A copy of ``members`` with a ``population`` column.

    Examples
    --------
    >>> from geo.reference.catalog import load_catalog
    >>> layer = load_catalog().layer("samenwerkingsverband")
    >>> frame = with_population(layer.members("W13"), layer.atoms)
    >>> bool(frame["population"].sum() == layer.zone_weight("population")[layer.zone_position("W13")])
    True
    """
    population = members["nis_code"].map(atoms.table["population"]).astype(float) * members["share"].astype(float)
    return members.assign(population=population)


def _parts(values: pd.Series, rows: np.ndarray, cols: np.ndarray) -> dict[tuple[int, int], tuple[int, ...]]:
    """``(row, zone) -> 2019-2024 NIS codes`` for the rows that name parts."""
    out = {}
    for value, row, col in zip(values.tolist(), rows.tolist(), cols.tolist()):
        if isinstance(value, (tuple, list)):
            codes = tuple(int(v) for v in value)
        elif value is None or (isinstance(value, float) and value != value) or not str(value).strip():
            continue
        else:
            try:
                codes = tuple(int(float(v)) for v in str(value).replace(",", ";").split(";") if v.strip())
            except ValueError:
                raise InvalidInput(f"parts must be 2019-2024 NIS codes separated by ';', got {value!r}") from None
        if codes:
            out[(row, col)] = tuple(sorted(set(codes)))
    return out


def _share_of_parts(parts: dict, rows: np.ndarray, cols: np.ndarray, shares: np.ndarray, atoms: Atoms) -> np.ndarray:
    """Each partial member's share: its parts' inhabitants over the municipality's, in the atoms'
    year, counted from the sectors (each knows its 2019-2024 municipality); the given share where
    the sectors cannot say (no sectors, or none in those parts)."""
    sectors = atoms.sectors
    if sectors is None or sectors.part is None:
        return shares
    out = shares.copy()
    where = {key: k for k, key in enumerate(zip(rows.tolist(), cols.tolist()))}
    for key, codes in parts.items():
        index = sectors.of(key[0])
        people = sectors.population[index]
        total, inside = people.sum(), people[np.isin(sectors.part[index], codes)].sum()
        if total > 0 and inside > 0:
            out[where[key]] = min(inside / total, 1.0)
    return out


def _partition_matrix(membership: sparse.csr_array) -> sparse.csr_array:
    coverage = np.asarray(membership.sum(axis=1)).ravel()
    overlapping = np.nonzero(coverage > 1.0 + SHARE_TOLERANCE)[0]
    if not len(overlapping):
        return membership
    csr = sparse.csr_array(membership, copy=True)
    csr.sort_indices()
    n_zones = csr.shape[1]
    combos: dict[tuple[int, ...], int] = {}
    combined = [combos.setdefault(tuple(csr.indices[csr.indptr[r]:csr.indptr[r + 1]].tolist()),
                                  n_zones + len(combos)) for r in overlapping]
    coo = csr.tocoo()
    keep = ~np.isin(coo.row, overlapping)
    rows = np.concatenate([coo.row[keep], overlapping])
    cols = np.concatenate([coo.col[keep], np.asarray(combined, dtype=coo.col.dtype)])
    data = np.concatenate([coo.data[keep], np.ones(len(overlapping))])
    return sparse.csr_array((data, (rows, cols)), shape=(csr.shape[0], n_zones + len(combos)))


def sectors_in_polygons(xy: np.ndarray, polygons: gpd.GeoSeries, zone_position: dict[str, int]) -> np.ndarray:
    """Zone position of each point (EPSG:31370) by the polygon that holds it; -1 for none. Where
    polygons overlap, the first zone in the layer's order wins (a sector is one group of people).

    Parameters
    ----------
    xy : numpy.ndarray
        ``n x 2`` coordinates in EPSG:31370.
    polygons : geopandas.GeoSeries
        Polygons (EPSG:31370) indexed by zone code.
    zone_position : dict of str to int
        Zone code -> zone position; polygons of other codes are ignored.

    Returns
    -------
    numpy.ndarray
        One int64 zone position per point, -1 for none.

    Examples
    --------
    >>> import shapely
    >>> sectors_in_polygons(np.array([[0.5, 0.5], [5.0, 5.0]]),
    ...                     pd.Series([shapely.box(0, 0, 1, 1)], index=["Z"]), {"Z": 0}).tolist()
    [0, -1]
    """
    import shapely

    out = np.full(len(xy), -1, dtype=np.int64)
    kept = [(zone_position[str(c)], g) for c, g in polygons.items() if str(c) in zone_position and g is not None]
    if not kept or not len(xy):
        return out
    positions = np.array([p for p, _ in kept], dtype=np.int64)
    # One spatial index instead of every point against every polygon (10,000 squares x 10,000
    # sectors took 8 s): "within" is contains_xy's test (a point on the boundary is outside).
    tree = shapely.STRtree(np.array([g for _, g in kept], dtype=object))
    point, polygon = tree.query(shapely.points(xy[:, 0], xy[:, 1]), predicate="within")
    # Where polygons overlap, the first zone in the layer's order wins.
    none = np.iinfo(np.int64).max
    best = np.full(len(xy), none)
    np.minimum.at(best, point, positions[polygon])
    found = best < none
    out[found] = best[found]
    return out




def _natural_key(codes: pd.Series) -> pd.Series:
    """Sort 'elz2' before 'elz10' and '9' before '10', as people read codes."""
    def key(code: str) -> tuple:
        return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.findall(r"\d+|\D+", str(code)))
    return codes.map(key)
