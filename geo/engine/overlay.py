"""The overlay engine: two layers -> a weighted contingency table -> mismatches and measures.

Because both layers are membership matrices over the same municipalities, overlaying them is
``A.T @ diag(w) @ B``, not a polygon intersection. The table is sparse (only the cells with
weight, :mod:`geo.engine.cells`) and so is everything read off it: two imported layers of
10,000 squares meet in a few hundred thousand of their 100,000,000 cells. Everything a planner asks ("which members of
W13 sit in another primary care zone, and how many inhabitants is that?") is read off that
table and the per-municipality products behind it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import sparse

from geo.engine import cells as sparse_cells
from geo.engine import metrics
from geo.engine.atoms import Weight
from geo.engine.cells import JointCells, atom_pairs, canonical_csr, sparse_table
from geo.engine.details import PRESENCE, ZoneDetail, zone_details
from geo.engine.fine import joint_cells, joint_gap
from geo.engine.layer import Layer
from geo.errors import InvalidInput

# A layer whose covered inhabitants are, on average, in this many of its zones or more is a
# collection of overlapping zones (the association register), not a zoning: whole-layer
# partition measures mean nothing there (see geo.reference.associations).
OVERLAPPING_LAYER = 2.0
UNDEFINED_REASONS = {
    "no_shared_population": "De twee lagen delen geen inwoners: er valt niets te vergelijken, dus de Rand-index, "
                            "de variatie van informatie en de wederzijdse informatie zijn niet bepaald.",
    "overlapping_zones": "De zones van deze laag overlappen sterk (een gemeente zit gemiddeld in twee of meer "
                         "zones): het is geen indeling van de inwoners, dus de Rand-index, de variatie van "
                         "informatie en de wederzijdse informatie zijn niet bepaald. Per zone gelden de maten "
                         "wel: geraakte zones, grootste zone en leden erbuiten.",
}


@dataclass(frozen=True, eq=False)
class Summary:
    """Whole-layer measures of how A fits B (see :mod:`geo.engine.metrics` for their meaning).

    ``gap_weight``: weight covered by B but by no A-zone. ``overlap_weight``: weight counted in
    two or more A-zones (a municipality in two associations counts once here).
    """

    nested_share: float
    adjusted_rand_index: float
    variation_of_information: float
    normalized_mutual_information: float
    gap_weight: float
    overlap_weight: float
    # Why ARI, VI and NMI are not defined (they are NaN then): a key of UNDEFINED_REASONS, or None.
    undefined: str | None = None

    @property
    def undefined_reason(self) -> str | None:
        """The Dutch sentence that says why the partition measures are not given."""
        return UNDEFINED_REASONS.get(self.undefined) if self.undefined else None

    def as_dict(self, weight: str = "population") -> dict[str, float | str | None]:
        """The measures as JSON-ready values.

        Parameters
        ----------
        weight : {"population", "area"}
            Names the gap and overlap keys (``gap_population``, ``overlap_area``...).

        Returns
        -------
        dict
            Undefined measures (NaN) as None, and ``measures_undefined`` (the reason's key or None).

        Examples
        --------
        >>> result.summary.as_dict()["gap_population"]
        6954629.0
        """
        def defined(value: float) -> float | None:
            return None if value != value else value  # NaN: undefined

        return {
            "nested_share": self.nested_share,
            "adjusted_rand_index": defined(self.adjusted_rand_index),
            "variation_of_information": defined(self.variation_of_information),
            "normalized_mutual_information": defined(self.normalized_mutual_information),
            f"gap_{weight}": self.gap_weight,
            f"overlap_{weight}": self.overlap_weight,
            "measures_undefined": self.undefined,
        }


@dataclass(frozen=True, eq=False)
class OverlayResult:
    """Layer A over layer B, weighted by population or area.

    Attributes
    ----------
    table : scipy.sparse.csr_array
        ``len(a) x len(b)``: weight of each A-zone inside each B-zone; only the cells with weight
        are stored (sorted column indices). :meth:`row` gives one row as a dense vector.
    a_totals, b_totals : numpy.ndarray
        Full weight of each zone, including parts the other layer does not cover.
    split : JointCells
        Municipalities both layers split, counted from their statistical sectors (or polygons):
        read as a mapping, atom row -> {(A-zone, B-zone): weight}. Empty when none is split by both.
    """

    a: Layer
    b: Layer
    weight: Weight
    table: sparse.csr_array
    a_totals: np.ndarray
    b_totals: np.ndarray
    summary: Summary
    split: JointCells = None  # type: ignore[assignment]

    @property
    def population_year(self) -> int:
        """The population year of the atoms the overlay was computed on."""
        return self.a.atoms.population_year

    def transposed(self) -> "OverlayResult":
        """The same overlay seen from B (B-zones as rows).

        Returns
        -------
        OverlayResult
            ``overlay(b, a, weight)``.
        """
        return overlay(self.b, self.a, self.weight)

    def zone_table(self) -> pd.DataFrame:
        """One row per A-zone: weight, dominant B-zone, its share, zones touched, weight outside.

        Returns
        -------
        pandas.DataFrame
            Columns ``code, name, <weight>, members, dominant_zone, dominant_zone_name,
            dominant_share, zones_touched, <weight>_outside_dominant, <weight>_not_covered, nested``.

        Examples
        --------
        >>> result.zone_table().set_index("code").loc["W13", "dominant_zone"]
        'elz18'
        """
        table = self.table
        dominant = sparse_cells.row_argmax(table)
        dominant_weight = sparse_cells.row_max(table)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(self.a_totals > 0, dominant_weight / self.a_totals, 0.0)
        has_dominant = dominant_weight > PRESENCE
        b_codes = self.b.zones["code"].to_numpy()
        b_names = self.b.zones["name"].to_numpy()
        return pd.DataFrame({
            "code": self.a.zones["code"].to_numpy(),
            "name": self.a.zones["name"].to_numpy(),
            self.weight: self.a_totals,
            "members": self.a.member_count(),
            "dominant_zone": np.where(has_dominant, b_codes[dominant] if len(b_codes) else None, None),
            "dominant_zone_name": np.where(has_dominant, b_names[dominant] if len(b_names) else None, None),
            "dominant_share": share,
            "zones_touched": np.bincount(self._cell_rows()[table.data > PRESENCE], minlength=len(self.a)),
            f"{self.weight}_outside_dominant": np.maximum(self.a_totals - dominant_weight, 0.0),
            f"{self.weight}_not_covered": np.maximum(self.a_totals - sparse_cells.row_sums(table), 0.0),
            "nested": metrics.nested_zones(table, self.a_totals),
        })

    def zone_detail(self, code: str) -> "ZoneDetail":
        """Everything about one A-zone: the B-zones it touches with their members.

        Parameters
        ----------
        code : str
            A zone code of A (others raise ``UnknownZone``).

        Returns
        -------
        ZoneDetail
        """
        i = self.a.zone_position(code)
        return zone_details(self, i, i + 1)[0]

    def details(self, start: int = 0, stop: int | None = None) -> list["ZoneDetail"]:
        """Details of every A-zone, or of positions ``start:stop`` (a page of a big layer).

        Parameters
        ----------
        start, stop : int
            A slice of A-zone positions (``stop=None``: to the last zone).

        Returns
        -------
        list of ZoneDetail
            In layer order (see :func:`geo.engine.details.zone_details`).
        """
        return zone_details(self, start, stop)

    def cells(self) -> pd.DataFrame:
        """The contingency table in long form (non-empty cells only).

        Returns
        -------
        pandas.DataFrame
            Columns ``a_code, a_name, b_code, b_name, <weight>``.
        """
        table = self.table
        shown = np.flatnonzero(table.data > PRESENCE)
        rows = self._cell_rows()[shown]
        cols = table.indices[shown]
        return pd.DataFrame({
            "a_code": self.a.zones["code"].to_numpy()[rows],
            "a_name": self.a.zones["name"].to_numpy()[rows],
            "b_code": self.b.zones["code"].to_numpy()[cols],
            "b_name": self.b.zones["name"].to_numpy()[cols],
            self.weight: table.data[shown],
        })

    def _cell_rows(self) -> np.ndarray:
        """The A-zone of each stored cell of the table."""
        return np.repeat(np.arange(self.table.shape[0]), np.diff(self.table.indptr))

    def row(self, i: int) -> np.ndarray:
        """A-zone ``i``'s weight in each B-zone: one row of the table as a dense vector.

        Parameters
        ----------
        i : int
            An A-zone position.

        Returns
        -------
        numpy.ndarray
            ``len(b)`` weights.

        Examples
        --------
        >>> w13 = result.row(result.a.zone_position("W13"))
        >>> result.b.zone_codes[int(w13.argmax())]
        'elz18'
        """
        return sparse_cells.row(self.table, i)


def overlay(a: Layer, b: Layer, weight: Weight = "population") -> OverlayResult:
    """Overlay layer A on layer B.

    Parameters
    ----------
    a, b : Layer
        Layers over the same atoms.
    weight : {"population", "area"}
        Count inhabitants (Statbel, 1 January of ``atoms.population_year``) or km^2.

    Returns
    -------
    OverlayResult

    Examples
    --------
    >>> result = overlay(catalog.layer("samenwerkingsverband"), catalog.layer("eerstelijnszone"))
    >>> round(result.summary.nested_share, 3)  # Neteland lies in one zone: 69,049 of 892,769 inhabitants
    0.077
    """
    if a.atoms is not b.atoms:
        raise InvalidInput(f"layers {a.id!r} and {b.id!r} are not over the same municipalities")
    if weight == "area":
        from geo.engine.areas import area_gap, area_view, joint_areas

        a, b = area_view(a), area_view(b)
    w = a.atoms.weights(weight)
    # Municipalities both layers take apart (sub-zones, polygons, partial members) are counted
    # from their statistical sectors (by area: from the polygons' intersections); the rest, where
    # at least one layer keeps the municipality whole, as products of shares (exact there).
    split = split_cells(a, b, w) if weight == "population" else JointCells.from_dict(joint_areas(a, b))
    w_rest = w
    if split:
        w_rest = w.copy()
        w_rest[split.rows] = 0.0
    table = sparse_table(a.membership, b.membership, w_rest, split)
    a_totals = _zone_totals(a.membership, w)
    b_totals = _zone_totals(b.membership, w)
    # A layer of overlapping zones (the register of associations) leaves the partition measures
    # undefined: its table of combined groups, the largest of all, is then not built.
    partition_table = None if _overlapping(a.coverage(), b.coverage(), w) else _partition_table(a, b, w, split)
    gaps = (joint_gap(a, b, w, split.rows) if weight == "population"
            else area_gap(a, b, split.rows)) if split else None
    summary = summarise(table, a_totals, a.coverage(), b.coverage(), w, partition_table,
                        unit_free=weight != "population", a_membership=a.membership, gap_by_row=gaps)
    return OverlayResult(a=a, b=b, weight=weight, table=table, a_totals=a_totals, b_totals=b_totals,
                         summary=summary, split=split)


def _overlapping(a_coverage: np.ndarray, b_coverage: np.ndarray, w: np.ndarray) -> bool:
    """Whether either layer is a layer of overlapping zones (its partition measures are undefined)."""
    for coverage in (a_coverage, b_coverage):
        # Dot products: this runs on every overlay and must cost microseconds.
        counted = float(np.dot(w, coverage))
        if counted >= OVERLAPPING_LAYER * float(np.dot(w, np.minimum(coverage, 1.0))) and counted > 0:
            return True
    return False


def _undefined(groups: metrics.Table, a_coverage: np.ndarray, b_coverage: np.ndarray, w: np.ndarray) -> str | None:
    """Why the partition measures are undefined for this pair, or None."""
    if _overlapping(a_coverage, b_coverage, w):
        return "overlapping_zones"
    if float(groups.sum() if sparse.issparse(groups) else np.add.reduce(groups, axis=None)) <= PRESENCE:
        return "no_shared_population"
    return None


def _partition_table(a: Layer, b: Layer, w: np.ndarray, split: JointCells | None = None) -> sparse.csr_array | None:
    """The table over combined groups, or None when neither layer has overlapping zones (the
    contingency table then is the partition table). Counted from the sectors (``split``) are only
    the municipalities in at most one zone's worth of each layer, whose partition columns are the
    zones themselves; one in two overlapping zones of a layer stays a product of its combined group."""
    pa, pb = a.partition(), b.partition()
    if pa is a.membership and pb is b.membership:
        return None
    if split is not None:
        split = split.where((a.coverage() <= 1.0 + 1e-6) & (b.coverage() <= 1.0 + 1e-6))
    w_rest = w
    if split:
        w_rest = w.copy()
        w_rest[split.rows] = 0.0
    return sparse_table(pa, pb, w_rest, split)


def split_cells(a: Layer, b: Layer, w: np.ndarray) -> JointCells:
    """Joint weight of A- and B-zones in the municipalities that both layers take apart, counted
    from the statistical sectors (:func:`geo.engine.fine.joint_cells`).

    Two layers that each split a municipality (the Antwerp sub-zones against themselves, an
    imported polygon layer against them) or count only part of it (a partial membership: only
    Borsbeek of today's Antwerpen) do not do so independently: the product of their shares would
    spread Borsbeek's 2 % over every sub-zone. Each sector belongs to its zones in each layer and
    carries its inhabitants there. Cheap where it does not apply: no sector is looked at unless
    both layers take the same municipality apart.

    Parameters
    ----------
    a, b : Layer
        Layers over the same atoms.
    w : numpy.ndarray
        Inhabitants per atom.

    Returns
    -------
    JointCells
        Read as a mapping: atom row -> {(A-zone position, B-zone position): inhabitants}, for the
        municipalities both layers split and whose sectors reproduce both layers' shares; empty otherwise.

    Examples
    --------
    >>> from geo.reference.catalog import load_catalog
    >>> antwerp = load_catalog().layer("eerstelijnszone_antwerpen_stad")
    >>> cells = split_cells(antwerp, antwerp, antwerp.atoms.weights())
    >>> {antwerp.zone_codes[i]: round(v) for (i, j), v in next(iter(cells.values())).items() if i == j}
    {'1': 210008, '2': 141512, '3': 111731, '4': 92148}
    """
    return joint_cells(a, b, w)


def weighted_table(a: sparse.csr_array, b: sparse.csr_array, w: np.ndarray) -> np.ndarray:
    """The dense contingency table ``a.T @ diag(w) @ b`` of two membership matrices, for the
    incremental evaluator of a scenario's moves (its tables are edited in place; the overlay's
    own table is sparse: :func:`geo.engine.cells.sparse_table`).

    Each atom adds ``w * share_a * share_b`` to the cell of each pair of its zones, atom by
    atom in row order: the same products summed in the same order as scipy's sparse product
    (so the same numbers to the last bit), without the sparse machinery's fixed cost per call,
    which was most of an overlay's time at Flemish scale (a few hundred atoms and zones).

    Parameters
    ----------
    a, b : scipy.sparse.csr_array
        Membership matrices (atoms x zones) over the same atoms.
    w : numpy.ndarray
        Weight per atom.

    Returns
    -------
    numpy.ndarray
        ``a.shape[1] x b.shape[1]``, column-major.

    Examples
    --------
    >>> a = sparse.csr_array(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]))
    >>> b = sparse.csr_array(np.array([[1.0], [1.0], [0.5]]))
    >>> weighted_table(a, b, np.array([10.0, 20.0, 30.0])).tolist()
    [[10.0], [35.0]]
    """
    a, b = canonical_csr(a), canonical_csr(b)
    n_a, n_b = a.shape[1], b.shape[1]
    atom, entry_a, entry_b = atom_pairs(a, b, np.arange(a.shape[0]))
    if len(atom) == 0:
        return np.zeros((n_a, n_b), order="F")
    values = (a.data[entry_a] * w[atom]) * b.data[entry_b]
    # Column-major, as scipy's product came out: the measures sum the table in memory order.
    cells = a.indices[entry_a].astype(np.int64) + b.indices[entry_b].astype(np.int64) * n_a
    return np.bincount(cells, weights=values, minlength=n_a * n_b).reshape(n_a, n_b, order="F")


def _zone_totals(membership: sparse.csr_array, w: np.ndarray) -> np.ndarray:
    """``membership.T @ w``: each zone's weight, summed atom by atom as scipy does."""
    m = canonical_csr(membership)
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    return np.bincount(m.indices, weights=m.data * w[rows], minlength=m.shape[1])


