"""Per-zone details of an overlay, built for a range of A-zones at once with array operations.

Everything :class:`ZoneDetail` holds (the B-zones an A-zone touches with their
members, the members outside the dominant B-zone, the members no B-zone covers) comes from the
products ``w[atom] * share_a * share_b`` of every atom with every pair of its zones: the
same products the contingency table sums. They are expanded for all requested A-zones in one
pass and grouped by sorting (:func:`detail_arrays`), so a layer of 10,000 imported polygons costs
array work, not 10,000 rounds of per-zone slicing. :func:`zone_details` turns the arrays into
objects; a writer that needs no objects (the overlay JSON of ``api.serialize``) reads the arrays.

Examples
--------
>>> result = overlay(catalog.layer("samenwerkingsverband"), catalog.layer("eerstelijnszone"))
>>> [d.code for d in zone_details(result, 0, 2)]
['NETELAND', 'W13']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
from scipy import sparse

from geo.engine.cells import JointCells
from geo.engine.metrics import NESTED_TOLERANCE

if TYPE_CHECKING:  # only for annotations
    from geo.engine.atoms import Weight
    from geo.engine.layer import Layer

@dataclass(frozen=True)
class Member:
    """A municipality in a zone, with its weight (share of it in the zone)."""

    nis_code: int
    name: str
    weight: float


@dataclass(frozen=True)
class TouchedZone:
    """A zone of the other layer that a zone touches, with the weight and share it has there."""

    code: str
    name: str
    weight: float
    share: float
    members: list[Member]


@dataclass(frozen=True)
class ZoneDetail:
    """One A-zone against layer B.

    ``members_outside_dominant`` lists the members (wholly or partly) outside the dominant
    B-zone: the municipalities "on the wrong side of the line".
    """

    code: str
    name: str
    weight: float
    dominant_zone: str | None
    dominant_zone_name: str | None
    dominant_share: float
    zones_touched: list[TouchedZone]
    not_covered: list[Member]
    members_outside_dominant: list[Member]
    weight_outside_dominant: float

    @property
    def nested(self) -> bool:
        """Whether the zone lies (up to ``NESTED_TOLERANCE``) entirely within one zone of the other layer."""
        return self.weight > 0 and self.dominant_share >= 1.0 - NESTED_TOLERANCE


class Overlaid(Protocol):
    """What the details read of an overlay's result: the two layers, the weight, the weighted
    table, the A-zone totals and the split municipalities (read-only)."""

    @property
    def a(self) -> Layer:
        """The layer whose zones are the rows."""

    @property
    def b(self) -> Layer:
        """The layer they are held against."""

    @property
    def weight(self) -> Weight:
        """"population" or "area"."""

    @property
    def table(self) -> sparse.csr_array:
        """A-zones x B-zones weights (only the cells with weight)."""

    @property
    def a_totals(self) -> np.ndarray:
        """The full weight of each A-zone."""

    @property
    def split(self) -> Mapping:
        """The municipalities counted finer than whole (from their sectors or polygons): a
        :class:`geo.engine.cells.JointCells` or atom row -> {(A-zone, B-zone): weight}."""


PRESENCE = 1e-9  # weights below this are float noise, not membership (the overlay uses it too)


class LayerColumns:
    """What details read of one layer, prepared once per layer (a layer never changes): its
    membership by zone (CSC) and by atom (CSR), its zone codes and names as text, and the rank of
    each code as strings compare (ties in weight are broken by code)."""

    def __init__(self, layer: "Layer"):
        csc = sparse.csc_array(layer.membership)
        csc.sort_indices()
        self.by_zone = (csc.indptr, csc.indices, csc.data)
        csr = sparse.csr_array(layer.membership)
        csr.sort_indices()
        self.by_atom = (csr.indptr, csr.indices, csr.data)
        self.codes = layer.zones["code"].astype(str).tolist()
        self.names = layer.zones["name"].astype(str).tolist()
        self.code_rank = np.argsort(np.argsort(np.array(self.codes, dtype=object), kind="stable"), kind="stable")


def layer_columns(layer: "Layer") -> LayerColumns:
    """:class:`LayerColumns` of ``layer``, kept with the layer (as :class:`geo.engine.layer.Layer` keeps
    its own derived arrays).

    Parameters
    ----------
    layer : Layer

    Returns
    -------
    LayerColumns
        The same object on every call for the same layer.

    Examples
    --------
    >>> from geo.reference.catalog import load_catalog
    >>> layer_columns(load_catalog().layer("eerstelijnszone")).codes[:3]
    ['elz1', 'elz2', 'elz3']
    """
    prepared = layer.__dict__.get("_details_columns")
    if prepared is None:
        prepared = LayerColumns(layer)
        object.__setattr__(layer, "_details_columns", prepared)
    return prepared


def atom_labels(atoms) -> tuple[np.ndarray, list[int], list[str]]:
    """NIS codes of the atoms (an array and as ints) and their names, prepared once per atoms.

    Parameters
    ----------
    atoms : Atoms

    Returns
    -------
    tuple of (numpy.ndarray, list of int, list of str)
        The NIS codes as an int64 array and as ints, and the Dutch names, in atom order.

    Examples
    --------
    >>> nis, codes, names = atom_labels(atoms)
    >>> codes[0], names[0]
    (11001, 'Aartselaar')
    """
    prepared = atoms.__dict__.get("_details_labels")
    if prepared is None:
        nis = atoms.nis_codes.astype(np.int64)
        prepared = (nis, nis.tolist(), [str(n) for n in atoms.names])
        object.__setattr__(atoms, "_details_labels", prepared)
    return prepared


@dataclass(frozen=True, eq=False)
class DetailArrays:
    """The details of A-zones ``start`` to ``stop`` as arrays, each list in the order it is shown.

    Per zone ``k`` (position ``start + k``): ``total`` (its weight), ``dominant`` (its dominant
    B-zone's position, -1 when it touches none), ``dominant_share``, ``weight_outside`` and
    ``nested``. Groups are contiguous, ``*_bounds[k]:*_bounds[k + 1]`` is group ``k``:

    * touched B-zones per A-zone (``t_bounds``, length ``n + 1``): ``t_b`` (B position),
      ``t_weight``, ``t_share``; heaviest first, ties by code;
    * members per touched zone (``m_bounds``, length ``len(t_b) + 1``): ``m_atom`` (atom row),
      ``m_weight``; by NIS code;
    * members outside the dominant zone per A-zone (``o_bounds``): ``o_atom``, ``o_weight``; by NIS
      code (every member, in layer order, for a zone that touches no B-zone);
    * members no B-zone covers per A-zone (``c_bounds``): ``c_atom``, ``c_weight``.
    """

    start: int
    stop: int
    total: np.ndarray
    dominant: np.ndarray
    dominant_share: np.ndarray
    weight_outside: np.ndarray
    nested: np.ndarray
    t_bounds: np.ndarray
    t_b: np.ndarray
    t_weight: np.ndarray
    t_share: np.ndarray
    m_bounds: np.ndarray
    m_atom: np.ndarray
    m_weight: np.ndarray
    o_bounds: np.ndarray
    o_atom: np.ndarray
    o_weight: np.ndarray
    c_bounds: np.ndarray
    c_atom: np.ndarray
    c_weight: np.ndarray


def _group_bounds(keys: np.ndarray, n_groups: int) -> np.ndarray:
    """``bounds[g]:bounds[g+1]`` is group ``g`` of ``keys`` sorted ascending."""
    return np.searchsorted(keys, np.arange(n_groups + 1), side="left")


def _slices(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The indices ``lo[0]:hi[0], lo[1]:hi[1], ...`` one after the other, and the bounds of each
    range in that sequence."""
    counts = hi - lo
    bounds = np.concatenate([[0], np.cumsum(counts)])
    index = np.arange(int(bounds[-1])) + np.repeat(lo - bounds[:-1], counts)
    return index, bounds


def detail_arrays(result: Overlaid, start: int = 0, stop: int | None = None) -> DetailArrays:
    """The details of A-zones ``start`` to ``stop`` (positions in ``result.a``) as arrays.

    Parameters
    ----------
    result : Overlaid
    start, stop : int
        A slice of A-zone positions (``stop=None``: to the last zone); clipped to the layer.

    Returns
    -------
    DetailArrays
        The numbers :func:`zone_details` builds its objects from.

    Examples
    --------
    >>> from geo.reference.catalog import load_catalog
    >>> catalog = load_catalog()
    >>> elz = catalog.layer("eerstelijnszone")
    >>> arrays = detail_arrays(overlay(catalog.layer("samenwerkingsverband"), elz))  # ISOM, W13, WRNL, WZK
    >>> [layer_columns(elz).codes[j] for j in arrays.dominant], arrays.nested.tolist()
    (['elz25', 'elz18', 'elz28', 'elz41'], [True, False, False, False])
    >>> arrays.t_bounds.tolist()  # W13 touches 4 primary care zones: t_b[1:5]
    [0, 1, 5, 7, 11]
    """
    n_a = len(result.a)
    stop = n_a if stop is None else min(stop, n_a)
    start = max(0, min(start, stop))
    n = stop - start
    w = result.a.atoms.weights(result.weight)
    a_indptr, a_rows, a_shares = layer_columns(result.a).by_zone
    b_cols_of = layer_columns(result.b)
    b_indptr, b_cols, b_shares = b_cols_of.by_atom
    nis = atom_labels(result.a.atoms)[0]

    # Entries (A-zone, atom) of the requested zones: a contiguous block of A's CSC arrays.
    lo, hi = a_indptr[start], a_indptr[stop]
    entry_zone = np.repeat(np.arange(start, stop), np.diff(a_indptr[start:stop + 1])) - start
    entry_atom = a_rows[lo:hi]
    entry_weight = w[entry_atom] * a_shares[lo:hi]

    # Pieces (entry, B-zone): every B-membership of each entry's atom.
    counts = np.diff(b_indptr)[entry_atom]
    piece_entry = np.repeat(np.arange(len(entry_atom)), counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    positions = b_indptr[entry_atom][piece_entry] + offsets
    piece_b = b_cols[positions]
    piece_weight = entry_weight[piece_entry] * b_shares[positions]
    # Municipalities both layers split are counted from their statistical sectors (the overlay
    # split_cells), not as products of shares: their pieces are the sector-counted cells.
    if result.split:
        cells = JointCells.from_dict(result.split).sorted()
        in_split = np.isin(entry_atom, cells.rows)
        if in_split.any():
            # The cells are sorted by (atom, A-zone, B-zone): each split entry's cells are a range.
            split_entries = np.flatnonzero(in_split)
            cell_key = cells.row * n_a + cells.a
            entry_key = entry_atom[split_entries].astype(np.int64) * n_a + (start + entry_zone[split_entries])
            first, last = np.searchsorted(cell_key, entry_key, "left"), np.searchsorted(cell_key, entry_key, "right")
            index, _ = _slices(first, last)
            keep = ~in_split[piece_entry]
            piece_entry = np.concatenate([piece_entry[keep], np.repeat(split_entries, last - first)])
            piece_b = np.concatenate([piece_b[keep], cells.b[index].astype(piece_b.dtype)])
            piece_weight = np.concatenate([piece_weight[keep], cells.value[index]])

    # Touched B-zones per A-zone from the (sparse) table's rows, heaviest first, ties by code.
    total = np.asarray(result.a_totals[start:stop], dtype=float)
    table = result.table
    lo, hi = table.indptr[start], table.indptr[stop]
    shown = table.data[lo:hi] > PRESENCE
    t_zone = np.repeat(np.arange(n), np.diff(table.indptr[start:stop + 1]))[shown]
    t_b, t_weight = table.indices[lo:hi][shown].astype(np.int64), table.data[lo:hi][shown]
    order = np.lexsort((b_cols_of.code_rank[t_b], -t_weight, t_zone))
    t_zone, t_b, t_weight = t_zone[order], t_b[order], t_weight[order]
    t_bounds = _group_bounds(t_zone, n)
    t_total = total[t_zone]
    t_share = np.divide(t_weight, t_total, out=np.zeros(len(t_weight)), where=t_total != 0)
    first = t_bounds[:-1]
    has_touched = t_bounds[1:] > first
    dominant = np.full(n, -1)
    dominant[has_touched] = t_b[first[has_touched]]
    dominant_share = np.zeros(n)
    dominant_share[has_touched] = t_share[first[has_touched]]

    # Members of each touched zone: pieces above PRESENCE, by (A-zone, B-zone, NIS code), then
    # taken in the order of the touched zones.
    shown = piece_weight > PRESENCE
    m_zone, m_b = entry_zone[piece_entry][shown], piece_b[shown]
    m_atom, m_weight = entry_atom[piece_entry][shown], piece_weight[shown]
    order = np.lexsort((nis[m_atom], m_b, m_zone))
    m_key = m_zone[order].astype(np.int64) * len(result.b) + m_b[order]
    t_key = t_zone.astype(np.int64) * len(result.b) + t_b
    index, m_bounds = _slices(np.searchsorted(m_key, t_key, side="left"), np.searchsorted(m_key, t_key, side="right"))
    m_atom, m_weight = m_atom[order][index], m_weight[order][index]

    # Per entry: its weight in the dominant B-zone, and what no B-zone covers.
    is_dominant = piece_b == dominant[entry_zone[piece_entry]]
    in_dominant = np.bincount(piece_entry[is_dominant], weights=piece_weight[is_dominant], minlength=len(entry_atom))
    in_any = np.bincount(piece_entry, weights=piece_weight, minlength=len(entry_atom))
    uncovered = np.maximum(entry_weight - in_any, 0.0)
    outside = np.maximum(entry_weight - in_dominant, 0.0)
    # Outside the dominant zone: the members with more than float noise outside it, by NIS code;
    # a zone that touches no B-zone has no dominant one: all its members, in layer order.
    touching = has_touched[entry_zone]
    listed = np.nonzero(~touching | (outside > PRESENCE * np.maximum(1.0, w[entry_atom])))[0]
    secondary = np.where(touching[listed], nis[entry_atom[listed]], listed)
    listed = listed[np.lexsort((secondary, entry_zone[listed]))]
    o_bounds = _group_bounds(entry_zone[listed], n)
    o_atom = entry_atom[listed]
    o_weight = np.where(touching[listed], outside[listed], entry_weight[listed])
    weight_outside = np.where(has_touched, np.bincount(entry_zone, weights=outside, minlength=n),
                              np.bincount(entry_zone, weights=entry_weight, minlength=n))
    not_covered = np.nonzero(uncovered > PRESENCE)[0]

    return DetailArrays(
        start=start, stop=stop, total=total, dominant=dominant, dominant_share=dominant_share,
        weight_outside=weight_outside, nested=(total > 0) & (dominant_share >= 1.0 - NESTED_TOLERANCE),
        t_bounds=t_bounds, t_b=t_b, t_weight=t_weight, t_share=t_share,
        m_bounds=m_bounds, m_atom=m_atom, m_weight=m_weight,
        o_bounds=o_bounds, o_atom=o_atom, o_weight=o_weight,
        c_bounds=_group_bounds(entry_zone[not_covered], n), c_atom=entry_atom[not_covered],
        c_weight=uncovered[not_covered])


def zone_details(result: Overlaid, start: int = 0, stop: int | None = None) -> list["ZoneDetail"]:
    """Details of A-zones ``start`` to ``stop`` (positions in ``result.a``), in layer order.

    Parameters
    ----------
    result : Overlaid
    start, stop : int
        A slice of A-zone positions (``stop=None``: to the last zone).

    Returns
    -------
    list of ZoneDetail
        One per A-zone; the same numbers as computing each zone on its own.

    Examples
    --------
    >>> details = zone_details(result, 0, 10)
    >>> details[1].code, details[1].dominant_zone, len(details[1].members_outside_dominant)
    ('W13', 'elz18', 11)
    """
    d = detail_arrays(result, start, stop)
    if d.start == d.stop:
        return []
    _, codes, names = atom_labels(result.a.atoms)
    a, b = layer_columns(result.a), layer_columns(result.b)

    def members(atom: np.ndarray, weight: np.ndarray, bounds: np.ndarray) -> list[list]:
        atom, weight, bounds = atom.tolist(), weight.tolist(), bounds.tolist()
        made = [Member(codes[r], names[r], v) for r, v in zip(atom, weight)]
        return [made[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])]

    in_touched = members(d.m_atom, d.m_weight, d.m_bounds)
    outside, not_covered = members(d.o_atom, d.o_weight, d.o_bounds), members(d.c_atom, d.c_weight, d.c_bounds)
    touched = [TouchedZone(b.codes[j], b.names[j], v, s, m)
               for j, v, s, m in zip(d.t_b.tolist(), d.t_weight.tolist(), d.t_share.tolist(), in_touched)]
    t_bounds = d.t_bounds.tolist()
    details = []
    for k, (total, share, weight_outside) in enumerate(zip(d.total.tolist(), d.dominant_share.tolist(),
                                                           d.weight_outside.tolist())):
        i = d.start + k
        zones = touched[t_bounds[k]:t_bounds[k + 1]]
        dominant = zones[0] if zones else None
        details.append(ZoneDetail(a.codes[i], a.names[i], total, dominant.code if dominant else None,
                                  dominant.name if dominant else None, share, zones, not_covered[k], outside[k],
                                  weight_outside))
    return details
