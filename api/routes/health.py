"""Liveness and what data is loaded."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.deps import Workspace, get_workspace

router = APIRouter(tags=["health"])


@router.get("/health", summary="Is the service up, on which data")
def health(ws: Workspace = Depends(get_workspace)) -> dict:
    return {"status": "ok", "municipalities": len(ws.catalog.atoms),
            "population_year": ws.catalog.atoms.population_year, "layers": len(ws.catalog.builtin)}
