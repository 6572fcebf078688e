"""Ensembles of valid zonings and whole proposed zonings, as jobs (issue 28).

``POST /api/v1/ensembles`` checks the rules at once (422 in Dutch naming the rule no plan can
meet) and queues the run: 202 with the job's ``id`` (200 when the same inputs were computed
before: the stored result is served, not recomputed). ``GET`` follows its ``status`` and
``progress``; once done it carries per measure the distribution with the base layer's and any
given scenario's percentile. Plans page through ``/plans``; one plan is saved as a scenario
with ``POST .../plans/{n}/scenario``. ``POST /api/v1/proposals`` does the same for whole
zonings proposed for an objective.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api import serialize_jobs
from api.deps import get_workspace, require_writer
from api.downloads import download
from api.jobs import runner_for
from geo.jobs import ensembles as jobs
from geo.jobs.records import JobRecord
from geo.storage.workspace import Workspace
from maps.exports import CSV, EXCEL, XLSX, csv_bytes, xlsx_bytes

router = APIRouter(tags=["ensembles"])
MAX_PAGE = 100


class RulesIn(BaseModel):
    """The rules every plan meets, shared by ensembles and proposals."""

    model_config = ConfigDict(extra="forbid")  # an unknown field is a 422 naming it
    base_layer: str = Field(..., min_length=1, max_length=100, examples=["eerstelijnszone"],
                            description="Layer (or scenario:<id>) whose zoning is varied; it is also the start")
    nest_in: str | None = Field(None, max_length=100, description="Each zone lies inside one zone of this layer "
                                "(default: the reference regions); '' for no nesting")
    zones: int | Literal["today"] = Field("today", description="'today': today's number of zones per nesting zone; "
                                          "a number: that many zones in total")
    lower: float | None = Field(None, ge=0, description="Fewest inhabitants per zone (default: the layer's norm)")
    upper: float | None = Field(None, ge=0, description="Most inhabitants per zone (default: the layer's norm)")
    fixed: list[int] = Field(default_factory=list, max_length=400,
                             description="NIS codes of municipalities that never move (Brussels never moves)")
    together: list[list[int]] = Field(default_factory=list, max_length=100,
                                      description="Groups of NIS codes that stay in one zone")
    seed: int = Field(0, ge=0, le=2**31 - 1)
    population_year: int | None = Field(None, ge=1990, le=2100)


class EnsembleIn(RulesIn):
    plans: int = Field(1000, ge=1, description="Plans kept over all chains (capped; the cap is in the error)")
    chains: int = Field(4, ge=1, description="Independent Markov chains (capped)")


class ProposalIn(RulesIn):
    objective: Literal["crossings", "outside", "closest"] = Field(
        "crossings", description="'crossings': fewest associations crossing a line; 'outside': fewest inhabitants "
                                 "outside their association's dominant zone; 'closest': closest to today")
    n: int = Field(3, ge=1, le=10, description="How many proposals")


class SaveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200, description="Name of the scenario")
    description: str = Field("", max_length=5000)


def _accepted(job: JobRecord, new: bool, response: Response, path: str) -> dict:
    response.status_code = status.HTTP_200_OK if job.status == "done" else status.HTTP_202_ACCEPTED
    response.headers["Location"] = f"{path}/{job.id}"
    return {**serialize_jobs.job(job), "new": new}


def _rules(body: RulesIn) -> dict:
    return body.model_dump(exclude={"plans", "chains", "objective", "n"})


def job_writes(kind: str, base: str, result_path: str, save: Callable[..., tuple[Any, bool]], result: str,
               cancel_summary: str, names: tuple[str, str]) -> Callable[..., dict]:
    """The two writes every job kind has, registered once for each: save result ``n`` as a
    scenario (``POST {base}/{job_id}/{result_path}/scenario``: 201, or 200 with the scenario
    saved before) and cancel (``POST {base}/{job_id}/cancel``: the job; a finished one stays as
    it is). ``save`` is :func:`geo.jobs.ensembles.save_plan` or ``save_proposal``; ``names``
    the routes' names (their OpenAPI operation ids). Returns the cancel function."""

    def save_result(job_id: str, response: Response, n: int = Path(..., ge=0), body: SaveIn | None = None,
                    ws: Workspace = Depends(get_workspace)) -> dict:
        body = body or SaveIn()
        record, new = save(ws, jobs.job_of(ws, job_id, kind), n, body.name, body.description)
        response.status_code = status.HTTP_201_CREATED if new else status.HTTP_200_OK
        return serialize_jobs.saved(record, new)

    def cancel(job_id: str, ws: Workspace = Depends(get_workspace)) -> dict:
        jobs.job_of(ws, job_id, kind)
        return serialize_jobs.job(runner_for(ws).cancel(job_id))

    router.add_api_route(f"{base}/{{job_id}}/{result_path}/scenario", save_result, methods=["POST"],
                         status_code=status.HTTP_201_CREATED, dependencies=[Depends(require_writer)],
                         summary=f"Save one {result} as a scenario", name=names[0],
                         responses={200: {"description": f"This {result} was saved before: that scenario"}})
    router.add_api_route(f"{base}/{{job_id}}/cancel", cancel, methods=["POST"], dependencies=[Depends(require_writer)],
                         summary=cancel_summary, name=names[1])
    return cancel


