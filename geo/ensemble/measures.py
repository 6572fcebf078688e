"""Every measure the workbench shows, for thousands of plans at once.

A plan is a zone index per municipality. Against the associations (the layer with role
``associations``) the workbench shows, per association, the zones it touches, its dominant zone's
share and the inhabitants outside it, and for the whole layer the associations crossing a line,
the nested share, ARI, VI and NMI (:class:`geo.engine.overlay.Summary`, as
``overlay(associations, plan)``), plus the population spread of the zones. All of them are read
off the contingency table *association x zone*, so here the tables of all plans are built in one
``numpy.bincount`` (vectorised, no overlay per plan) and the measures computed on the stack of
tables, with the conventions of :mod:`geo.engine.metrics` (each inhabitant once for overlapping
associations, the pair-counting ARI for population). The tests check them against
:func:`geo.engine.overlay.overlay` on real plans.

Examples
--------
>>> import numpy as np
>>> data = MeasureData(codes=("A",), names=("A",), rows=np.array([0, 1]), cols=np.array([0, 0]),
...     vals=np.array([1.0, 1.0]), group_rows=np.array([0, 1]), group_cols=np.array([0, 0]),
...     group_vals=np.array([10.0, 20.0]), n_groups=1, totals=np.array([30.0]), coverage=np.array([1.0, 1.0, 0.0]),
...     population=np.array([10.0, 20.0, 5.0]), flemish=np.array([True, True, True]),
...     reference_id="demo", reference_name="Demo", overlapping=False, undefined=None)
>>> m = plan_measures(data, np.array([[0, 0, 1], [0, 1, 1]]), 2)
>>> m["zones_touched"].tolist(), m["crossing"].tolist()
([[1], [2]], [0, 1])
>>> m["outside"].tolist()
[[0.0], [10.0]]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from geo.engine.layer import Layer
from geo.engine.metrics import NESTED_TOLERANCE
from geo.engine.overlay import OVERLAPPING_LAYER, PRESENCE

if TYPE_CHECKING:
    import pandas as pd

# name -> (scope, Dutch label, better: "lower" | "higher", integer-valued)
MEASURES: dict[str, tuple[str, str, str, bool]] = {
    "crossing": ("layer", "samenwerkingsverbanden die een grens kruisen", "lower", True),
    "nested_share": ("layer", "aandeel inwoners in een samenwerkingsverband dat in één zone ligt", "higher", False),
    "adjusted_rand_index": ("layer", "aangepaste Rand-index met de samenwerkingsverbanden", "higher", False),
    "variation_of_information": ("layer", "variatie van informatie met de samenwerkingsverbanden, in bits", "lower",
                                 False),
    "normalized_mutual_information": ("layer", "genormaliseerde wederzijdse informatie", "higher", False),
    "population_spread": ("layer", "verschil tussen de grootste en de kleinste zone", "lower", False),
    "nesting_share": ("layer",
                      "aandeel inwoners in een zone die in één zone van de nestlaag ligt "
                      "(standaard: één referentieregio)", "higher", False),
    "zones_touched": ("association", "geraakte zones", "lower", True),
    "dominant_share": ("association", "aandeel in de grootste zone", "higher", False),
    "outside": ("association", "inwoners buiten de grootste zone", "lower", False),
}
LAYER_MEASURES = [k for k, v in MEASURES.items() if v[0] == "layer"]
ASSOCIATION_MEASURES = [k for k, v in MEASURES.items() if v[0] == "association"]
SHARE_MEASURES = frozenset({"nested_share", "dominant_share", "nesting_share"})  # written as "37,1 %"


@dataclass(frozen=True, eq=False)
class MeasureData:
    """The association layer as arrays: membership entries (atom row, association, share), the
    partition entries (:meth:`geo.engine.layer.Layer.partition`), totals and coverage."""

    codes: tuple[str, ...]
    names: tuple[str, ...]
    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray
    group_rows: np.ndarray
    group_cols: np.ndarray
    group_vals: np.ndarray
    n_groups: int
    totals: np.ndarray
    coverage: np.ndarray
    population: np.ndarray
    flemish: np.ndarray
    reference_id: str
    reference_name: str
    overlapping: bool
    undefined: str | None
    nest: np.ndarray | None = None  # nest-zone index per municipality (-1: none), for nesting_share


def measure_data(reference: Layer, population: np.ndarray, flemish: np.ndarray,
                 nest: np.ndarray | None = None) -> MeasureData:
    """The arrays of ``reference`` (the association layer) that the measures read; ``nest`` the
    nest-zone index of each municipality (for the nesting share)."""
    m = reference.membership.tocoo()
    p = reference.partition().tocoo()
    w = np.asarray(population, dtype=float)
    coverage = np.asarray(reference.coverage(), dtype=float)
    counted = float(np.dot(w, coverage))
    undefined = ("overlapping_zones"
                 if counted > 0 and counted >= OVERLAPPING_LAYER * float(np.dot(w, np.minimum(coverage, 1.0)))
                 else None)
    data = MeasureData(codes=tuple(str(c) for c in reference.zone_codes),
                       names=tuple(str(x) for x in reference.zones["name"]),
                       rows=m.row.astype(np.int64), cols=m.col.astype(np.int64), vals=m.data.astype(float),
                       group_rows=p.row.astype(np.int64), group_cols=p.col.astype(np.int64),
                       group_vals=w[p.row] * p.data.astype(float),
                       n_groups=int(p.shape[1]), totals=np.asarray(reference.membership.T @ w, dtype=float),
                       coverage=coverage, population=w, flemish=np.asarray(flemish, dtype=bool),
                       reference_id=reference.id, reference_name=reference.name,
                       overlapping=bool((coverage > 1.0 + 1e-6).any()), undefined=undefined,
                       nest=None if nest is None else np.asarray(nest, dtype=np.int64))
    return data


def _tables(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, n_rows: int, plans: np.ndarray,
            n_zones: int) -> np.ndarray:
    """``(P, n_rows, n_zones + 1)`` weighted tables; the last column: in no zone of the plan."""
    labels = plans[:, rows]  # (P, E)
    labels = np.where(labels < 0, n_zones, labels)
    width = n_zones + 1
    P = plans.shape[0]
    index = (np.arange(P)[:, None] * (n_rows * width) + cols[None, :] * width + labels).ravel()
    flat = np.bincount(index, weights=np.broadcast_to(vals, labels.shape).ravel(), minlength=P * n_rows * width)
    return flat.reshape(P, n_rows, width)


def _pairs(x: np.ndarray) -> np.ndarray:
    return np.maximum(x * (x - 1.0), 0.0) / 2.0


def _entropy(p: np.ndarray, axis: tuple[int, ...]) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return -terms.sum(axis=axis)


def partition_measures(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ARI, VI and NMI of a stack of tables ``(P, G, Z)``, as :func:`geo.engine.metrics.partition_measures`."""
    n = t.sum(axis=(1, 2))
    cells = _pairs(t).sum(axis=(1, 2))
    rows = _pairs(t.sum(axis=2)).sum(axis=1)
    cols = _pairs(t.sum(axis=1)).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = rows * cols / _pairs(n)
        maximum = (rows + cols) / 2.0
        same = np.abs(maximum - expected) <= 1e-12 * np.abs(expected)
        ari = np.where(same | (n <= 1), 1.0, (cells - expected) / (maximum - expected))
        p = t / np.where(n > 0, n, 1.0)[:, None, None]
        pa, pb = p.sum(axis=2), p.sum(axis=1)
        h_a, h_b = _entropy(pa, (1,)), _entropy(pb, (1,))
        outer = pa[:, :, None] * pb[:, None, :]
        mutual = np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0) / np.where(outer > 0, outer, 1.0)),
                          0.0).sum(axis=(1, 2))
    mutual = np.maximum(mutual, 0.0)
    vi = h_a + h_b - 2.0 * mutual
    vi = np.where(vi < 1e-12, 0.0, vi)
    nmi = np.where(h_a + h_b == 0, 1.0, np.minimum(2.0 * mutual / np.where(h_a + h_b == 0, 1.0, h_a + h_b), 1.0))
    empty = n <= 0
    return np.where(empty, 1.0, ari), np.where(empty, 0.0, vi), np.where(empty, 0.0, nmi)