def summarise(table: metrics.Table, a_totals: np.ndarray, a_coverage: np.ndarray, b_coverage: np.ndarray,
              w: np.ndarray, partition_table: metrics.Table | None = None, *, unit_free: bool = False,
              a_membership: sparse.csr_array | None = None, gap_by_row: dict[int, float] | None = None) -> Summary:
    """Whole-layer measures from the table and the per-atom coverage of both layers.

    The partition measures (ARI, VI, NMI) use only the weight both layers cover; gaps and
    overlaps are reported separately so they are not mistaken for disagreement. When a layer
    has overlapping zones, those measures use ``partition_table`` (see :meth:`Layer.partition`):
    inhabitants of a municipality in two zones form one combined group. ``unit_free``: the
    weight is not a count of individuals (area), so the ARI is the unit-free one
    (:func:`geo.engine.metrics.adjusted_rand_index`). With overlapping A-zones and ``a_membership``
    given, the nested share counts each inhabitant once (:func:`geo.engine.metrics.nested_share_once`).

    Parameters
    ----------
    table : numpy.ndarray or scipy.sparse.csr_array
        A-zones x B-zones weights.
    a_totals : numpy.ndarray
        Full weight of each A-zone.
    a_coverage, b_coverage : numpy.ndarray
        Per atom, the sum of its shares in A and in B (:meth:`Layer.coverage`).
    w : numpy.ndarray
        Weight per atom.
    partition_table : numpy.ndarray or scipy.sparse.csr_array, optional
        The table of A's partition (:meth:`Layer.partition`) when A or B has overlapping zones.
    unit_free : bool
        The weight is not a count (area).
    a_membership : scipy.sparse.csr_array, optional
        A's membership, to count each inhabitant of overlapping A-zones once.
    gap_by_row : optional
        The gap of the municipalities both layers take apart, counted from their sectors or
        polygons (:func:`geo.engine.fine.joint_gap`), replacing the product there.

    Returns
    -------
    Summary
    """
    in_b = np.minimum(b_coverage, 1.0)
    groups = table if partition_table is None else partition_table
    gap = w * in_b * np.clip(1.0 - a_coverage, 0.0, 1.0)
    if gap_by_row:
        gap = gap.copy()
        gap[list(gap_by_row)] = list(gap_by_row.values())
    summary = summary_from_tables(table, a_totals, groups,
                                  gap_weight=float(gap.sum()),
                                  overlap_weight=float((w * np.clip(a_coverage - 1.0, 0.0, 1.0)).sum()),
                                  unit_free=unit_free,
                                  partition=not _overlapping(a_coverage, b_coverage, w))
    return settle(summary, table, a_totals, groups, a_coverage, b_coverage, w, a_membership)


