"""Per-zone details of an overlay, built for a range of A-zones at once with array operations.

Everything :class:`geo.overlay.ZoneDetail` holds (the B-zones an A-zone touches with their
members, the members outside the dominant B-zone, the members no B-zone covers) comes from the
products ``w[atom] * share_a * share_b`` of every atom with every pair of its zones: the
same products the contingency table sums. They are expanded for all requested A-zones in one
pass and grouped by sorting, so a layer of 10,000 imported polygons costs array work, not
10,000 rounds of per-zone slicing; only building the result objects is per member.

Examples
--------
>>> result = overlay(catalog.layer("samenwerkingsverband"), catalog.layer("eerstelijnszone"))  # doctest: +SKIP
>>> [d.code for d in zone_details(result, 0, 2)]  # doctest: +SKIP
['ISOM', 'W13']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

if TYPE_CHECKING:  # geo.overlay imports this module lazily; no cycle at run time
    from geo.overlay import OverlayResult, ZoneDetail

PRESENCE = 1e-9  # as geo.overlay.PRESENCE: weights below this are float noise, not membership


class _Prepared:
    """What every range of details of one overlay reads: A by zone (CSC), B by atom (CSR)."""

    def __init__(self, result: "OverlayResult"):
        self.w = result.a.atoms.weights(result.weight)
        csc = sparse.csc_array(result.a.membership)
        csc.sort_indices()
        self.a_indptr, self.a_rows, self.a_shares = csc.indptr, csc.indices, csc.data
        b = sparse.csr_array(result.b.membership)
        b.sort_indices()
        self.b_indptr, self.b_cols, self.b_shares = b.indptr, b.indices, b.data
        self.nis = result.a.atoms.nis_codes.astype(np.int64)
        self.codes = self.nis.tolist()
        self.names = [str(n) for n in result.a.atoms.names]
        self.a_codes = [str(c) for c in result.a.zones["code"]]
        self.a_names = [str(n) for n in result.a.zones["name"]]
        self.b_codes = [str(c) for c in result.b.zones["code"]]
        self.b_names = [str(n) for n in result.b.zones["name"]]
        # Rank of each B-zone code: ties in weight are broken by code, as strings compare.
        self.b_code_rank = np.argsort(np.argsort(np.array(self.b_codes, dtype=object), kind="stable"), kind="stable")


def _prepared(result: "OverlayResult") -> _Prepared:
    # The result is frozen; the prepared arrays are a cache, not part of its value.
    prepared = result.__dict__.get("_details_prepared")
    if prepared is None:
        prepared = _Prepared(result)
        object.__setattr__(result, "_details_prepared", prepared)
    return prepared


def _group_bounds(keys: np.ndarray, n_groups: int) -> np.ndarray:
    """``bounds[g]:bounds[g+1]`` is group ``g`` of ``keys`` sorted ascending."""
    return np.searchsorted(keys, np.arange(n_groups + 1), side="left")


def zone_details(result: "OverlayResult", start: int = 0, stop: int | None = None) -> list["ZoneDetail"]:
    """Details of A-zones ``start`` to ``stop`` (positions in ``result.a``), in layer order.

    Parameters
    ----------
    result : OverlayResult
    start, stop : int
        A slice of A-zone positions (``stop=None``: to the last zone).

    Returns
    -------
    list of ZoneDetail
        One per A-zone; the same numbers as computing each zone on its own.

    Examples
    --------
    >>> details = zone_details(result, 0, 10)  # doctest: +SKIP
    >>> details[0].members_outside_dominant  # doctest: +SKIP
    """
    from geo.overlay import Member, TouchedZone, ZoneDetail

    n_a = len(result.a)
    stop = n_a if stop is None else min(stop, n_a)
    start = max(0, min(start, stop))
    if start == stop:
        return []
    p = _prepared(result)
    w = p.w

    # Entries (A-zone, atom) of the requested zones: a contiguous block of A's CSC arrays.
    lo, hi = p.a_indptr[start], p.a_indptr[stop]
    entry_zone = np.repeat(np.arange(start, stop), np.diff(p.a_indptr[start:stop + 1])) - start
    entry_atom = p.a_rows[lo:hi]
    entry_weight = w[entry_atom] * p.a_shares[lo:hi]

    # Pieces (entry, B-zone): every B-membership of each entry's atom.
    counts = np.diff(p.b_indptr)[entry_atom]
    piece_entry = np.repeat(np.arange(len(entry_atom)), counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    positions = p.b_indptr[entry_atom][piece_entry] + offsets
    piece_b = p.b_cols[positions]
    piece_weight = entry_weight[piece_entry] * p.b_shares[positions]
    # Municipalities both layers split are counted from their statistical sectors (geo.overlay
    # split_cells), not as products of shares: their pieces are the sector-counted cells.
    split = result.split or {}
    if split:
        split_entries = [e for e, r in enumerate(entry_atom.tolist()) if r in split]
        if split_entries:
            keep = ~np.isin(piece_entry, split_entries)
            extra = [(e, zb, value) for e in split_entries
                     for (za, zb), value in split[int(entry_atom[e])].items() if za == start + entry_zone[e]]
            piece_entry = np.concatenate([piece_entry[keep], np.array([x[0] for x in extra], dtype=piece_entry.dtype)])
            piece_b = np.concatenate([piece_b[keep], np.array([x[1] for x in extra], dtype=piece_b.dtype)])
            piece_weight = np.concatenate([piece_weight[keep], np.array([x[2] for x in extra], dtype=float)])

    # Touched B-zones per A-zone from the table, heaviest first, ties by code.
    block = result.table[start:stop]
    t_zone, t_b = np.nonzero(block > PRESENCE)
    t_weight = block[t_zone, t_b]
    order = np.lexsort((p.b_code_rank[t_b], -t_weight, t_zone))
    t_zone, t_b, t_weight = t_zone[order], t_b[order], t_weight[order]
    t_bounds = _group_bounds(t_zone, stop - start)
    first = t_bounds[:-1]
    has_touched = t_bounds[1:] > first
    dominant = np.full(stop - start, -1)
    dominant[has_touched] = t_b[first[has_touched]]

    # Members of each touched zone: pieces above PRESENCE, by (A-zone, B-zone, NIS code).
    shown = piece_weight > PRESENCE
    m_zone, m_b = entry_zone[piece_entry][shown], piece_b[shown]
    m_atom, m_weight = entry_atom[piece_entry][shown], piece_weight[shown]
    order = np.lexsort((p.nis[m_atom], m_b, m_zone))
    m_key = (m_zone[order].astype(np.int64) * len(result.b) + m_b[order])
    m_atom, m_weight = m_atom[order].tolist(), m_weight[order].tolist()
    t_key = t_zone.astype(np.int64) * len(result.b) + t_b
    m_lo = np.searchsorted(m_key, t_key, side="left").tolist()
    m_hi = np.searchsorted(m_key, t_key, side="right").tolist()

    # Per entry: its weight in the dominant B-zone, and what no B-zone covers.
    is_dominant = piece_b == dominant[entry_zone[piece_entry]]
    in_dominant = np.bincount(piece_entry[is_dominant], weights=piece_weight[is_dominant], minlength=len(entry_atom))
    in_any = np.bincount(piece_entry, weights=piece_weight, minlength=len(entry_atom))
    uncovered = np.maximum(entry_weight - in_any, 0.0)
    outside = np.maximum(entry_weight - in_dominant, 0.0)
    outside_shown = np.nonzero(outside > PRESENCE * np.maximum(1.0, w[entry_atom]))[0]
    outside_shown = outside_shown[np.lexsort((p.nis[entry_atom[outside_shown]], entry_zone[outside_shown]))]
    o_bounds = _group_bounds(entry_zone[outside_shown], stop - start).tolist()
    o_atom, o_weight = entry_atom[outside_shown].tolist(), outside[outside_shown].tolist()
    e_bounds = _group_bounds(entry_zone, stop - start).tolist()
    outside_sum = np.bincount(entry_zone, weights=outside, minlength=stop - start)

    codes, names = p.codes, p.names
    entry_atom_list = entry_atom.tolist()
    uncovered_list, entry_weight_list = uncovered.tolist(), entry_weight.tolist()
    totals = result.a_totals.tolist()
    t_bounds = t_bounds.tolist()
    t_b_list, t_weight_list = t_b.tolist(), t_weight.tolist()
    outside_sum = outside_sum.tolist()

    details = []
    for k in range(stop - start):
        i = start + k
        a_total = float(totals[i])
        e0, e1 = e_bounds[k], e_bounds[k + 1]
        not_covered = [Member(codes[r], names[r], v) for r, v in
                       zip(entry_atom_list[e0:e1], uncovered_list[e0:e1]) if v > PRESENCE]
        touched = []
        for t in range(t_bounds[k], t_bounds[k + 1]):
            j, m0, m1 = t_b_list[t], m_lo[t], m_hi[t]
            members = [Member(codes[r], names[r], v) for r, v in zip(m_atom[m0:m1], m_weight[m0:m1])]
            touched.append(TouchedZone(p.b_codes[j], p.b_names[j], t_weight_list[t],
                                       t_weight_list[t] / a_total if a_total else 0.0, members))
        if touched:
            o0, o1 = o_bounds[k], o_bounds[k + 1]
            outside_members = [Member(codes[r], names[r], v) for r, v in zip(o_atom[o0:o1], o_weight[o0:o1])]
            dom = touched[0]
            details.append(ZoneDetail(p.a_codes[i], p.a_names[i], a_total, dom.code, dom.name, dom.share, touched,
                                      not_covered, outside_members, outside_sum[k]))
        else:
            members = [Member(codes[r], names[r], v) for r, v in
                       zip(entry_atom_list[e0:e1], entry_weight_list[e0:e1])]
            details.append(ZoneDetail(p.a_codes[i], p.a_names[i], a_total, None, None, 0.0, [], not_covered,
                                      members, float(sum(entry_weight_list[e0:e1]))))
    return details
