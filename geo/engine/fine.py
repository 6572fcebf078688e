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


def joint_cells(a: "Layer", b: "Layer", w: np.ndarray) -> dict[int, dict[tuple[int, int], float]]:
    """Joint weight of A- and B-zones in the municipalities both layers take apart, from their sectors.

    Each sector carries its inhabitants into the A-zones and B-zones it belongs to. Each A-zone's own
    weight in the municipality (``w * share``, as in its totals) is spread over the B-zones in the
    sectors' proportions, so a zone's row adds up to its total to the last digit.

    Returns
    -------
    dict
        atom row -> {(A position, B position): weight}; empty when no municipality is taken apart
        by both (the usual case, and cheap: no sector is looked at).
    """
    rows = shared_rows(a, b)
    if not len(rows):
        return {}
    fa, fb = sector_membership(a), sector_membership(b)
    assert a.atoms.sectors is not None  # rows taken apart by both layers come from the sectors
    population = a.atoms.sectors.population
    share_a = sparse.csr_array(a.membership)
    out: dict[int, dict[tuple[int, int], float]] = {}
    for row in rows.tolist():
        k = int(np.searchsorted(fa.rows, row))
        start, end = share_a.indptr[row], share_a.indptr[row + 1]
        if a is b and not fa.placed[k]:
            # A layer against itself puts everyone in the same zones: where some zone's share cannot
            # be placed in the sectors (an area-weighted share), its people are not spread anew.
            out[row] = {(i, i): w[row] * v for i, v in zip(share_a.indices[start:end].tolist(),
                                                            share_a.data[start:end].tolist())}
            continue
        index, va = fa.block(k)
        _, vb = fb.block(int(np.searchsorted(fb.rows, row)))
        people = population[index]
        weighted = _scale_rows(va, people)
        joint = (weighted.T @ vb).tocoo()
        in_a = np.asarray(weighted.sum(axis=0)).ravel()
        own = np.zeros(share_a.shape[1])
        own[share_a.indices[start:end]] = share_a.data[start:end]
        keep = (joint.data > 0) & (in_a[joint.row] > 0)
        i, j = joint.row[keep], joint.col[keep]
        values = w[row] * own[i] * joint.data[keep] / in_a[i]
        cells = dict(zip(zip(i.tolist(), j.tolist()), values.tolist()))
        out[row] = cells
    return out


def _scale_rows(m: sparse.csr_array, factors: np.ndarray) -> sparse.csr_array:
    """Each row of ``m`` times its factor (``m.multiply(column)`` would go through a dense array
    of sectors x zones: 10,000 zones for an imported grid)."""
    out = sparse.csr_array(m, copy=True)
    out.data = out.data * np.repeat(factors, np.diff(out.indptr))
    return out


def joint_gap(a: "Layer", b: "Layer", w: np.ndarray, rows: np.ndarray) -> dict[int, float]:
    """Per atom row both layers take apart: the weight B covers and no A-zone does, from the sectors.

    (The product ``w * min(cover_b, 1) * (1 - cover_a)`` counts a polygon layer against itself as a
    gap of ``w * s * (1 - s)`` in every municipality it splits.)
    """
    fa, fb = sector_membership(a), sector_membership(b)
    assert a.atoms.sectors is not None  # only called for rows both layers take apart, from the sectors
    population = a.atoms.sectors.population
    out = {}
    for row in np.asarray(rows).tolist():
        k = int(np.searchsorted(fa.rows, row))
        if a is b and not fa.placed[k]:
            out[row] = 0.0  # as in joint_cells: everyone is where they are
            continue
        index, va = fa.block(k)
        _, vb = fb.block(int(np.searchsorted(fb.rows, row)))
        people = population[index]
        total = float(people.sum())
        cover_a = np.minimum(np.asarray(va.sum(axis=1)).ravel(), 1.0)
        cover_b = np.minimum(np.asarray(vb.sum(axis=1)).ravel(), 1.0)
        out[row] = float(w[row] * (people * cover_b * (1.0 - cover_a)).sum() / total) if total > 0 else 0.0
    return out