def settle(summary: Summary, table: metrics.Table, a_totals: np.ndarray, groups: metrics.Table, a_coverage: np.ndarray,
           b_coverage: np.ndarray, w: np.ndarray, a_membership: sparse.csr_array | None = None) -> Summary:
    """Apply the conventions of :mod:`geo.engine.metrics` that need more than the tables: the nested
    share with each inhabitant once (when A-zones overlap and A's membership is given), and
    undefined partition measures (no shared inhabitants, a layer of overlapping zones).
    Shared by :func:`summarise` and the incremental evaluator, so both say the same.

    Parameters
    ----------
    summary : Summary
        As :func:`summary_from_tables` computed it.
    table, a_totals, groups, a_coverage, b_coverage, w, a_membership
        As for :func:`summarise` (``groups``: the partition table, or ``table``).

    Returns
    -------
    Summary
        A copy with the nested share counted once, and NaN with a reason where the partition
        measures are undefined.
    """
    if a_membership is not None and (a_coverage > 1.0 + 1e-6).any():
        nested = metrics.nested_zones(table, a_totals)
        summary = replace(summary, nested_share=metrics.nested_share_once(a_membership, w, nested))
    undefined = _undefined(groups, a_coverage, b_coverage, w)
    if undefined:
        nan = float("nan")
        summary = replace(summary, adjusted_rand_index=nan, variation_of_information=nan,
                          normalized_mutual_information=nan, undefined=undefined)
    return summary


