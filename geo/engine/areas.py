"""Area weighting of layers that split municipalities: area from the polygons, not from shares.

A layer's membership share is a share of the *inhabitants* (population-weighted from the sectors).
Weighted by area, a zone that splits a municipality covers the area of its polygon inside it, not
its population share of the municipality's area: Antwerp's sub-zone Noord has 17 % of the city's
people and 52 % of its area. Here a layer with polygons gets its area membership from the
intersections of its polygons with the municipalities (computed once per layer), and two such
layers that split the same municipality are overlaid by intersecting their pieces there, so any
layer against itself scores ARI 1, VI 0, NMI 1 and nested 1 by area too. A partial membership
(only Borsbeek of today's Antwerpen is a member of Streekvereniging Zuidrand) covers the area of
its 2019-2024 parts (``Atoms.part_areas``, measured from the neighbourhood polygons), not its
population share of the merged municipality's area; two layers that count the same municipality
in parts are overlaid part by part. Layers of whole municipalities keep their membership: a share
of 1 is the whole area.

Examples
--------
>>> from geo.reference.catalog import load_catalog
>>> antwerp = load_catalog().layer("eerstelijnszone_antwerpen_stad")
>>> [round(float(a), 1) for a in zone_areas(antwerp)]
[30.2, 33.8, 31.9, 160.0]
>>> register = area_view(load_catalog().layer("samenwerkingsverbanden"))
>>> row, zuidrand = register.atoms.position(11002), register.zone_position("0672985901")
>>> round(float(register.membership[row, zuidrand] * register.atoms.weights("area")[row]), 2)  # Borsbeek
3.9
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
from scipy import sparse

if TYPE_CHECKING:
    import geopandas as gpd

    from geo.engine.atoms import Atoms
    from geo.engine.layer import Layer

# A piece of a zone covering less than this share of a municipality is a drawing sliver (polygons
# drawn along other borders), more than 1 minus this is the whole municipality: as the importer's
# area-weighted shares (geo.uploads.importing.SLIVER_SHARE).
AREA_SLIVER = 0.005
M2_PER_KM2 = 1e6
SHARE_TOLERANCE = 1e-6


@dataclass(frozen=True, eq=False)
class AreaPieces:
    """A layer's polygons cut by the municipalities: one piece per (atom row, zone position)."""

    rows: np.ndarray
    cols: np.ndarray
    shares: np.ndarray  # piece area over the municipality's polygon area (slivers dropped, near-1 snapped)
    geometries: np.ndarray  # shapely geometries, EPSG:31370


def area_pieces(layer: "Layer") -> AreaPieces | None:
    """The pieces of ``layer``'s polygons per municipality (computed once per layer), or None for a
    layer without polygons or atoms without municipal polygons."""
    if "_area_pieces" in layer.__dict__:
        return layer.__dict__["_area_pieces"]
    origin = layer.__dict__.get("_area_pieces_from")
    if origin is not None:
        base, moved = origin
        pieces = area_pieces(base)
        if pieces is not None:
            keep = ~np.isin(pieces.rows, moved)
            pieces = AreaPieces(pieces.rows[keep], pieces.cols[keep], pieces.shares[keep], pieces.geometries[keep])
    else:
        pieces = _pieces(layer) if layer.polygons is not None else None
    object.__setattr__(layer, "_area_pieces", pieces)
    return pieces