def plan_measures(data: MeasureData, plans: np.ndarray, n_zones: int) -> dict[str, np.ndarray]:
    """Every measure of every plan.

    Parameters
    ----------
    data : MeasureData
    plans : numpy.ndarray
        ``(P, n)`` zone index per municipality (-1: in no zone).
    n_zones : int
        Zone indices run from 0 to ``n_zones - 1``.

    Returns
    -------
    dict of str to numpy.ndarray
        Layer measures ``(P,)`` and association measures ``(P, A)`` (see :data:`MEASURES`).
    """
    plans = np.atleast_2d(np.asarray(plans, dtype=np.int64))
    P = plans.shape[0]
    A = len(data.codes)
    w = data.population
    table = _tables(data.rows, data.cols, data.vals * w[data.rows], A, plans, n_zones)
    inside = table[:, :, :n_zones]
    best = inside.max(axis=2) if n_zones else np.zeros((P, A))
    totals = data.totals[None, :]
    touched = (inside > PRESENCE).sum(axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        dominant = np.where(totals > 0, best / np.where(totals > 0, totals, 1.0), 0.0)
    outside = np.maximum(totals - best, 0.0)
    outside = np.where(np.abs(outside) < 1e-6, 0.0, outside)
    nested = (totals > 0) & (best >= totals * (1.0 - NESTED_TOLERANCE))
    if data.overlapping:
        covered = np.minimum(data.coverage, 1.0)
        member = np.zeros((len(w), A))
        np.add.at(member, (data.rows, data.cols), data.vals)
        in_nested = np.minimum(nested.astype(float) @ member.T, 1.0)  # (P, n)
        whole = float((w * covered).sum())
        nested_share = (in_nested * w[None, :]).sum(axis=1) / whole if whole > 0 else np.zeros(P)
    else:
        whole = float(data.totals.sum())
        nested_share = (nested * totals).sum(axis=1) / whole if whole > 0 else np.zeros(P)
    groups = _tables(data.group_rows, data.group_cols, data.group_vals, data.n_groups, plans, n_zones)[:, :, :n_zones]
    ari, vi, nmi = partition_measures(groups)
    if data.undefined or not groups.sum() > PRESENCE:
        ari = vi = nmi = np.full(P, np.nan)
    zone_pop = np.zeros((P, n_zones + 1))
    flem = np.zeros((P, n_zones + 1))
    labels = np.where(plans < 0, n_zones, plans)
    np.add.at(zone_pop, (np.repeat(np.arange(P), plans.shape[1]), labels.ravel()), np.tile(w, P))
    np.add.at(flem, (np.repeat(np.arange(P), plans.shape[1]), labels.ravel()), np.tile(data.flemish.astype(float), P))
    judged = (flem[:, :n_zones] > 0) & (zone_pop[:, :n_zones] > 0)
    big = np.where(judged, zone_pop[:, :n_zones], -np.inf).max(axis=1)
    small = np.where(judged, zone_pop[:, :n_zones], np.inf).min(axis=1)
    spread = np.where(np.isfinite(big) & np.isfinite(small), big - small, 0.0)
    return {
        "nesting_share": _nesting_share(data, plans, n_zones),
        "crossing": (touched > 1).sum(axis=1),
        "nested_share": nested_share,
        "adjusted_rand_index": ari,
        "variation_of_information": vi,
        "normalized_mutual_information": nmi,
        "population_spread": spread,
        "zones_touched": touched,
        "dominant_share": dominant,
        "outside": outside,
    }


def _nesting_share(data: MeasureData, plans: np.ndarray, n_zones: int) -> np.ndarray:
    """Share of the inhabitants in a nest zone whose zone lies inside one nest zone (1 for every
    drawn plan; today's layer shows what crossing a region line costs). NaN without nesting."""
    P = plans.shape[0]
    if data.nest is None:
        return np.full(P, np.nan)
    rows = np.nonzero(data.nest >= 0)[0]
    if not len(rows):
        return np.full(P, np.nan)
    n_nest = int(data.nest.max()) + 1
    table = _tables(rows, data.nest[rows], data.population[rows], n_nest, plans, n_zones)[:, :, :n_zones]
    totals = table.sum(axis=1)  # (P, Z): inhabitants of each zone that lie in some nest zone
    nested = (totals > 0) & (table.max(axis=1) >= totals * (1.0 - NESTED_TOLERANCE))
    whole = totals.sum(axis=1)
    return np.where(whole > 0, (totals * nested).sum(axis=1) / np.where(whole > 0, whole, 1.0), np.nan)


def layer_labels(layer: Layer) -> tuple[np.ndarray, int]:
    """A layer that is a zoning as a plan: zone position per municipality (its largest share),
    -1 where it has none. Returns the labels and the number of zones."""
    m = layer.membership.tocsr()
    labels = np.full(m.shape[0], -1, dtype=np.int64)
    for row in range(m.shape[0]):
        start, end = m.indptr[row], m.indptr[row + 1]
        if end > start:
            labels[row] = int(m.indices[start + int(np.argmax(m.data[start:end]))])
    return labels, m.shape[1]


def layer_measures(data: MeasureData, layer: Layer) -> dict[str, np.ndarray]:
    """The measures of one zoning (today's layer, a scenario), as one plan: arrays of length 1."""
    labels, n_zones = layer_labels(layer)
    return plan_measures(data, labels[None, :], n_zones)


def per_plan_table(result, codes: tuple[str, ...]) -> pd.DataFrame:
    """One row per plan (``plan``, ``chain``) and one column per measure, association measures as
    ``<measure>_<association code>``: what the CSV/XLSX downloads of the per-plan values hold.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> result = SimpleNamespace(chain_of=np.array([0, 1]), measures={"crossing": np.array([3, 2]),
    ...                          "zones_touched": np.array([[4], [3]])})
    >>> per_plan_table(result, ("W13",)).columns.tolist()
    ['plan', 'chain', 'crossing', 'zones_touched_W13']
    """
    import pandas as pd

    frame = pd.DataFrame({"plan": np.arange(len(result.chain_of)), "chain": np.asarray(result.chain_of)})
    for name, values in result.measures.items():
        if np.ndim(values) == 1:
            frame[name] = values
        else:
            for a, code in enumerate(codes):
                frame[f"{name}_{code}"] = values[:, a]
    return frame