# -- ensembles ------------------------------------------------------------------------------------
@router.post("/api/v1/ensembles", status_code=status.HTTP_202_ACCEPTED, dependencies=[Depends(require_writer)],
             summary="Start an ensemble of valid zonings (a job)",
             responses={200: {"description": "The same inputs were computed before: the job, done"}})
async def start_ensemble(body: EnsembleIn, response: Response, ws: Workspace = Depends(get_workspace)) -> dict:
    """Impossible rules are a 422 at once, in Dutch, naming the rule."""
    spec = jobs.spec_of({**_rules(body), "plans": body.plans, "chains": body.chains})
    job, new = await run_in_threadpool(jobs.submit_ensemble, ws, spec)
    runner_for(ws).wake()
    return _accepted(job, new, response, "/api/v1/ensembles")


@router.get("/api/v1/ensembles/{job_id}", summary="Status, progress and (when done) the distributions")
def get_ensemble(job_id: str, scenarios: list[str] = Query([], max_length=10, description="Layers or "
                 "scenario:<id> to place in every distribution (their percentile)"),
                 ws: Workspace = Depends(get_workspace)) -> dict:
    job = jobs.job_of(ws, job_id, jobs.ENSEMBLE)
    body = serialize_jobs.job(job)
    if job.status == "done":
        body["summary"] = jobs.summary_of(ws, job, scenarios)
    return body


@router.get("/api/v1/ensembles/{job_id}/plans", summary="Plans as municipality (NIS code) to zone code")
def get_plans(job_id: str, limit: int = Query(10, ge=1, le=MAX_PAGE), offset: int = Query(0, ge=0),
              ws: Workspace = Depends(get_workspace)) -> dict:
    return jobs.plans_page(ws, jobs.job_of(ws, job_id, jobs.ENSEMBLE), offset, limit)


@router.get("/api/v1/ensembles/{job_id}/export", summary="Every plan's measures as CSV (Excel) or XLSX",
            response_class=Response, responses={200: {"content": {CSV: {}, XLSX: {}}}})
def export_plans(job_id: str, format: Literal["csv", "xlsx"] = Query("csv"),
                 ws: Workspace = Depends(get_workspace)) -> Response:
    """One row per plan, one column per measure, Dutch headers; CSV in the Excel dialect (';',
    decimal comma, BOM)."""
    job = jobs.job_of(ws, job_id, jobs.ENSEMBLE)
    frame, notes = jobs.plan_table(ws, job)
    stem = f"alternatieven_{job.subject}_{job.id}"
    if format == "csv":
        return download(csv_bytes(frame, EXCEL), f"{stem}.csv", CSV)
    return download(xlsx_bytes({"indelingen": frame}, notes), f"{stem}.xlsx", XLSX)


cancel_ensemble = job_writes(jobs.ENSEMBLE, "/api/v1/ensembles", "plans/{n}", jobs.save_plan, "plan",
                             "Cancel a queued or running ensemble (a finished one stays as it is)",
                             ("save_plan", "cancel_ensemble"))


@router.delete("/api/v1/ensembles/{job_id}", dependencies=[Depends(require_writer)],
               summary="Cancel a queued or running ensemble (same as POST .../cancel)")
def delete_ensemble(job_id: str, ws: Workspace = Depends(get_workspace)) -> dict:
    return cancel_ensemble(job_id, ws)


# -- proposals ------------------------------------------------------------------------------------
@router.post("/api/v1/proposals", status_code=status.HTTP_202_ACCEPTED, dependencies=[Depends(require_writer)],
             summary="Propose whole zonings for an objective (a job)",
             responses={200: {"description": "The same inputs were computed before: the job, done"}})
async def start_proposals(body: ProposalIn, response: Response, ws: Workspace = Depends(get_workspace)) -> dict:
    spec = jobs.spec_of(_rules(body))
    job, new = await run_in_threadpool(jobs.submit_proposals, ws, spec, body.objective, body.n)
    runner_for(ws).wake()
    return _accepted(job, new, response, "/api/v1/proposals")


@router.get("/api/v1/proposals/{job_id}", summary="Status, progress and (when done) the proposals explained")
def get_proposals(job_id: str, ws: Workspace = Depends(get_workspace)) -> dict:
    job = jobs.job_of(ws, job_id, jobs.PROPOSAL)
    body = serialize_jobs.job(job)
    if job.status == "done":
        body["proposals"] = jobs.proposals_of(ws, job)
    return body


cancel_proposals = job_writes(jobs.PROPOSAL, "/api/v1/proposals", "{n}", jobs.save_proposal, "proposal",
                              "Cancel a queued or running proposal search", ("save_proposal", "cancel_proposals"))