def _pieces(layer: "Layer") -> AreaPieces | None:
    import shapely

    from geo.geometry.polygons import municipal_polygons

    munis = municipal_polygons()
    atoms = layer.atoms
    known = np.isin(atoms.nis_codes, munis.index.to_numpy())
    if not known.all():
        return None
    muni_geoms = munis.geometry.reindex(atoms.nis_codes).to_numpy()
    muni_area = shapely.area(muni_geoms)
    position = {str(c): i for i, c in enumerate(layer.zones["code"])}
    zone_cols, zone_geoms = [], []
    # Read through the descriptor: a stored layer's source is parsed on first use (never callable here).
    polygons = cast("gpd.GeoSeries", layer.polygons)
    for code, geometry in polygons.items():
        if str(code) in position and geometry is not None and not geometry.is_empty:
            zone_cols.append(position[str(code)])
            zone_geoms.append(geometry)
    if not zone_geoms:
        return AreaPieces(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, dtype=object))
    tree = shapely.STRtree(muni_geoms)
    z_index, m_index = tree.query(np.asarray(zone_geoms, dtype=object), predicate="intersects")
    geoms = shapely.intersection(np.asarray(zone_geoms, dtype=object)[z_index], muni_geoms[m_index])
    shares = shapely.area(geoms) / muni_area[m_index]
    keep = shares >= AREA_SLIVER
    rows, cols = m_index[keep].astype(np.int64), np.asarray(zone_cols, np.int64)[z_index[keep]]
    shares, geoms = np.where(shares[keep] > 1.0 - AREA_SLIVER, 1.0, shares[keep]), geoms[keep]
    order = np.lexsort((cols, rows))
    return AreaPieces(rows[order], cols[order], shares[order], geoms[order])


def municipal_parts(atoms: "Atoms") -> dict[int, pd.Series]:
    """The 2019-2024 parts of each merged 2025 municipality with their area (km^2), by 2025 NIS code
    (kept with the atoms; empty without ``Atoms.part_areas``).

    Examples
    --------
    >>> from geo.reference.catalog import load_catalog
    >>> municipal_parts(load_catalog().atoms)[11002].round(2).to_dict()
    {11002: 204.34, 11007: 3.9}
    """
    cached = atoms.__dict__.get("_municipal_parts")
    if cached is None:
        table = atoms.part_areas
        cached = {} if table is None else {int(n): group["area_km2"] for n, group in table.groupby("nis_2025")}
        object.__setattr__(atoms, "_municipal_parts", cached)
    return cached


def part_area_shares(layer: "Layer") -> dict[tuple[int, int], float]:
    """Each partial membership's share of the municipality's *area*: its parts' area over all parts'
    (kept with the layer). Only memberships the layer still has (a scenario may have moved the
    municipality) and whose parts are all known.

    Examples
    --------
    >>> from geo.reference.catalog import load_catalog
    >>> register = load_catalog().layer("samenwerkingsverbanden")
    >>> key = (register.atoms.position(11002), register.zone_position("0672985901"))
    >>> round(part_area_shares(register)[key], 4)  # Borsbeek: 3.9 of Antwerpen's 208.2 km²
    0.0187
    """
    cached = layer.__dict__.get("_part_area_shares")
    if cached is None:
        cached = {}
        by_municipality = municipal_parts(layer.atoms)
        m = sparse.csr_array(layer.membership)
        for (row, col), codes in (layer.parts or {}).items():
            areas = by_municipality.get(int(layer.atoms.nis_codes[row]))
            if areas is None or not set(codes) <= set(areas.index) or m[row, col] <= 0:
                continue
            total = float(areas.sum())
            if total > 0:
                cached[(row, col)] = min(float(areas[list(codes)].sum()) / total, 1.0)
        object.__setattr__(layer, "_part_area_shares", cached)
    return cached


def zone_areas(layer: "Layer") -> np.ndarray:
    """Per zone: its area in km², from its polygons where it has them, from its parts' area for
    a partial membership, else its members' area times their shares (:func:`area_view`).

    Examples
    --------
    >>> from geo.reference.catalog import load_catalog
    >>> antwerp = load_catalog().layer("eerstelijnszone_antwerpen_stad")  # polygons within the city
    >>> [round(float(a), 1) for a in zone_areas(antwerp)]
    [30.2, 33.8, 31.9, 160.0]
    """
    return area_view(layer).membership.T @ layer.atoms.weights("area")


