"""One municipality: its zone in every layer and its older NIS codes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query

from api.deps import get_workspace
from geo.storage.workspace import Workspace
from geo.views.atlas import DEFAULT_AGAINST, fit_atlas, municipality_counts

router = APIRouter(prefix="/api/v1/municipalities", tags=["municipalities"])


@router.get("", summary="Search municipalities by current or old name or NIS code")
def search(q: str = Query(..., min_length=1, max_length=100), limit: int = Query(10, ge=1, le=50),
           ws: Workspace = Depends(get_workspace)) -> list[dict]:
    hits = ws.catalog.crosswalk.search(q, limit)
    return [{"nis_code": int(r.nis_code), "name": r.name, "matched": r.matched} for r in hits.itertuples()]


@router.get("/{nis_code}", summary="A municipality with its zone in every layer")
def get_municipality(nis_code: int = Path(..., description="5-digit NIS code; an older code is carried to 2025"),
                     ws: Workspace = Depends(get_workspace)) -> dict:
    crosswalk = ws.catalog.crosswalk
    current = crosswalk.to_2025(nis_code)
    atoms = ws.catalog.atoms
    row = atoms.table.loc[current]
    layers = []
    for layer in ws.layers():
        zones = [{"code": c, "name": n, "share": round(s, 6)} for c, n, s in layer.zones_of(current)]
        layers.append({"layer": layer.id, "layer_name": layer.name, "zones": zones})
    history = crosswalk.history(current)
    return {
        "nis_code": int(current),
        "requested_nis_code": int(nis_code),
        "name": row["name"],
        "name_fr": row["name_fr"],
        "region": row["region"],
        "flemish": bool(row["region"] == "Vlaams Gewest"),
        "population": int(row["population"]),
        "population_year": atoms.population_year,
        "area_km2": round(float(row["area_km2"]), 2),
        "merged_from": crosswalk.merged_from(current),
        "old_codes": [{"vintage": r.vintage, "nis_code": int(r.nis_code), "name": r.name,
                       "population_share": float(r.population_share)} for r in history.itertuples()],
        "layers": layers,
        # The grensgemeente view of the fit atlas (active registered associations, reference regions).
        "border_view": {"against": DEFAULT_AGAINST, **municipality_counts(fit_atlas(ws.catalog), current)},
    }