def summary_from_tables(table: metrics.Table, a_totals: np.ndarray, groups: metrics.Table, *, gap_weight: float,
                        overlap_weight: float, unit_free: bool = False, partition: bool = True) -> Summary:
    """The measures from a contingency table, the A-zone totals and the partition table
    (``groups``); shared by :func:`summarise` and the incremental evaluator. ``partition=False``:
    the partition measures are not computed (NaN; :func:`settle` says why they are undefined).

    Parameters
    ----------
    table : numpy.ndarray or scipy.sparse.csr_array
        A-zones x B-zones weights.
    a_totals : numpy.ndarray
        Full weight of each A-zone.
    groups : numpy.ndarray or scipy.sparse.csr_array
        The partition table the ARI, VI and NMI are computed from.
    gap_weight, overlap_weight : float
        Reported as they are.
    unit_free : bool
        The weight is not a count (area).
    partition : bool
        False: the partition measures are not computed.

    Returns
    -------
    Summary
    """
    nan = float("nan")
    ari, vi, nmi = metrics.partition_measures(groups, unit_free=unit_free) if partition else (nan, nan, nan)
    return Summary(
        nested_share=metrics.nested_share(table, a_totals),
        adjusted_rand_index=ari,
        variation_of_information=vi,
        normalized_mutual_information=nmi,
        gap_weight=gap_weight,
        overlap_weight=overlap_weight,
    )