def zone_summary(layer: "Layer", weight: str = "population") -> pd.DataFrame:
    """:meth:`Layer.summary <geo.engine.layer.Layer.summary>` with its third column in
    ``weight``: inhabitants, or km² (:func:`zone_areas`), named after it.

    Examples
    --------
    >>> from geo.reference.catalog import load_catalog
    >>> antwerp = load_catalog().layer("eerstelijnszone_antwerpen_stad")
    >>> list(zone_summary(antwerp, "area").columns)
    ['code', 'name', 'area', 'members']
    """
    frame = layer.summary()
    if weight == "population":
        return frame
    if weight != "area":
        raise ValueError(f"weight is 'population' or 'area', got {weight!r}")
    frame = frame.rename(columns={"population": "area"})
    frame["area"] = zone_areas(layer)
    return frame


def area_view(layer: "Layer") -> "Layer":
    """``layer`` with its membership in shares of *area*: from its polygons' intersections with the
    municipalities where it has polygons, from its parts' area for a partial membership
    (:func:`part_area_shares`), else its own membership (whole municipalities, whose area a share
    of 1 is). Kept with the layer; the view of a view is itself."""
    if layer.__dict__.get("_is_area_view"):
        return layer
    cached = layer.__dict__.get("_area_view")
    if cached is None:
        pieces = area_pieces(layer)
        by_parts = part_area_shares(layer)
        if pieces is None and not by_parts:
            cached = layer
        elif pieces is None:
            membership = sparse.csr_array(layer.membership, copy=True)
            membership.sum_duplicates()
            coo = membership.tocoo()
            data = np.array([by_parts.get((r, c), v) for r, c, v in zip(coo.row.tolist(), coo.col.tolist(),
                                                                          coo.data.tolist())])
            cached = layer.with_membership(sparse.csr_array((data, (coo.row, coo.col)), shape=coo.shape))
            object.__setattr__(cached, "_area_origin", layer)
            object.__setattr__(cached, "_part_area_shares", by_parts)
            object.__setattr__(cached, "_is_area_view", True)
        else:
            membership = sparse.csr_array((pieces.shares, (pieces.rows, pieces.cols)), shape=layer.membership.shape)
            if layer.polygons is None:
                # A scenario of a polygon layer: its moved municipalities are wholly in their new zone.
                keep = np.ones(layer.membership.shape[0])
                keep[np.unique(pieces.rows)] = 0.0
                rest = sparse.diags_array(keep) @ sparse.csr_array(layer.membership)
                membership = sparse.csr_array(membership + rest)
                membership.eliminate_zeros()
            cached = layer.with_membership(membership)
            object.__setattr__(cached, "_area_pieces", pieces)
            object.__setattr__(cached, "_area_origin", layer)
            object.__setattr__(cached, "_part_area_shares", {})
            object.__setattr__(cached, "_is_area_view", True)
        object.__setattr__(layer, "_area_view", cached)
    return cached


def keep_pieces(base: "Layer", scenario: "Layer", moved_rows: list[int]) -> None:
    """Let a scenario of ``base`` (no outlines of its own) count by area what the base counts in the
    municipalities it did not move (the base's pieces, taken when first needed)."""
    object.__setattr__(scenario, "_area_pieces_from", (base, np.asarray(moved_rows, dtype=np.int64)))


def _fractional_rows(pieces: AreaPieces | None) -> np.ndarray:
    if pieces is None or not len(pieces.rows):
        return np.zeros(0, np.int64)
    return np.unique(pieces.rows[pieces.shares < 1.0])


def _row_pieces(pieces: AreaPieces, row: int) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.searchsorted(pieces.rows, row, side="left"), np.searchsorted(pieces.rows, row, side="right")
    return pieces.cols[lo:hi], pieces.geometries[lo:hi]


def _part_rows(layer: "Layer") -> np.ndarray:
    """Atom rows where ``layer`` (an area view) has a partial membership counted by its parts."""
    shares = layer.__dict__.get("_part_area_shares") or {}
    return np.unique(np.fromiter((row for row, _ in shares), dtype=np.int64, count=len(shares)))


def _split_rows(layer: "Layer") -> np.ndarray:
    return np.union1d(_fractional_rows(area_pieces(layer)), _part_rows(layer))


