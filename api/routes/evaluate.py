"""``POST /api/v1/evaluate``: the workbench's live feedback for a base layer plus moves.

Stateless: the request carries the whole edit (base layer and every move so far), so any
worker process can answer it. The computation is :func:`geo.zoning.workbench.evaluate_moves`.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.deps import get_workspace
from api.routes.scenarios import MoveIn
from api.routes.zonings import ASSOCIATIONS, MAX_API_TIME_BUDGET
from geo.engine.scenario import Move, apply_moves
from geo.errors import InvalidInput
from geo.reference.roles import nesting_layer
from geo.storage.workspace import Workspace
from geo.usecases.norms import requested_norm
from geo.zoning.suggest import Constraints, suggest
from geo.zoning.workbench import evaluate_moves

router = APIRouter(prefix="/api/v1", tags=["zonings"])
DEFAULT_NEST_IN = nesting_layer()  # the layer with role "nesting" in data/layers.json
MAX_REFERENCES = 10


class EvaluateIn(BaseModel):
    base_layer: str = Field(..., min_length=1, max_length=100, examples=["eerstelijnszone"])
    moves: list[MoveIn] = Field(default_factory=list, max_length=1000,
                                description="Every move so far; a later move of a municipality replaces an earlier one")
    against: list[str] = Field([ASSOCIATIONS], max_length=MAX_REFERENCES,
                               description="Layers to measure the fit with, associations first")
    nest_in: str | None = Field(DEFAULT_NEST_IN, max_length=100,
                                description="Higher layer each zone should lie inside; null for none")
    min_population: int | None = Field(None, ge=0, description="Lower bound per zone (default: the layer's norm)")
    max_population: int | None = Field(None, ge=0, description="Upper bound per zone (default: the layer's norm)")
    population_check: bool = Field(True, description="false: no population bounds")


@router.post("/evaluate", summary="Evaluate a zoning being edited: norms, contiguity, nesting and fit, before/after",
             response_class=Response, responses={200: {"content": {"application/json": {}}}})
def post_evaluate(body: EvaluateIn, ws: Workspace = Depends(get_workspace)) -> Response:
    """Zones with population and norm status (``ok``, ``below_minimum``, ``above_maximum``,
    ``not_judged``), the detached pieces (``violation`` new, ``inherited`` from the base layer,
    ``exclave`` for Voeren and Baarle-Hertog), the zones not nested in ``nest_in`` before and
    after, per ``against`` layer the measures before and after and per zone the zones it touches,
    its dominant zone and share and the members outside it, and the moved municipalities.
    Population: Statbel, 1 January of ``population_year``. Read-only: no token needed."""
    base = ws.layer(body.base_layer)
    if len(set(body.against)) != len(body.against):
        raise InvalidInput(f"against lists a layer twice: {body.against}")
    references = [ws.layer(a) for a in body.against if a != body.base_layer]
    nest_in = ws.layer(body.nest_in) if body.nest_in and body.nest_in != body.base_layer else None
    norm = requested_norm(ws, body.base_layer, body.min_population, body.max_population, body.population_check)
    result = evaluate_moves(base, [Move(m.nis_code, m.to_zone) for m in body.moves], references, nest_in, norm)
    # Already JSON-ready: written directly (FastAPI's encoder would walk every value again, ~1 ms
    # for 50 moves: a third of the evaluation).
    return Response(json.dumps(result.as_dict(), ensure_ascii=False, allow_nan=False, separators=(",", ":"),
                               default=_plain).encode(), media_type="application/json")


def _plain(value: object) -> object:
    """Numpy scalars as Python numbers (the one kind of value ``as_dict`` may leave)."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class SuggestOnTopIn(EvaluateIn):
    max_moves: int = Field(5, ge=1, le=50)
    time_budget_seconds: float = Field(3.0, gt=0, le=MAX_API_TIME_BUDGET)
    keep_together: list[list[int]] = Field(default_factory=list, max_length=100,
                                           description="Groups of NIS codes that must stay in one zone")
    fixed: list[int] = Field(default_factory=list, max_length=400, description="NIS codes that must not move")
    allow_anchor_moves: bool = Field(False, description="Allow moving a zone's anchor (the municipality it is "
                                                        "named after, or its largest)")
    seed: int = Field(0, ge=0, le=2**31 - 1)


@router.post("/evaluate/suggest", summary="Suggest further moves on top of the moves of a zoning being edited")
def post_suggest_on_top(body: SuggestOnTopIn, ws: Workspace = Depends(get_workspace)) -> dict:
    """The suggester (``POST /api/v1/scenarios/suggest``) run on the base layer with ``moves``
    applied, within the page's constraints. Each step has a Dutch ``explanation`` and its
    effect; the page offers them one by one. Read-only: nothing is saved."""
    base = ws.layer(body.base_layer)
    moves = [Move(m.nis_code, m.to_zone) for m in body.moves]
    edited = apply_moves(base, moves, id=base.id, name=base.name) if moves else base
    norm = requested_norm(ws, body.base_layer, body.min_population, body.max_population, body.population_check)
    against = [ws.layer(a) for a in dict.fromkeys(body.against) if a != body.base_layer]
    if not against:
        raise InvalidInput("choose at least one layer the zoning should fit (e.g. samenwerkingsverband)")
    constraints = Constraints(norm=norm, use_default_norm=False,
                              keep_together=tuple(tuple(g) for g in body.keep_together),
                              fixed=tuple(body.fixed), allow_anchor_moves=body.allow_anchor_moves)
    result = suggest(edited, against, constraints, max_moves=body.max_moves, time_budget=body.time_budget_seconds,
                     seed=body.seed)
    out = result.as_dict()
    out.pop("comparison", None)  # the page evaluates accepted moves itself
    out["base_layer"] = body.base_layer
    return out
