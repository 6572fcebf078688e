"""Where a layer is finer than a municipality: who lives where, counted from the statistical sectors.

A layer's membership says how much of a municipality is in each zone (a share). Where a layer
splits a municipality (the Antwerp sub-zones, an imported polygon layer) or counts only part of it
(a ``merger_partial`` membership: only Borsbeek of today's Antwerpen is a member of Streekvereniging
Zuidrand), the share alone does not say *which* inhabitants: two such layers do not split a
municipality independently, so the product of their shares is wrong (Borsbeek's 2 % of Antwerpen
spread over every sub-zone, while all 11,372 Borsbeek inhabitants live in sub-zone Oost).

Here each such municipality is taken apart into its statistical sectors. A sector is one group of
people in one 2019-2024 municipality: it belongs to the zone the sector table names, to the polygon
that holds its centroid, or to a partial membership when its old municipality is one of the parts.
:func:`sector_membership` holds that per layer (computed once); :func:`joint_cells` counts the
joint population of two layers in the municipalities both take apart. Municipalities a layer keeps
whole (every share 1) stay the fast product of shares, which is exact there.

Examples
--------
>>> from geo.reference.catalog import load_catalog
>>> catalog = load_catalog()
>>> register = catalog.layer("samenwerkingsverbanden")
>>> antwerp = catalog.layer("eerstelijnszone_antwerpen_stad")
>>> cells = joint_cells(register, antwerp, catalog.atoms.weights())
>>> row, zuidrand = catalog.atoms.position(11002), register.zone_codes.index("0672985901")
>>> {antwerp.zone_codes[j]: round(v) for (i, j), v in cells[row].items() if i == zuidrand}
{'2': 11372}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from geo.engine.cells import JointCells, canonical_csr

if TYPE_CHECKING:
    from geo.engine.layer import Layer

# A layer's sector assignment must give each municipality the layer's own share to this much, or
# that municipality keeps the product of shares (a scenario moved it; an area-weighted share where
# no sector lies; the shares of another population year).
SECTOR_TOLERANCE = 1e-3
SHARE_TOLERANCE = 1e-6


@dataclass(frozen=True, eq=False)
class SectorMembership:
    """A layer's membership per statistical sector, in the municipalities it takes apart.

    Attributes
    ----------
    rows : numpy.ndarray
        Atom rows (ascending) that the layer splits or counts in part, as its sectors reproduce.
    bounds : numpy.ndarray
        ``len(rows) + 1``: the sectors of ``rows[k]`` are ``sectors[bounds[k]:bounds[k + 1]]``.
    sectors : numpy.ndarray
        Indices into ``atoms.sectors``.
    matrix : scipy.sparse.csr_array
        ``len(sectors) x len(zones)``: 1 where the sector's people are in the zone, 0 where not;
        a zone the sectors cannot place in that municipality keeps its share on every sector.
    placed : numpy.ndarray
        Per row of ``rows``: could every zone of that municipality be placed in the sectors?
    """

    rows: np.ndarray
    bounds: np.ndarray
    sectors: np.ndarray
    matrix: sparse.csr_array
    placed: np.ndarray

    def block(self, k: int) -> tuple[np.ndarray, sparse.csr_array]:
        """The sectors of ``rows[k]`` and their rows of ``matrix``."""
        lo, hi = int(self.bounds[k]), int(self.bounds[k + 1])
        return self.sectors[lo:hi], self.matrix[lo:hi]


def sector_membership(layer: "Layer") -> SectorMembership:
    """Where ``layer`` is finer than a municipality, its membership per sector (kept with the layer).

    A share of 1 is every sector of the municipality. A share below 1 is placed in the sectors by,
    in this order: the layer's parts (``Layer.parts``: the 2019-2024 municipalities of a partial
    member), the layer's sector assignment (``Layer.sector_assignment``: the sector table, or the
    polygon holding the centroid). A municipality is taken apart when at least one of its shares is
    placed that way and reproduces the share (within :data:`SECTOR_TOLERANCE`).

    Examples
    --------
    >>> from geo.reference.catalog import load_catalog
    >>> catalog = load_catalog()
    >>> fine = sector_membership(catalog.layer("eerstelijnszone_antwerpen_stad"))
    >>> catalog.atoms.nis_codes[fine.rows].tolist()
    [11002]
    >>> sector_membership(catalog.layer("eerstelijnszone")).rows.tolist()
    []
    """
    cached = layer.__dict__.get("_sector_membership")
    if cached is None:
        cached = _build(layer)
        object.__setattr__(layer, "_sector_membership", cached)
    return cached


def _empty(n_zones: int) -> SectorMembership:
    return SectorMembership(np.zeros(0, np.int64), np.zeros(1, np.int64), np.zeros(0, np.int64),
                            sparse.csr_array((0, n_zones)), np.zeros(0, bool))


def _build(layer: "Layer") -> SectorMembership:
    sectors = layer.atoms.sectors
    n_zones = len(layer.zones)
    if sectors is None:
        return _empty(n_zones)
    m = sparse.csr_array(layer.membership)
    if not m.has_canonical_format:
        m = m.copy()
        m.sum_duplicates()
    partial = m.data < 1.0 - SHARE_TOLERANCE
    if not partial.any():
        return _empty(n_zones)
    candidates = np.unique(np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))[partial])
    parts = layer.parts or {}
    needs_assignment = any((int(r), int(c)) not in parts for r in candidates
                           for c, v in zip(m.indices[m.indptr[r]:m.indptr[r + 1]], m.data[m.indptr[r]:m.indptr[r + 1]])
                           if v < 1.0 - SHARE_TOLERANCE)
    assignment = layer.sector_assignment() if needs_assignment else None
    part_of = sectors.part
    rows, blocks, bounds, placed = [], [], [0], []
    data, r_idx, c_idx = [], [], []
    offset = 0
    for row in candidates.tolist():
        index = sectors.of(row)
        people = sectors.population[index]
        total = float(people.sum())
        if total <= 0:
            continue
        start, end = m.indptr[row], m.indptr[row + 1]
        placed_any, placed_all = False, True
        columns = []
        for col, share in zip(m.indices[start:end].tolist(), m.data[start:end].tolist()):
            vector = None
            if share >= 1.0 - SHARE_TOLERANCE:
                vector = np.ones(len(index))
            else:
                if (row, col) in parts and part_of is not None:
                    vector = np.isin(part_of[index], parts[(row, col)]).astype(float)
                elif assignment is not None:
                    vector = (assignment[index] == col).astype(float)
                if vector is not None and abs(float(people @ vector) / total - share) <= SECTOR_TOLERANCE:
                    placed_any = True
                else:
                    vector = np.full(len(index), share)
                    placed_all = False
            columns.append((col, vector))
        if not placed_any:
            continue
        rows.append(row)
        placed.append(placed_all)
        blocks.append(index)
        for col, vector in columns:
            nonzero = np.nonzero(vector)[0]
            r_idx.append(offset + nonzero)
            c_idx.append(np.full(len(nonzero), col))
            data.append(vector[nonzero])
        offset += len(index)
        bounds.append(offset)
    if not rows:
        return _empty(n_zones)
    matrix = sparse.csr_array((np.concatenate(data), (np.concatenate(r_idx), np.concatenate(c_idx))),
                              shape=(offset, n_zones))
    return SectorMembership(np.asarray(rows, np.int64), np.asarray(bounds, np.int64),
                            np.concatenate(blocks).astype(np.int64), matrix, np.asarray(placed, bool))


def partial_rows(layer: "Layer") -> np.ndarray:
    """Atom rows where the layer has a share below 1 (kept with the layer): the only candidates for
    taking a municipality apart, found without looking at a sector or an outline."""
    cached = layer.__dict__.get("_partial_rows")
    if cached is None:
        m = sparse.csr_array(layer.membership)
        partial = m.data < 1.0 - SHARE_TOLERANCE
        cached = np.unique(np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))[partial])
        object.__setattr__(layer, "_partial_rows", cached)
    return cached


def shared_rows(a: "Layer", b: "Layer") -> np.ndarray:
    """Atom rows that both layers take apart: there (and only there) the product of shares is wrong.
    Against a layer of whole municipalities no sector assignment (nor outline) is read."""
    if not len(np.intersect1d(partial_rows(a), partial_rows(b))):
        return np.zeros(0, np.int64)
    return np.intersect1d(sector_membership(a).rows, sector_membership(b).rows)


def joint_cells(a: "Layer", b: "Layer", w: np.ndarray) -> JointCells:
    """Joint weight of A- and B-zones in the municipalities both layers take apart, from their sectors.

    Each sector carries its inhabitants into the A-zones and B-zones it belongs to. Each A-zone's own
    weight in the municipality (``w * share``, as in its totals) is spread over the B-zones in the
    sectors' proportions, so a zone's row adds up to its total (up to rounding). Every such
    municipality at once, with array operations (:func:`_spread`), never a loop per municipality.

    Returns
    -------
    JointCells
        Per cell (atom row, A position, B position, weight); read as a mapping: atom row ->
        {(A position, B position): weight}. Empty when no municipality is taken apart by both
        (the usual case, and cheap: no sector is looked at).
    """
    rows = shared_rows(a, b)
    if not len(rows):
        return JointCells.empty()
    share_a = canonical_csr(a.membership)
    entry_row = np.repeat(np.arange(share_a.shape[0], dtype=np.int64), np.diff(share_a.indptr))
    fa = sector_membership(a)
    ka = np.searchsorted(fa.rows, rows)
    # A layer against itself puts everyone in the same zones: where some zone's share cannot be
    # placed in the sectors (an area-weighted share), its people are not spread anew.
    whole = ~fa.placed[ka] if a is b else np.zeros(len(rows), bool)
    parts = []  # (A entry, B-zone, weight) per cell
    if whole.any():
        in_whole = np.zeros(share_a.shape[0], bool)
        in_whole[rows[whole]] = True
        e = np.flatnonzero(in_whole[entry_row])
        parts.append((e, share_a.indices[e], w[entry_row[e]] * share_a.data[e]))
    if not whole.all():
        parts.extend(_spread(a, b, rows[~whole], w))
    e, j, value = (np.concatenate(x) for x in zip(*parts))
    return JointCells(entry_row[e], share_a.indices[e].astype(np.int64), j.astype(np.int64), value,
                      rows.astype(np.int64))


@dataclass(frozen=True, eq=False)
class _Entries:
    """A layer's sector membership tied to its membership's entries (kept with the layer).

    ``membership``: the canonical CSR; an entry is one (atom, zone) of it (``entry_row``: its atom). Per non-zero of
    ``sector_membership(layer).matrix``: ``entry`` and ``sector`` (its row in that matrix). Per
    entry: ``constant``, whether the zone is the same ``value`` on every sector of its municipality
    (a whole member, or a share the sectors cannot place)."""

    membership: sparse.csr_array
    entry_row: np.ndarray
    entry: np.ndarray
    sector: np.ndarray
    constant: np.ndarray
    value: np.ndarray
    # The non-zeros of the zones that differ between sectors (positions, ascending), and where
    # those of each of the layer's split municipalities (``rows[k]``) begin and end.
    varying: np.ndarray
    varying_bounds: np.ndarray
    cover: np.ndarray  # per sector: the sum of its shares in the layer, at most 1


def _entries(layer: "Layer") -> _Entries:
    cached = layer.__dict__.get("_sector_entries")
    if cached is None:
        f = sector_membership(layer)
        m = canonical_csr(layer.membership)
        n_zones, n_entries = m.shape[1], len(m.data)
        entry_row = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr)).astype(np.int64)
        sector = np.repeat(np.arange(f.matrix.shape[0]), np.diff(f.matrix.indptr))
        sector_atom = np.repeat(f.rows, np.diff(f.bounds))
        entry = np.searchsorted(entry_row * n_zones + m.indices,
                                sector_atom[sector] * n_zones + f.matrix.indices.astype(np.int64))
        highest, lowest = np.full(n_entries, -np.inf), np.full(n_entries, np.inf)
        np.maximum.at(highest, entry, f.matrix.data)
        np.minimum.at(lowest, entry, f.matrix.data)
        sectors_of_row = np.zeros(m.shape[0], np.int64)
        sectors_of_row[f.rows] = np.diff(f.bounds)
        constant = (np.bincount(entry, minlength=n_entries) == sectors_of_row[entry_row]) & (highest == lowest)
        constant &= sectors_of_row[entry_row] > 0
        varying = np.flatnonzero(~constant[entry])
        varying_bounds = np.searchsorted(varying, f.matrix.indptr[f.bounds])
        cached = _Entries(m, entry_row, entry, sector, constant, np.where(constant, highest, 0.0), varying,
                          varying_bounds, np.minimum(_sums(f.matrix), 1.0))
        object.__setattr__(layer, "_sector_entries", cached)
    return cached


def _pairs_by_block(block_1: np.ndarray, block_2: np.ndarray, n_blocks: int) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (i, j) of items of two lists with ``block_1[i] == block_2[j]``; ``block_2`` ascending."""
    count_2 = np.bincount(block_2, minlength=n_blocks)
    start_2 = np.concatenate([[0], np.cumsum(count_2)])
    j, _ = _ranges(start_2[block_1], start_2[block_1 + 1])
    return np.repeat(np.arange(len(block_1)), count_2[block_1]), j