def shared_area_rows(a: "Layer", b: "Layer") -> np.ndarray:
    """Atom rows both layers split by area (polygons or parts): there the area is counted from
    intersections of pieces or of parts, not as a product of shares."""
    return np.intersect1d(_split_rows(a), _split_rows(b))


def _origin(layer: "Layer") -> "Layer":
    """The layer an area view was made of (its population shares, its sectors)."""
    return layer.__dict__.get("_area_origin", layer)


def _row_part_sets(layer: "Layer", row: int, parts: pd.Series) -> dict[int, frozenset | None]:
    """Per zone of ``layer`` in ``row``: the set of 2019-2024 parts it covers (all of them for a
    whole membership), or None where its share is neither whole nor named by parts."""
    m = sparse.csr_array(layer.membership)
    shares = layer.__dict__.get("_part_area_shares") or {}
    everything = frozenset(int(c) for c in parts.index)
    out: dict[int, frozenset | None] = {}
    for col, value in zip(m.indices[m.indptr[row]:m.indptr[row + 1]].tolist(),
                          m.data[m.indptr[row]:m.indptr[row + 1]].tolist()):
        if (row, col) in shares:
            out[col] = frozenset((layer.parts or {})[(row, col)])
        elif value >= 1.0 - SHARE_TOLERANCE:
            out[col] = everything
        else:
            out[col] = None
    return out


def _parts_joint(a: "Layer", b: "Layer", row: int, w: float) -> dict[tuple[int, int], float]:
    """Joint area of A- and B-zones in a municipality both count in parts: the area of the parts
    both cover (a zone whose share is not named by parts is spread as a product of shares)."""
    parts = municipal_parts(a.atoms)[int(a.atoms.nis_codes[row])]
    area = {int(c): float(v) for c, v in parts.items()}
    total = sum(area.values())
    sets_a, sets_b = _row_part_sets(a, row, parts), _row_part_sets(b, row, parts)
    cells: dict[tuple[int, int], float] = {}
    for i, left in sets_a.items():
        for j, right in sets_b.items():
            if left is None or right is None:
                value = w * float(a.membership[row, i]) * float(b.membership[row, j])
            else:
                value = w * sum(area[c] for c in left & right) / total if total > 0 else 0.0
            if value > 0:
                cells[(i, j)] = value
    return cells


def _mixed_joint(a: "Layer", b: "Layer", row: int, w: float,
                 people_by_row: Mapping[int, Mapping[tuple[int, int], float]]) -> dict[tuple[int, int], float] | None:
    """Joint area where one layer cuts the municipality by polygons and the other by parts: the
    areas of the polygon pieces' intersections with the outlines of the 2019-2024 parts
    (:func:`_outline_joint`). Where those cannot say (no outlines shipped, or a zone whose share is
    not named by parts), each A-zone's area is spread over the B-zones in the proportions of its
    inhabitants from the statistical sectors (exact where a part lies in one zone: Borsbeek in
    Oost), or None when the sectors cannot say either."""
    exact = _outline_joint(a, b, row, w)
    if exact is not None:
        return exact
    people = people_by_row.get(row)
    if not people:
        return None
    in_a: dict[int, float] = {}
    for (i, _), value in people.items():
        in_a[i] = in_a.get(i, 0.0) + value
    return {(i, j): w * float(a.membership[row, i]) * value / in_a[i]
            for (i, j), value in people.items() if value > 0 and in_a[i] > 0}


@dataclass(frozen=True, eq=False)
class _RowParts:
    """A parts layer's zones in one merged municipality, on the part outlines."""

    sets: dict[int, frozenset]  # zone position -> the 2019-2024 parts it covers
    weights: dict[int, dict[int, float]]  # zone position -> part -> the zone's area share in that part
    outlines: dict[int, Any]  # part -> its outline (shapely, EPSG:31370)


def _row_parts(layer: "Layer", row: int) -> _RowParts | None:
    """``layer``'s zones in ``row`` on the part outlines (kept with the layer): each zone's area
    share (its membership in the area view) spread over its parts in proportion to their area, or
    None where an outline is missing or a zone's share is neither whole nor named by parts."""
    cache = layer.__dict__.get("_row_parts")
    if cache is None:
        cache = {}
        object.__setattr__(layer, "_row_parts", cache)
    if row not in cache:
        cache[row] = _make_row_parts(layer, row)
    return cache[row]


