"""Alternative zonings: validate, compare, suggest, share costs, and association history.

Routes (all read-only except ``POST /api/v1/scenarios/suggest`` with ``save: true``):

* ``GET /api/v1/layers/{layer_id}/validation``: assignment, contiguity, population bounds and
  nesting of a layer or ``scenario:<id>`` (a scenario is checked against its base layer).
* ``GET /api/v1/compare?base=..&other=..&against=..``: what moved and how every overlay measure
  changed against each chosen layer (associations first).
* ``POST /api/v1/scenarios/suggest``: proposed moves that improve the fit with the associations
  within population, contiguity and keep-together constraints (optionally saved as a scenario).
* ``GET /api/v1/zones/{layer}/{code}/cost-share?amount=..``: each member's share of an amount
  (to the cent) and its board seats.
* ``GET /api/v1/associations?as_of=YYYY-MM-DD``: the associations and their members on a date.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import get_workspace, require_writer
from api.downloads import download
from api.limits import heavy, unique_list
from api.render_cache import cached
from api.settings import Settings, get_settings
from geo.engine.layer import Layer, with_population
from geo.errors import InvalidInput
from geo.reference.history import members_as_of
from geo.reference.roles import association_layer
from geo.storage.workspace import Workspace
from geo.usecases.norms import requested_norm
from geo.views.costshare import SeatRule, cost_share, per_inhabitant
from geo.zoning.compare import compare
from geo.zoning.suggest import DEFAULT_MAX_MOVES, DEFAULT_TIME_BUDGET, Constraints, suggest
from geo.zoning.validation import validate
from maps.exports import CSV, csv_bytes

router = APIRouter(prefix="/api/v1", tags=["zonings"])

ASSOCIATIONS = association_layer()  # the layer with role "associations" in data/layers.json
MAX_API_TIME_BUDGET = 30.0


# Routes with ``format=csv`` say so in the OpenAPI schema (the fuzz tests hold responses to it).
CSV_OR_JSON = {200: {"description": "JSON, or CSV with ``format=csv``",
                     "content": {"application/json": {}, "text/csv": {"schema": {"type": "string"}}}}}


def _csv(frame, filename: str) -> Response:
    return download(csv_bytes(frame), filename, CSV)


# -- validation --------------------------------------------------------------------------------
@router.get("/layers/{layer_id}/validation", summary="Validate a layer or scenario", responses=CSV_OR_JSON)
@cached(lambda p: [p["layer_id"], *([p["base"]] if p["base"] else []), *p["nest_in"]])
def get_validation(
    layer_id: str,
    min_population: int | None = Query(None, ge=0, description="Lower bound per zone (default: the layer's norm)"),
    max_population: int | None = Query(None, ge=0, description="Upper bound per zone (default: the layer's norm)"),
    population_check: bool = Query(True, description="false skips the population bounds"),
    nest_in: list[str] = Query([], description="Higher layer(s) each zone should lie inside, e.g. referentieregio"),
    base: str | None = Query(None, description="Base layer for inherited pieces (default for scenario:<id>: its base)"),
    territory: Literal["auto", "flanders", "flanders_brussels"] = Query(
        "auto",
        description="Municipalities that must be assigned exactly once; auto adds Brussels when the layer covers it"),
    format: Literal["json", "csv"] = Query("json"),
    ws: Workspace = Depends(get_workspace),
):
    """Every municipality of the territory once; each zone one connected piece (named exclaves
    such as Voeren and pieces the base layer already had are reported, not errors); zones
    within the population bounds (Brussels-only zones are not judged); each zone inside one zone
    of every ``nest_in`` layer. Population: Statbel, 1 January of ``population_year``."""
    layer = ws.layer(layer_id)
    base_layer = ws.layer(base) if base else ws.base_of(layer_id)
    norm = requested_norm(ws, layer_id, min_population, max_population, population_check,
                          base_id=base_layer.id if base_layer is not None else None)
    higher = [ws.layer(p) for p in unique_list(nest_in, "nest_in", 10)]  # repeats cost nothing twice
    report = validate(layer, base=base_layer, norm=norm, nest_in=higher, territory=territory)
    if format == "csv":
        return _csv(report.rows(), f"validation_{layer.id}.csv")
    return report.as_dict()


# -- comparison --------------------------------------------------------------------------------
@router.get("/compare", summary="Compare two zonings", responses=CSV_OR_JSON)
@cached(lambda p: [p["base"], p["other"], *p["against"]])
def get_compare(
    base: str = Query(..., description="Layer id or scenario:<id> (e.g. today's eerstelijnszone)"),
    other: str = Query(..., description="Layer id or scenario:<id> compared with base"),
    against: list[str] = Query([ASSOCIATIONS], description="Layers to measure the fit with (associations first)"),
    weight: Literal["population", "area"] = Query("population"),
    min_population: int | None = Query(None, ge=0, description="Norm reported per zone (default: the base layer's)"),
    max_population: int | None = Query(None, ge=0),
    format: Literal["json", "csv"] = Query("json"),
    ws: Workspace = Depends(get_workspace),
):
    """Moved municipalities, every overlay measure before/after/change per chosen layer, the
    zones of the chosen layers whose fit changed, and the zones whose population changed with
    the norm lines they crossed. ``format=csv`` gives it all as one long table."""
    base_layer, other_layer = ws.layer(base), ws.layer(other)
    norm = requested_norm(ws, base, min_population, max_population)
    layers = [ws.layer(a) for a in unique_list(against, "against", 20)]
    result = compare(base_layer, other_layer, layers, weight, norm=norm)
    if format == "csv":
        return _csv(result.rows(), f"compare_{base}_{other}.csv")
    body = result.as_dict()
    body["base"], body["other"] = base, other
    return body


# -- suggestion --------------------------------------------------------------------------------
class SuggestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field ('time_budget_s') is a 422, not ignored
    base_layer: str = Field(..., min_length=1, max_length=100, examples=["eerstelijnszone"])
    against: list[str] = Field([ASSOCIATIONS], min_length=1, max_length=20,
                               description="Layers the zoning should fit, associations first")
    weights: dict[str, float] = Field(default_factory=dict,
                                      description="Weight per layer id in the objective (default 1)")
    min_population: int | None = Field(None, ge=0, description="Lower bound per zone (default: the layer's norm)")
    max_population: int | None = Field(None, ge=0, description="Upper bound per zone")
    population_check: bool = Field(True, description="false: no population bounds at all")
    contiguity: bool = True
    keep_together: list[list[int]] = Field(default_factory=list, max_length=100,
                                           description="Groups of NIS codes that must stay in one zone")
    fixed: list[int] = Field(default_factory=list, max_length=400, description="NIS codes that must not move")
    allow_anchor_moves: bool = Field(False, description="true: a zone's anchor (the municipality it is named after, "
                                     "else its largest) may move too")
    max_moves: int = Field(DEFAULT_MAX_MOVES, ge=0, le=200)
    time_budget_seconds: float = Field(DEFAULT_TIME_BUDGET, gt=0, le=MAX_API_TIME_BUDGET)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    save: bool = Field(False, description="Save the suggestion as a scenario (needs the write token)")
    name: str | None = Field(None, min_length=1, max_length=200, description="Name of the saved scenario")
    description: str = Field("", max_length=5000)


@router.post("/scenarios/suggest", summary="Suggest moves that fit the associations better",
             dependencies=[Depends(heavy("suggest", "{limit} suggestions are being computed already; try again "
                                                    "in a few seconds"))])
def post_suggest(body: SuggestIn, request: Request, ws: Workspace = Depends(get_workspace),
                 settings: Settings = Depends(get_settings)) -> dict:
    """Steepest-descent local search on the municipal adjacency graph: each step moves one
    municipality (or a keep-together group) to a neighbouring zone, choosing the move that most
    reduces the inhabitants on the wrong side of an association boundary, and never breaking a
    constraint. Deterministic for a given ``seed`` unless ``stopped`` is ``time_budget``. Every
    step has a Dutch ``explanation`` and its effect per layer; ``comparison`` is the full
    before/after comparison; ``moves`` can be posted as a scenario as they are."""
    actor = require_writer(request, settings) if body.save else None
    base = ws.layer(body.base_layer)
    norm = requested_norm(ws, body.base_layer, body.min_population, body.max_population, body.population_check)
    constraints = Constraints(norm=norm, use_default_norm=False, contiguity=body.contiguity,
                              keep_together=tuple(tuple(g) for g in body.keep_together), fixed=tuple(body.fixed),
                              allow_anchor_moves=body.allow_anchor_moves)
    targets = [ws.layer(a) for a in unique_list(body.against, "against", 20)]
    result = suggest(base, targets, constraints, weights=body.weights,
                     max_moves=body.max_moves, time_budget=body.time_budget_seconds, seed=body.seed)
    out = result.as_dict()
    out["base_layer"] = body.base_layer
    out["scenario"] = None
    if body.save:
        if not result.net_moves:
            raise InvalidInput("the suggestion has no moves; nothing to save as a scenario")
        record = ws.store.create_scenario(body.name or f"Suggestie voor {base.name} (seed {body.seed})",
                                          body.base_layer, out["moves"],
                                          body.description or "; ".join(s["explanation"] for s in out["steps"]),
                                          actor=actor)
        out["scenario"] = {"id": record.id, "layer_id": record.layer_id, "name": record.name, "version": record.version}
    return out


# -- cost share --------------------------------------------------------------------------------
@router.get("/zones/{layer_id}/{code:path}/cost-share",
            summary="Split an amount and allocate seats over a zone's members", responses=CSV_OR_JSON)
def get_cost_share(
    layer_id: str,
    code: str,
    amount: str | None = Query(None, description="Euro to split (at most 2 decimals)", examples=["250000"]),
    per_inhabitant: str | None = Query(None, description="Instead of amount: euro per inhabitant (W13: 1)"),
    weight: Literal["population", "area", "equal"] = Query("population",
                                                           description="Key for the part above the fixed parts"),
    fixed_per_member: str = Query("0", description="Euro every member pays first"),
    seat_base: int = Query(1, ge=0, le=100, description="Seats every member gets"),
    seat_threshold: list[int] = Query([20_000],
                                      description="Population above which a member gets extra seats (repeatable)"),
    seat_extra: int = Query(1, ge=0, le=100, description="Extra seats per threshold exceeded"),
    format: Literal["json", "csv"] = Query("json"),
    ws: Workspace = Depends(get_workspace),
):
    """Each member's fixed part, proportional part (largest remainder: the shares add up to the
    amount to the cent) and board seats (``seat_base`` plus ``seat_extra`` per threshold the
    population is strictly above). Members in the zone only in part count with that share.
    Population: Statbel, 1 January of ``population_year``."""
    layer = ws.layer(layer_id)
    layer.zone_position(code)
    if (amount is None) == (per_inhabitant is None):
        raise InvalidInput("give either amount (euro) or per_inhabitant (euro per inhabitant), not both or neither")
    total = amount if amount is not None else per_inhabitant_amount(layer, code, per_inhabitant)
    rule = SeatRule(base=seat_base, thresholds=tuple(seat_threshold), extra=seat_extra)
    share = cost_share(layer, code, total, weight=weight, fixed_per_member=fixed_per_member, seat_rule=rule)
    if format == "csv":
        return _csv(share.rows(), f"cost-share_{layer.id}_{code}.csv")
    return share.as_dict()


def per_inhabitant_amount(layer: Layer, code: str, rate: str | None) -> str:
    return str(per_inhabitant(layer, code, rate))


# -- history -----------------------------------------------------------------------------------
@router.get("/associations", summary="Cooperation associations and their members on a date", responses=CSV_OR_JSON)
def get_associations(
    as_of: date | None = Query(None, description="YYYY-MM-DD; default: the date the service counts the "
                                                          "association layer on (REGIOMATCH_AS_OF, else today)"),
    code: str | None = Query(None, description="Only this association, e.g. ISOM or NETELAND"),
    format: Literal["json", "csv"] = Query("json"),
    ws: Workspace = Depends(get_workspace),
):
    """The associations valid on ``as_of``, from the dated membership history
    (``data/association_history.csv``), with members carried to the 2025 municipalities through
    the merger crosswalk (``source_nis_code`` is the code in the source). A membership whose
    start is unknown counts from the date the register attests it (``registered_on``); before
    that, or without such a date, it is listed with ``status: "onbekend"`` and not counted
    (``member_count`` and ``population`` count the ``"geldig"`` ones only). ISOM
    (until 2018-12-31) and Neteland (from 2019-01-01, without Lille and Kasterlee) show how an
    association changed. This is the one dated view; ``/api/v1/layers/samenwerkingsverband`` is
    the published snapshot used in overlays."""
    day = as_of or ws.catalog.as_of or date.today()
    members = with_population(members_as_of(ws.catalog, day, code, include_unknown=True), ws.catalog.atoms)
    associations = []
    for zone_code, rows in members.groupby("zone_code", sort=True):
        listed = [{
            "nis_code": int(r.nis_code), "municipality": r.municipality, "share": round(float(r.share), 6),
            "source_nis_code": int(r.source_nis_code), "valid_from": r.valid_from, "valid_to": r.valid_to,
            "start_known": bool(r.start_known), "registered_on": r.registered_on, "status": r.status,
            "population": int(round(r.population)),
        } for r in rows.itertuples()]
        counted = [m for m in listed if m["status"] == "geldig"]
        associations.append({"code": zone_code, "name": str(rows["zone_name"].iloc[0]),
                             "members": listed, "member_count": len(counted),
                             "unknown_count": len(listed) - len(counted),
                             "population": sum(m["population"] for m in counted),
                             "note": str(rows["note"].iloc[0])})
    if format == "csv":
        frame = members.drop(columns="population").assign(as_of=day.isoformat(),
                                                          population_year=ws.catalog.atoms.population_year)
        return _csv(frame, f"associations_{day.isoformat()}.csv")
    return {"as_of": day.isoformat(), "population_year": ws.catalog.atoms.population_year,
            "associations": associations}