def _spread(a: "Layer", b: "Layer", rows: np.ndarray, w: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The cells of :func:`joint_cells` in ``rows``: each A-membership (an entry of A's CSR: a
    municipality and a zone) spread over the B-zones in its sectors' proportions, as
    ``(A entry, B-zone, weight)``.

    A zone that is the same on every sector of its municipality (a whole member, or a share the
    sectors cannot place, kept on every sector) spreads in the municipality's own proportions (A),
    or takes its share of every A-zone there (B): pairs of entries per municipality instead of one
    product per sector (two grids of 10,000 squares: 7 million products for 400,000 cells). Only
    zones that differ between sectors on both sides go through a sparse product over the sectors.
    """
    fa, fb = sector_membership(a), sector_membership(b)
    ea, eb = _entries(a), _entries(b)
    ma, mb = ea.membership, eb.membership
    assert a.atoms.sectors is not None  # rows taken apart by both layers come from the sectors
    population = a.atoms.sectors.population
    n = len(rows)
    ka, kb = np.searchsorted(fa.rows, rows), np.searchsorted(fb.rows, rows)
    # The stacked sectors: municipality k's are start[k]:start[k + 1] (both layers list them in
    # the order of atoms.sectors.of).
    size = fa.bounds[ka + 1] - fa.bounds[ka]
    start = np.concatenate([[0], np.cumsum(size)])
    people = population[fa.sectors[_ranges(fa.bounds[ka], fa.bounds[ka + 1])[0]]]
    block_people = np.add.reduceat(people, start[:-1]) if len(people) else np.zeros(n)

    def nonzeros(f: SectorMembership, e: _Entries, k: np.ndarray):  # noqa: ANN202 - three arrays
        # Only those of zones that differ between sectors (the others are read per entry).
        index, bounds = _ranges(e.varying_bounds[k], e.varying_bounds[k + 1])
        pos = e.varying[index]
        block = np.repeat(np.arange(n), np.diff(bounds))
        stacked = e.sector[pos] - f.bounds[k][block] + start[block]
        return pos, e.entry[pos], stacked

    def entries(m: sparse.csr_array):  # noqa: ANN202 - two arrays: entries and their municipality
        index, bounds = _ranges(m.indptr[rows], m.indptr[rows + 1])
        return index, np.repeat(np.arange(n), np.diff(bounds))

    pos_a, entry_a, sector_a = nonzeros(fa, ea, ka)
    pos_b, entry_b, sector_b = nonzeros(fb, eb, kb)
    weight_a = fa.matrix.data[pos_a] * people[sector_a]
    in_a = np.bincount(entry_a, weights=weight_a, minlength=len(ma.data))  # for the varying A entries
    own = w[ea.entry_row] * ma.data  # per A entry: w * share
    parts = []

    # Zones that differ between sectors in both layers: a sparse product over the sectors.
    left = sparse.csr_array((weight_a, (entry_a, sector_a)), shape=(len(ma.data), len(people)))
    right = sparse.csr_array((fb.matrix.data[pos_b], (sector_b, mb.indices[entry_b])),
                             shape=(len(people), mb.shape[1]))
    joint = sparse.csr_array(left @ right)
    e = np.repeat(np.arange(len(ma.data)), np.diff(joint.indptr))
    keep = (joint.data > 0) & (in_a[e] > 0)
    e = e[keep]
    parts.append((e, joint.indices[keep], own[e] * joint.data[keep] / in_a[e]))

    a_index, a_block = entries(ma)
    b_index, b_block = entries(mb)
    # A-zones that differ between sectors against B-zones the same on every sector: that share.
    varying = ~ea.constant[a_index] & (in_a[a_index] > 0)
    same = eb.constant[b_index] & (eb.value[b_index] > 0)
    va, cb = a_index[varying], b_index[same]
    i, j = _pairs_by_block(a_block[varying], b_block[same], n)
    parts.append((va[i], mb.indices[cb[j]], own[va[i]] * eb.value[cb[j]]))

    # A-zones the same on every sector: the municipality's people per B-zone over all its people.
    per_b = np.bincount(entry_b, weights=fb.matrix.data[pos_b] * people[sector_b], minlength=len(mb.data))
    per_b[b_index] += eb.value[b_index] * block_people[b_block]  # (value 0 where not the same everywhere)
    same = ea.constant[a_index] & (ea.value[a_index] > 0)
    ca, ca_block = a_index[same], a_block[same]
    i, j = _pairs_by_block(ca_block, b_block, n)
    total = block_people[ca_block[i]]
    share = np.divide(per_b[b_index[j]], total, out=np.zeros(len(i)), where=total > 0)
    keep = share > 0
    i, j = i[keep], j[keep]
    parts.append((ca[i], mb.indices[b_index[j]], own[ca[i]] * share[keep]))
    return parts


def _ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The indices ``lo[0]:hi[0], lo[1]:hi[1], ...`` one after the other, and where each range starts."""
    counts = (hi - lo).astype(np.int64)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    return np.arange(int(bounds[-1])) + np.repeat(lo - bounds[:-1], counts), bounds




def joint_gap(a: "Layer", b: "Layer", w: np.ndarray, rows: np.ndarray) -> dict[int, float]:
    """Per atom row both layers take apart: the weight B covers and no A-zone does, from the sectors.

    (The product ``w * min(cover_b, 1) * (1 - cover_a)`` counts a polygon layer against itself as a
    gap of ``w * s * (1 - s)`` in every municipality it splits.) Every row at once, over their
    stacked sectors.
    """
    rows = np.asarray(rows, dtype=np.int64)
    if not len(rows):
        return {}
    fa = sector_membership(a)
    out = np.zeros(len(rows))
    # As in joint_cells: a layer against itself where a share cannot be placed has no gap.
    spread = fa.placed[np.searchsorted(fa.rows, rows)] if a is b else np.ones(len(rows), bool)
    if spread.any():
        fb = sector_membership(b)
        assert a.atoms.sectors is not None  # only called for rows both layers take apart, from the sectors
        kept = rows[spread]
        ka, kb = np.searchsorted(fa.rows, kept), np.searchsorted(fb.rows, kept)
        index_a, bounds = _ranges(fa.bounds[ka], fa.bounds[ka + 1])
        index_b, _ = _ranges(fb.bounds[kb], fb.bounds[kb + 1])
        block = np.repeat(np.arange(len(kept)), np.diff(bounds))
        people = a.atoms.sectors.population[fa.sectors[index_a]]
        cover_a = _entries(a).cover[index_a]
        cover_b = _entries(b).cover[index_b]
        total = np.bincount(block, weights=people, minlength=len(kept))
        gap = np.bincount(block, weights=people * cover_b * (1.0 - cover_a), minlength=len(kept))
        out[spread] = np.divide(w[kept] * gap, total, out=np.zeros(len(kept)), where=total > 0)
    return dict(zip(rows.tolist(), out.tolist()))


def _sums(m: sparse.csr_array) -> np.ndarray:
    """Per row of ``m`` the sum of its entries."""
    return np.bincount(np.repeat(np.arange(m.shape[0]), np.diff(m.indptr)), weights=m.data, minlength=m.shape[0])