def _make_row_parts(layer: "Layer", row: int) -> _RowParts | None:
    from geo.geometry.polygons import part_outlines

    parts = municipal_parts(layer.atoms).get(int(layer.atoms.nis_codes[row]))
    outlines = part_outlines()
    if parts is None or outlines is None or not set(int(c) for c in parts.index) <= set(outlines.index):
        return None
    sets = _row_part_sets(layer, row, parts)
    if any(codes is None for codes in sets.values()):
        return None
    known = cast("dict[int, frozenset]", sets)
    weights: dict[int, dict[int, float]] = {}
    for col, codes in known.items():
        area = {c: float(parts[c]) for c in codes}
        total = sum(area.values())
        share = float(layer.membership[row, col])
        weights[col] = {c: share * v / total for c, v in area.items()} if total > 0 else {}
    return _RowParts(known, weights, {int(c): outlines[int(c)] for c in parts.index})


def _outline_joint(a: "Layer", b: "Layer", row: int, w: float) -> dict[tuple[int, int], float] | None:
    """Joint area of A- and B-zones in a municipality one layer cuts by polygons and the other by
    2019-2024 parts: the intersections of the polygon pieces with the part outlines (which tile
    the municipal polygon). As between two polygon layers (:func:`joint_areas`), the A-zone's own
    area is spread: a polygon piece over the parts in proportion to its intersections with their
    outlines, a part zone's area in a part over the pieces in proportion to the outline's
    intersections with them. None where the outlines cannot say (:func:`_row_parts`)."""
    import shapely

    a_polygons = row in _fractional_rows(area_pieces(a))
    polygon_layer, parts_layer = (a, b) if a_polygons else (b, a)
    pieces = area_pieces(polygon_layer)
    by_parts = _row_parts(parts_layer, row)
    if pieces is None or by_parts is None:
        return None
    cols, geoms = _row_pieces(pieces, row)
    codes = sorted(by_parts.outlines)
    outlines = np.asarray([by_parts.outlines[c] for c in codes], dtype=object)
    # common[k, n]: area of polygon piece k inside part codes[n]
    common = shapely.area(shapely.intersection(geoms[:, None], outlines[None, :]))
    own, inside = shapely.area(geoms), shapely.area(outlines)
    at = {c: n for n, c in enumerate(codes)}
    cells: dict[tuple[int, int], float] = {}
    for k, piece_col in enumerate(cols.tolist()):
        piece_share = float(polygon_layer.membership[row, piece_col])
        for part_col, covered in by_parts.sets.items():
            value = 0.0
            for c in covered:
                n = at[c]
                if a_polygons:
                    value += piece_share * common[k, n] / own[k] if own[k] > 0 else 0.0
                else:
                    value += by_parts.weights[part_col][c] * common[k, n] / inside[n] if inside[n] > 0 else 0.0
            if value > 0:
                key = (piece_col, part_col) if a_polygons else (part_col, piece_col)
                cells[key] = cells.get(key, 0.0) + w * value
    return cells


