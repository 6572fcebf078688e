"""Scenarios: alternative zonings of an existing layer, saved in the database."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field

from api import serialize
from api.deps import get_workspace, require_writer
from geo.accounts.roles import Actor
from geo.engine.scenario import Move, check_moves, moved
from geo.errors import Conflict
from geo.storage.records import ScenarioRecord
from geo.storage.workspace import Workspace

router = APIRouter(prefix="/api/v1/scenarios", tags=["scenarios"])
# A PATCH without a version retries this often when other writers keep getting in first.
PATCH_ATTEMPTS = 20


class MoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an unknown field is a 422 naming it
    nis_code: int = Field(..., ge=10000, le=99999, description="2025 NIS code of the municipality to move")
    to_zone: str = Field(..., min_length=1, max_length=100, description="Code of an existing zone of the base layer")


class ScenarioIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an unknown field is a 422 naming it
    name: str = Field(..., min_length=1, max_length=200)
    base_layer: str = Field(..., min_length=1, max_length=100, examples=["eerstelijnszone"])
    moves: list[MoveIn] = Field(default_factory=list, max_length=1000)
    description: str = Field("", max_length=5000)


class ScenarioPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an unknown field is a 422 naming it
    add_moves: list[MoveIn] = Field(default_factory=list, max_length=1000,
                                    description="Moves to add "
                                                "(a later move of a municipality replaces its earlier one)")
    undo: list[int] = Field(default_factory=list, max_length=1000,
                            description="NIS codes whose moves are taken back")
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    version: int | None = Field(None, ge=1, description="The version you edited; a stale one is refused with 409")


def _body(record: ScenarioRecord, ws: Workspace) -> dict:
    base = ws.layer(record.base_layer)
    layer = ws.layer(record.layer_id)
    return {
        "id": record.id,
        "layer_id": record.layer_id,
        "name": record.name,
        "base_layer": record.base_layer,
        "description": record.description,
        "moves": record.moves,
        "moved": moved(base, layer),
        "version": record.version,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "owner": record.owner,
        "zones": serialize.layer_zones(layer)["zones"],
        "population_year": base.atoms.population_year,
    }


def _checked(ws: Workspace, base_layer: str, moves: list[MoveIn]) -> list[dict]:
    base = ws.layer(base_layer)
    checked = check_moves(base, [Move(m.nis_code, m.to_zone) for m in moves])
    return [{"nis_code": m.nis_code, "to_zone": m.to_zone} for m in checked]


@router.post("", status_code=status.HTTP_201_CREATED, summary="Save a scenario (owned by who saves it)")
def create_scenario(body: ScenarioIn, ws: Workspace = Depends(get_workspace),
                    actor: Actor = Depends(require_writer)) -> dict:
    moves = _checked(ws, body.base_layer, body.moves)
    record = ws.store.create_scenario(body.name, body.base_layer, moves, body.description, actor=actor)
    return _body(record, ws)


@router.get("", summary="All saved scenarios")
def list_scenarios(ws: Workspace = Depends(get_workspace)) -> list[dict]:
    return [{"id": r.id, "layer_id": r.layer_id, "name": r.name, "base_layer": r.base_layer,
             "description": r.description, "moves": len(r.moves), "version": r.version,
             "updated_at": r.updated_at.isoformat(), "owner": r.owner} for r in ws.store.list_scenarios()]


@router.get("/{scenario_id}", summary="A saved scenario with its zones")
def get_scenario(scenario_id: str, ws: Workspace = Depends(get_workspace)) -> dict:
    return _body(ws.store.get_scenario(scenario_id), ws)


@router.patch("/{scenario_id}", summary="Add or undo moves (a bijdrager: only in its own scenarios)")
def patch_scenario(scenario_id: str, body: ScenarioPatch, ws: Workspace = Depends(get_workspace),
                   actor: Actor = Depends(require_writer)) -> dict:
    """With ``version``, a scenario changed since that version is a 409. Without it the change
    is applied to the current scenario: if another writer saves between our read and our write,
    the change is applied again to what they saved, so no acknowledged move is ever lost."""
    attempt = 0
    while True:
        attempt += 1
        record = ws.store.get_scenario(scenario_id)
        moves = None
        if body.add_moves or body.undo:
            undo = set(body.undo)
            kept = [MoveIn(**m) for m in record.moves if int(m["nis_code"]) not in undo]
            moves = _checked(ws, record.base_layer, kept + list(body.add_moves))
        # Compare-and-set on the version the moves were computed from (or the client's version).
        expected = body.version if body.version is not None else record.version
        try:
            updated = ws.store.update_scenario(scenario_id, expected_version=expected, moves=moves, name=body.name,
                                               description=body.description, actor=actor)
        except Conflict:
            if body.version is not None or attempt >= PATCH_ATTEMPTS:
                raise
            continue
        return _body(updated, ws)


@router.delete("/{scenario_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Delete a scenario (a bijdrager: only its own)")
def delete_scenario(scenario_id: str, ws: Workspace = Depends(get_workspace),
                    actor: Actor = Depends(require_writer)) -> None:
    ws.store.delete_scenario(scenario_id, actor=actor)


