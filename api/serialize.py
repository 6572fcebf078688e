"""Turn geo results into JSON-ready dicts and CSV rows. No computation happens here."""

from __future__ import annotations

import json
import math

import pandas as pd

from geo.engine.areas import zone_areas
from geo.engine.details import Member, ZoneDetail
from geo.engine.layer import Layer
from geo.engine.overlay import OverlayResult
from geo.views.zones import ZoneMembers


def weight_key(weight: str) -> str:
    """The JSON field a weight is reported in: ``population`` or ``area_km2``."""
    return "population" if weight == "population" else "area_km2"


def number(value: float, weight: str = "population") -> float | int:
    """Inhabitants are whole people (fractional memberships are rounded); km^2 keep 4 decimals."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 0
    return int(round(value)) if weight == "population" else round(float(value), 4)


def layer_info(layer: Layer) -> dict:
    return {
        "id": layer.id,
        "name": layer.name,
        "kind": layer.kind,
        "vintage": layer.vintage,
        "zone_count": len(layer),
        "source": layer.source,
        "description": layer.description,
        # How fractional shares were computed ("population", "area", "population+area"); null for
        # layers of whole municipalities. Zones of an import that cover nobody are listed, not kept.
        "weighting": layer.weighting or None,
        **({"left_out_zones": list(layer.left_out)} if layer.left_out else {}),
    }


def layer_zones(layer: Layer) -> dict:
    summary = layer.summary()
    area = zone_areas(layer)
    return {
        **layer_info(layer),
        "population_year": layer.atoms.population_year,
        "zones": [
            {"code": str(r.code), "name": str(r.name), "population": number(r.population),
             "area_km2": round(float(a), 2), "members": int(r.members)}
            for r, a in zip(summary.itertuples(), area)
        ],
    }


def members(layer: Layer, zone: str | None = None) -> list[dict]:
    return [
        {"zone_code": r.zone_code, "zone_name": r.zone_name, "nis_code": int(r.nis_code),
         "municipality": r.municipality, "share": round(float(r.share), 6)}
        for r in layer.members(zone).itertuples()
    ]


def zone_members(view: ZoneMembers) -> dict:
    return {
        "layer": view.layer.id, "code": view.code, "name": view.name, "population": number(view.population),
        "population_year": view.population_year,
        "members": [{"nis_code": m.nis_code, "name": m.name, "share": round(m.share, 6),
                     "population": number(m.population)} for m in view.members],
    }


def _member(m: Member, weight: str) -> dict:
    return {"nis_code": m.nis_code, "name": m.name, weight_key(weight): number(m.weight, weight)}


def zone_detail(detail: ZoneDetail, weight: str) -> dict:
    key = weight_key(weight)
    return {
        "code": detail.code,
        "name": detail.name,
        key: number(detail.weight, weight),
        "dominant_zone": detail.dominant_zone,
        "dominant_zone_name": detail.dominant_zone_name,
        "dominant_share": round(detail.dominant_share, 6),
        "nested": detail.nested,
        f"{key}_outside_dominant": number(detail.weight_outside_dominant, weight),
        "members_outside_dominant": [_member(m, weight) for m in detail.members_outside_dominant],
        "not_covered": [_member(m, weight) for m in detail.not_covered],
        "zones_touched": [
            {"code": z.code, "name": z.name, key: number(z.weight, weight), "share": round(z.share, 6),
             "members": [_member(m, weight) for m in z.members]}
            for z in detail.zones_touched
        ],
    }


def summary(result: OverlayResult) -> dict:
    s = result.summary
    key = weight_key(result.weight)
    return {
        "nested_share": round(s.nested_share, 6),
        "adjusted_rand_index": _defined(s.adjusted_rand_index),
        "variation_of_information": _defined(s.variation_of_information),
        "normalized_mutual_information": _defined(s.normalized_mutual_information),
        f"gap_{key}": number(s.gap_weight, result.weight),
        f"overlap_{key}": number(s.overlap_weight, result.weight),
        # null with a reason when ARI/VI/NMI do not apply (no shared inhabitants, overlapping zones)
        "measures_undefined": s.undefined,
        "measures_undefined_reason": s.undefined_reason,
    }


def _defined(value: float) -> float | None:
    return None if value != value else round(value, 6)  # NaN: undefined


def overlay_head(result: OverlayResult, offset: int, limit: int | None) -> dict:
    """Everything :func:`overlay` answers but the zones' details."""
    return {
        "a": result.a.id,
        "b": result.b.id,
        "a_name": result.a.name,
        "b_name": result.b.name,
        "weight": result.weight,
        "population_year": result.population_year,
        "summary": summary(result),
        "zones_total": len(result.a),
        "offset": offset,
        "limit": limit,
    }


def overlay(result: OverlayResult, offset: int = 0, limit: int | None = None) -> dict:
    """The overlay with the details of A-zones ``offset`` to ``offset + limit`` (all by default);
    ``zones_total`` says how many A-zones there are, so a client can ask for the next page.

    Built from :class:`geo.engine.overlay.ZoneDetail` objects, a dict per zone and member: the reference
    that :func:`api.serialize_overlay.overlay_json` (what the API answers) matches byte for byte."""
    stop = None if limit is None else offset + limit
    return {**overlay_head(result, offset, limit),
            "zones": [zone_detail(d, result.weight) for d in result.details(offset, stop)]}


def json_bytes(body: object) -> bytes:
    """Compact UTF-8 JSON of plain Python values, as FastAPI's JSONResponse writes it (without
    walking the value through ``jsonable_encoder`` first, which cost as much as building it)."""
    return json_text(body).encode()


def json_text(value: object) -> str:
    """:func:`json_bytes` as text."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def overlay_rows(result: OverlayResult) -> pd.DataFrame:
    """One row per (zone, touched zone, member): the flat table a spreadsheet wants."""
    key = weight_key(result.weight)
    rows = []
    for d in result.details():
        for z in d.zones_touched:
            for m in z.members:
                rows.append({
                    "zone_code": d.code, "zone_name": d.name, f"zone_{key}": number(d.weight, result.weight),
                    "dominant_zone": d.dominant_zone, "dominant_share": round(d.dominant_share, 6),
                    "touched_zone_code": z.code, "touched_zone_name": z.name,
                    f"touched_zone_{key}": number(z.weight, result.weight),
                    "nis_code": m.nis_code, "municipality": m.name, key: number(m.weight, result.weight),
                    "outside_dominant": z.code != d.dominant_zone,
                    "population_year": result.population_year,
                })
        for m in d.not_covered:
            rows.append({"zone_code": d.code, "zone_name": d.name, f"zone_{key}": number(d.weight, result.weight),
                         "dominant_zone": d.dominant_zone, "dominant_share": round(d.dominant_share, 6),
                         "touched_zone_code": "", "touched_zone_name": f"(niet in {result.b.name})",
                         f"touched_zone_{key}": 0, "nis_code": m.nis_code, "municipality": m.name,
                         key: number(m.weight, result.weight), "outside_dominant": True,
                         "population_year": result.population_year})
    return pd.DataFrame(rows)