def joint_areas(a: "Layer", b: "Layer") -> dict[int, dict[tuple[int, int], float]]:
    """Joint area (km²) of A- and B-zones in the municipalities both layers' polygons split.

    Each A-zone's own area in the municipality (as in its totals) is spread over the B-zones in
    proportion to the intersections of the pieces, so a zone's row adds up to its total.
    ``a`` and ``b`` are area views (:func:`area_view`).

    Examples
    --------
    >>> from geo.reference.catalog import load_catalog
    >>> antwerp = area_view(load_catalog().layer("eerstelijnszone_antwerpen_stad"))
    >>> cells = joint_areas(antwerp, antwerp)
    >>> sorted((i, j) for (i, j) in next(iter(cells.values())))
    [(0, 0), (1, 1), (2, 2), (3, 3)]
    """
    import shapely

    cached = _pair_cache(a, b, "joint")
    if cached is not None:
        return cached
    rows = shared_area_rows(a, b)
    if not len(rows):
        return _keep_pair(a, b, "joint", {})
    pa, pb = area_pieces(a), area_pieces(b)
    cut_a, cut_b = _fractional_rows(pa), _fractional_rows(pb)
    w = a.atoms.weights("area")
    people_by_row: Mapping[int, Mapping[tuple[int, int], float]] | None = None
    out: dict[int, dict[tuple[int, int], float]] = {}
    for row in rows.tolist():
        by_polygons = (row in cut_a, row in cut_b)
        if by_polygons == (False, False):
            out[row] = _parts_joint(a, b, row, float(w[row]))
            continue
        if by_polygons != (True, True):
            if people_by_row is None:  # the inhabitants' joint from the sectors, once per pair
                from geo.engine.fine import joint_cells

                origin_a, origin_b = _origin(a), _origin(b)
                people_by_row = joint_cells(origin_a, origin_b, origin_a.atoms.weights("population"))
            mixed = _mixed_joint(a, b, row, float(w[row]), people_by_row)
            if mixed is not None:
                out[row] = mixed
            continue
        assert pa is not None and pb is not None  # both cut this row by polygons
        cols_a, geoms_a = _row_pieces(pa, row)
        cols_b, geoms_b = _row_pieces(pb, row)
        own = shapely.area(geoms_a)
        share_a = np.array([a.membership[row, i] for i in cols_a.tolist()], dtype=float)
        # Only pairs whose boxes meet: a grid of 10,000 squares has dozens of pieces per municipality.
        left, right = shapely.STRtree(geoms_b).query(geoms_a, predicate="intersects")
        common = shapely.area(shapely.intersection(geoms_a[left], geoms_b[right]))
        cells: dict[tuple[int, int], float] = {}
        for k, j, value in zip(left.tolist(), cols_b[right].tolist(), common.tolist()):
            if value > 0 and own[k] > 0:
                key = (int(cols_a[k]), j)
                cells[key] = cells.get(key, 0.0) + w[row] * share_a[k] * value / own[k]
        out[row] = cells
    return _keep_pair(a, b, "joint", out)


def _pair_cache(a: "Layer", b: "Layer", kind: str) -> Any:
    """What was computed for this pair of area views before (layers never change; the pair is
    held by weak reference, so a scenario's old version does not stay alive here)."""
    entry = a.__dict__.get("_area_pairs", {}).get((id(b), kind))
    if entry is not None and entry[0]() is b:
        return entry[1]
    return None


def _keep_pair(a: "Layer", b: "Layer", kind: str, value: Any) -> Any:
    import weakref

    pairs = a.__dict__.get("_area_pairs")
    if pairs is None:
        pairs = {}
        object.__setattr__(a, "_area_pairs", pairs)
    if len(pairs) > 64:
        pairs.clear()
    pairs[(id(b), kind)] = (weakref.ref(b), value)
    return value


def area_gap(a: "Layer", b: "Layer", rows: np.ndarray) -> dict[int, float]:
    """Per row both layers' polygons split: the area (km²) B covers and no A-zone does."""
    import shapely

    from geo.geometry.polygons import municipal_polygons

    cached = _pair_cache(a, b, "gap")
    if cached is not None:
        return cached
    pa, pb = area_pieces(a), area_pieces(b)
    cut_a, cut_b = _fractional_rows(pa), _fractional_rows(pb)
    w = a.atoms.weights("area")
    munis = municipal_polygons()
    out = {}
    for row in np.asarray(rows).tolist():
        by_polygons = (row in cut_a, row in cut_b)
        if by_polygons != (True, True):
            out[row] = _other_gap(a, b, row, float(w[row]), by_polygons)
            continue
        assert pa is not None and pb is not None  # both cut this row by polygons
        whole = float(shapely.area(munis.geometry[int(a.atoms.nis_codes[row])]))
        cover_a = shapely.union_all(_row_pieces(pa, row)[1])
        cover_b = shapely.union_all(_row_pieces(pb, row)[1])
        gap = float(shapely.area(shapely.difference(cover_b, cover_a)))
        out[row] = w[row] * gap / whole if whole > 0 else 0.0
    return _keep_pair(a, b, "gap", out)



