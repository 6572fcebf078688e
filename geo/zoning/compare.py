"""Comparison of two zonings: what moved, how the fit with other layers changed, which zones
crossed a population norm.

The two zonings are usually a scenario and the layer it was made from ("scenario vs today"),
or two scenarios of the same layer. Each is overlaid with every chosen layer (cooperation
associations first, because a zoning should respect existing cooperation) and every measure is
reported before, after and as a change. Nothing is ranked: the comparison shows structure.

Measures per chosen layer ``L`` (see :mod:`geo.engine.metrics`):

* ``nested_share``: share of L's inhabitants whose L-zone lies inside one zone of the zoning
  (for associations: the association is not cut by a zone boundary);
* ``zoning_nested_share``: share of the zoning's inhabitants whose zone lies inside one L-zone;
* ``population_outside_dominant``: inhabitants of L's members outside their L-zone's main zone
  ("on the wrong side of the line");
* ``adjusted_rand_index``, ``variation_of_information``, ``normalized_mutual_information``;
* ``gap_population`` and ``overlap_population`` (these depend on L only, so a change of zoning
  leaves them as they are; they are shown so the numbers can be read in context).

Examples
--------
>>> from geo.reference.catalog import load_catalog
>>> from geo.engine.scenario import Move, apply_moves
>>> catalog = load_catalog()
>>> elz = catalog.layer("eerstelijnszone")
>>> result = compare(elz, apply_moves(elz, [Move(34025, "elz18")]), [catalog.layer("samenwerkingsverband")])
>>> [m["nis_code"] for m in result.moved]
[34025]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from geo.engine.atoms import Weight
from geo.engine.cells import row_max
from geo.engine.layer import Layer
from geo.engine.overlay import OverlayResult, overlay
from geo.errors import InvalidInput
from geo.reference.norms import NORM_LINES, PopulationNorm, norm_for
from geo.reference.roles import association_layer

MEASURES = ("nested_share", "zoning_nested_share", "outside_dominant", "adjusted_rand_index",
            "variation_of_information", "normalized_mutual_information", "gap", "overlap")
CHANGE_TOLERANCE = 1e-9


def order_against(layers: Iterable[Layer]) -> list[Layer]:
    """Association layers first, then the others in the order given; duplicates dropped."""
    seen: dict[str, Layer] = {}
    for layer in layers:
        seen.setdefault(layer.id, layer)
    chosen = list(seen.values())
    prefix = association_layer()  # the layer with role "associations" in data/layers.json
    return ([l for l in chosen if l.id.startswith(prefix)] + [l for l in chosen if not l.id.startswith(prefix)])


def moved_municipalities(base: Layer, other: Layer) -> list[dict]:
    """Municipalities whose zones (by code) or shares differ between two zonings.

    Unlike :func:`geo.engine.scenario.moved`, the two zonings need not have the same zones.
    """
    if base.atoms is not other.atoms:
        raise InvalidInput(f"layers {base.id!r} and {other.id!r} are not over the same municipalities")
    base_rows, other_rows = base.membership.tocsr(), other.membership.tocsr()
    base_codes = base.zones["code"].to_numpy()
    other_codes = other.zones["code"].to_numpy()
    out = []
    for row, nis in enumerate(base.atoms.nis_codes):
        b = _row(base_rows, row, base_codes)
        o = _row(other_rows, row, other_codes)
        if b.keys() == o.keys() and all(abs(b[k] - o[k]) <= CHANGE_TOLERANCE for k in b):
            continue
        out.append({"nis_code": int(nis), "municipality": str(base.atoms.names[row]),
                    "from_zones": sorted(b, key=base.zone_position),
                    "to_zones": sorted(o, key=other.zone_position),
                    "population": int(base.atoms.table["population"].iloc[row])})
    return out


def _row(matrix, row: int, codes: np.ndarray) -> dict[str, float]:
    start, end = matrix.indptr[row], matrix.indptr[row + 1]
    return {str(codes[c]): float(v) for c, v in zip(matrix.indices[start:end], matrix.data[start:end]) if v > 0}


def _measures(forward: OverlayResult, backward: OverlayResult) -> dict[str, float]:
    s = forward.summary
    dominant = row_max(forward.table)
    return {
        "nested_share": s.nested_share,
        "zoning_nested_share": backward.summary.nested_share,
        "outside_dominant": float(np.maximum(forward.a_totals - dominant, 0.0).sum()),
        "adjusted_rand_index": s.adjusted_rand_index,
        "variation_of_information": s.variation_of_information,
        "normalized_mutual_information": s.normalized_mutual_information,
        "gap": s.gap_weight,
        "overlap": s.overlap_weight,
    }


def _measure_name(measure: str, weight: str) -> str:
    unit = "population" if weight == "population" else "area_km2"
    return f"{unit}_{measure}" if measure in ("outside_dominant", "gap", "overlap") else measure


@dataclass(frozen=True, eq=False)
class Comparison:
    """Two zonings compared.

    Attributes
    ----------
    moved : list of dict
        Municipalities whose zones differ.
    measures : pandas.DataFrame
        ``against, measure, before, after, change``; one row per chosen layer and measure.
    against_zones : pandas.DataFrame
        Per zone of each chosen layer whose fit changed: main zone, share in it and zones touched,
        before and after.
    population : pandas.DataFrame
        Per zone whose population changed: before, after, the norm thresholds crossed, and
        whether the norm is met before and after.
    """

    base: Layer
    other: Layer
    against: list[Layer]
    weight: Weight
    norm: PopulationNorm | None
    thresholds: tuple[int, ...]
    moved: list[dict]
    measures: pd.DataFrame
    against_zones: pd.DataFrame
    population: pd.DataFrame

    def as_dict(self) -> dict:
        """The comparison as a JSON-ready dict."""
        measures: dict[str, dict] = {}
        for r in self.measures.itertuples():
            measures.setdefault(r.against, {})[r.measure] = {"before": _round(r.before), "after": _round(r.after),
                                                            "change": _round(r.change)}
        return {
            "base": self.base.id, "base_name": self.base.name,
            "other": self.other.id, "other_name": self.other.name,
            "against": [l.id for l in self.against],
            "weight": self.weight,
            "population_year": self.base.atoms.population_year,
            "moved": self.moved,
            "measures": measures,
            "against_zones": _records(self.against_zones),
            "norm": None if self.norm is None else {"label": self.norm.label, "minimum": self.norm.minimum,
                                                    "maximum": self.norm.maximum},
            "thresholds": list(self.thresholds),
            "population": _records(self.population),
            "norm_crossings": _records(self.population[self.population["crossed"].str.len() > 0])
            if len(self.population) else [],
        }

    def rows(self) -> pd.DataFrame:
        """One readable long table: ``section, layer, code, name, measure, before, after, change``."""
        rows = []
        for m in self.moved:
            rows.append({"section": "verplaatst", "layer": self.base.id, "code": str(m["nis_code"]),
                         "name": m["municipality"], "measure": "zone (change: inhabitants moved)",
                         "before": ",".join(m["from_zones"]), "after": ",".join(m["to_zones"]),
                         "change": m["population"]})
        for r in self.measures.itertuples():
            rows.append({"section": "maat", "layer": r.against, "code": "", "name": "", "measure": r.measure,
                         "before": _round(r.before), "after": _round(r.after), "change": _round(r.change)})
        for r in self.against_zones.itertuples():
            rows.append({"section": "zone van vergeleken laag", "layer": r.against, "code": r.code, "name": r.name,
                         "measure": "dominant_share", "before": round(r.dominant_share_before, 6),
                         "after": round(r.dominant_share_after, 6),
                         "change": round(r.dominant_share_after - r.dominant_share_before, 6)})
        for r in self.population.itertuples():
            rows.append({"section": "bevolking", "layer": self.other.id, "code": r.code, "name": r.name,
                         "measure": "population" + (f" (norm: {', '.join(map(str, r.crossed))})" if r.crossed else ""),
                         "before": r.population_before, "after": r.population_after,
                         "change": r.population_after - r.population_before})
        return pd.DataFrame(rows, columns=["section", "layer", "code", "name", "measure", "before", "after", "change"])


def _round(value: float) -> float:
    return round(float(value), 6)


def _records(frame: pd.DataFrame) -> list[dict]:
    out = []
    for record in frame.to_dict(orient="records"):
        out.append({k: (v.item() if isinstance(v, np.generic) else v) for k, v in record.items()})
    return out


def compare(base: Layer, other: Layer, against: Sequence[Layer], weight: Weight = "population",
            norm: PopulationNorm | None = None, thresholds: Sequence[int] | None = None) -> Comparison:
    """Compare zoning ``other`` with ``base`` against each layer in ``against``.

    Parameters
    ----------
    base, other : Layer
        The zonings (e.g. today's primary care zones and a scenario).
    against : sequence of Layer
        Layers to measure the fit with; association layers are put first.
    weight : {"population", "area"}
    norm : PopulationNorm, optional
        Norm whose pass/fail is reported per zone (default: the base layer's default norm).
    thresholds : sequence of int, optional
        Population lines whose crossing is reported (default: the norm's bounds and the
        60,000 / 100,000 lines of :data:`geo.reference.norms.NORM_LINES`).

    Examples
    --------
    >>> from geo.engine.scenario import Move, apply_moves
    >>> scenario = apply_moves(elz, [Move(34025, "elz18")])  # Lendelede to Kortrijk-Kuurne-Harelbeke
    >>> measures = compare(elz, scenario, [catalog.layer("samenwerkingsverband")]).measures
    >>> float(measures.set_index("measure").loc["population_outside_dominant", "change"])
    -5787.0
    """
    if base.atoms is not other.atoms:
        raise InvalidInput(f"layers {base.id!r} and {other.id!r} are not over the same municipalities")
    chosen = order_against(against)
    if not chosen:
        raise InvalidInput("choose at least one layer to compare against (e.g. samenwerkingsverband)")
    norm = norm if norm is not None else norm_for(base)
    lines = set(thresholds if thresholds is not None else NORM_LINES)
    if thresholds is None and norm is not None:
        lines |= {b for b in (norm.minimum, norm.maximum) if b is not None}
    lines_sorted = tuple(sorted(int(t) for t in lines))

    measure_rows, zone_rows = [], []
    for layer in chosen:
        f_before, f_after = overlay(layer, base, weight), overlay(layer, other, weight)
        before = _measures(f_before, overlay(base, layer, weight))
        after = _measures(f_after, overlay(other, layer, weight))
        for measure in MEASURES:
            measure_rows.append({"against": layer.id, "measure": _measure_name(measure, weight),
                                 "before": before[measure], "after": after[measure],
                                 "change": after[measure] - before[measure]})
        zone_rows.extend(_zone_changes(layer, f_before, f_after))
    return Comparison(base, other, chosen, weight, norm, lines_sorted, moved_municipalities(base, other),
                      pd.DataFrame(measure_rows, columns=["against", "measure", "before", "after", "change"]),
                      pd.DataFrame(zone_rows, columns=["against", "code", "name", "dominant_zone_before",
                                                       "dominant_zone_after", "dominant_share_before",
                                                       "dominant_share_after", "zones_touched_before",
                                                       "zones_touched_after"]),
                      _population_changes(base, other, norm, lines_sorted))


def _zone_changes(layer: Layer, before: OverlayResult, after: OverlayResult) -> list[dict]:
    tb, ta = before.zone_table(), after.zone_table()
    rows = []
    for b, a in zip(tb.itertuples(), ta.itertuples()):
        changed = (abs(b.dominant_share - a.dominant_share) > CHANGE_TOLERANCE or b.dominant_zone != a.dominant_zone
                   or b.zones_touched != a.zones_touched)
        if changed:
            rows.append({"against": layer.id, "code": str(b.code), "name": str(b.name),
                         "dominant_zone_before": b.dominant_zone, "dominant_zone_after": a.dominant_zone,
                         "dominant_share_before": float(b.dominant_share),
                         "dominant_share_after": float(a.dominant_share),
                         "zones_touched_before": int(b.zones_touched), "zones_touched_after": int(a.zones_touched)})
    return rows


def _population_changes(base: Layer, other: Layer, norm: PopulationNorm | None,
                        thresholds: tuple[int, ...]) -> pd.DataFrame:
    before = dict(zip(base.zone_codes, base.zone_weight("population")))
    after = dict(zip(other.zone_codes, other.zone_weight("population")))
    names = {**dict(zip(base.zone_codes, base.zones["name"])), **dict(zip(other.zone_codes, other.zones["name"]))}
    codes = list(dict.fromkeys([*base.zone_codes, *other.zone_codes]))
    rows = []
    for code in codes:
        p0, p1 = int(round(before.get(code, 0.0))), int(round(after.get(code, 0.0)))
        if p0 == p1:
            continue
        crossed = [t for t in thresholds if (p0 >= t) != (p1 >= t)]
        row = {"code": code, "name": str(names[code]), "population_before": p0, "population_after": p1,
               "crossed": crossed}
        if norm is not None:
            row["meets_norm_before"] = bool(norm.passes(np.array([p0]))[0]) if code in before else None
            row["meets_norm_after"] = bool(norm.passes(np.array([p1]))[0]) if code in after else None
        rows.append(row)
    columns = ["code", "name", "population_before", "population_after", "crossed"]
    if norm is not None:
        columns += ["meets_norm_before", "meets_norm_after"]
    return pd.DataFrame(rows, columns=columns)
