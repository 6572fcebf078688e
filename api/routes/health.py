"""Liveness and what data is loaded."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api import warmup
from api.deps import get_workspace
from geo.storage.workspace import Workspace

router = APIRouter(tags=["health"])


@router.get("/health", summary="Is the service up, on which data; 503 when the database cannot be read",
            responses={503: {"description": "The database cannot be read (damaged, unreachable)"}})
def health(ws: Workspace = Depends(get_workspace)) -> dict:
    ws.store.check()  # a damaged or unreachable database is a 503 database_unavailable, not 'ok'
    return {"status": "ok", "municipalities": len(ws.catalog.atoms),
            "population_year": ws.catalog.atoms.population_year, "layers": len(ws.catalog.builtin),
            "warm_up": warmup.status()}