def _other_gap(a: "Layer", b: "Layer", row: int, w: float, by_polygons: tuple[bool, bool]) -> float:
    """The area B covers and A does not in a municipality not cut by both layers' polygons: the
    parts B covers and A does not; where one layer cuts by polygons, what the other covers (its
    parts' outlines, or all or nothing) outside its pieces (:func:`_mixed_gap`), else the
    sectors' share of such inhabitants times the area; else the product of coverages."""
    cover_a = min(float(a.coverage()[row]), 1.0)
    cover_b = min(float(b.coverage()[row]), 1.0)
    product = w * cover_b * (1.0 - cover_a)
    if by_polygons != (False, False):
        exact = _mixed_gap(a, b, row, w, by_polygons)
        if exact is not None:
            return exact
    if by_polygons == (False, False):
        parts = municipal_parts(a.atoms)[int(a.atoms.nis_codes[row])]
        sets_a, sets_b = _row_part_sets(a, row, parts), _row_part_sets(b, row, parts)
        if None in sets_a.values() or None in sets_b.values() or float(parts.sum()) <= 0:
            return product
        covered_a = frozenset().union(*(s for s in sets_a.values() if s is not None))
        covered_b = frozenset().union(*(s for s in sets_b.values() if s is not None))
        return w * float(parts[list(covered_b - covered_a)].sum()) / float(parts.sum())
    from geo.engine.fine import joint_gap, shared_rows

    origin_a, origin_b = _origin(a), _origin(b)
    if row not in shared_rows(origin_a, origin_b):
        return product
    people = origin_a.atoms.weights("population")
    if people[row] <= 0:
        return product
    return w * joint_gap(origin_a, origin_b, people, np.array([row]))[row] / float(people[row])


def _mixed_gap(a: "Layer", b: "Layer", row: int, w: float, by_polygons: tuple[bool, bool]) -> float | None:
    """The area B covers and A does not where one layer cuts the municipality by polygons and
    the other covers it whole, not at all, or by 2019-2024 parts: the polygon pieces against the
    whole municipal polygon or the parts' outlines. None where the outlines cannot say (a share
    named neither whole nor by parts)."""
    import shapely

    from geo.geometry.polygons import municipal_polygons

    whole = municipal_polygons().geometry.get(int(a.atoms.nis_codes[row]))
    if whole is None or shapely.area(whole) <= 0:
        return None
    covers = [_cover(layer, row, whole, cut) for layer, cut in zip((a, b), by_polygons)]
    if covers[0] is None or covers[1] is None:
        return None
    return w * float(shapely.area(shapely.difference(covers[1], covers[0]))) / float(shapely.area(whole))


def _cover(layer: "Layer", row: int, whole: Any, cut: bool) -> Any:
    """What ``layer`` covers of the municipality in ``row`` (EPSG:31370): its polygon pieces
    there, the whole polygon or nothing, or the outlines of the parts its zones cover; None
    where that cannot be said."""
    import shapely

    if cut:
        pieces = area_pieces(layer)
        return None if pieces is None else shapely.union_all(_row_pieces(pieces, row)[1])
    m = sparse.csr_array(layer.membership)
    shares = m.data[m.indptr[row]:m.indptr[row + 1]]
    if float(shares.sum()) <= SHARE_TOLERANCE:
        return shapely.Polygon()
    if bool((shares >= 1.0 - SHARE_TOLERANCE).any()):  # a zone holds all of it (coverage alone
        return whole  # says nothing where zones overlap: two associations on one part)
    by_parts = _row_parts(layer, row)
    if by_parts is None:
        return None
    covered = set().union(*by_parts.sets.values())
    return shapely.union_all([by_parts.outlines[c] for c in sorted(covered)])

