"""The "Alternatieven" pages (HTML, Dutch): set the rules and start an ensemble, follow it, read
its results, ask for whole proposals and open them in the workbench.

``/alternatieven?layer=<layer or scenario:<id>>`` (the form), ``/alternatieven/{id}`` (an ensemble:
progress, then results; ``?scenario=`` places saved scenarios in every histogram),
``/alternatieven/voorstellen/{id}`` (proposals). The JSON they use is in
:mod:`api.routes.ensembles`.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import get_workspace
from api.jobs import runner_for
from api.routes.workbench import NO_STORE, _writer
from api.settings import Settings, get_settings
from geo.jobs import ensembles as jobs
from geo.jobs.records import STATUS_WORDS
from geo.reference.norms import norm_for
from geo.storage.workspace import Workspace
from maps.alternatives_pages import (
    job_context,
    proposal_rows,
    render_ensemble,
    render_form,
    render_proposals,
    results_context,
)

router = APIRouter(tags=["alternatives"])
DEFAULT_LAYER = "eerstelijnszone"  # the default: the primary care zones
BEST_PLANS = 5


def _layer_choices(ws: Workspace) -> list[dict]:
    """Layers that group whole municipalities (the ones an ensemble can vary)."""
    from geo.reference.roles import association_layer

    skip = {"gemeente", association_layer()}
    return [{"id": layer.id, "name": layer.name} for layer in ws.layers()
            if layer.kind == "municipal" and layer.id not in skip]


def _page_data(request: Request, settings: Settings, **extra: object) -> dict:
    return {"writer": _writer(request, settings), "status_words": STATUS_WORDS, **extra}


@router.get("/alternatieven", response_class=HTMLResponse, summary="Alternative zonings: set the rules, start (HTML)")
def alternatives_page(request: Request, layer: str = Query(DEFAULT_LAYER, max_length=100,
                                                           description="Layer or scenario:<id> to vary"),
                      ws: Workspace = Depends(get_workspace),
                      settings: Settings = Depends(get_settings)) -> HTMLResponse:
    base = ws.layer(layer)
    norm = norm_for(base, ws.base_id_of(layer))
    choices = _layer_choices(ws)
    if layer not in {c["id"] for c in choices}:
        choices.insert(0, {"id": layer, "name": base.name})
    scenarios = [{"id": r.layer_id, "name": r.name, "base": r.base_layer} for r in ws.store.list_scenarios()]
    nests = [c for c in choices if c["id"] != layer]
    recent = [job_context(j) for j in ws.store.jobs.list(jobs.ENSEMBLE, 50) if j.subject == layer][:10]
    # A scenario is also placed at once among the plans of its base layer's latest run.
    base_id = ws.base_id_of(layer)
    placed = None
    if base_id and base_id != layer:
        latest = ws.store.jobs.latest(jobs.ENSEMBLE, base_id)
        if latest is not None:
            placed = {"job": job_context(latest), "base_name": ws.layer(base_id).name}
    return HTMLResponse(render_form(
        layer=base, layer_id=layer, choices=choices, nests=nests, scenarios=scenarios, recent=recent, placed=placed,
        norm=norm, default_nest=jobs.default_nest_id(), population_year=ws.catalog.atoms.population_year,
        data=_page_data(request, settings)), headers=NO_STORE)


@router.get("/alternatieven/{job_id}", response_class=HTMLResponse,
            summary="An ensemble: progress, then results (HTML)")
def ensemble_page(job_id: str, request: Request,
                  scenario: list[str] = Query([], max_length=10, description="Scenarios to place in the histograms"),
                  ws: Workspace = Depends(get_workspace), settings: Settings = Depends(get_settings)) -> HTMLResponse:
    job = jobs.job_of(ws, job_id, jobs.ENSEMBLE)
    if job.pending:
        runner_for(ws)  # a page open after a restart sees its job picked up
    problem = jobs.problem_of(ws, job)
    context: dict = {"job": job_context(job), "problem": problem, "rules": jobs.rules_text(problem),
                     "chosen": list(scenario), "results": None}
    if job.status == "done":
        names = {k: label for k, (label, _) in jobs.scenario_layers(ws, scenario).items()}
        summary = jobs.summary_of(ws, job, scenario)
        context["results"] = results_context(summary, names)
        context["best"] = jobs.best_plans(ws, job, BEST_PLANS)
        context["scenarios"] = [{"id": r.layer_id, "name": r.name} for r in ws.store.list_scenarios()
                                if r.base_layer == problem.base_layer_id]
        context["objectives"] = jobs.OBJECTIVES
    data = _page_data(request, settings, job={**job.to_dict(), "params": job.params},
                      api=f"/api/v1/ensembles/{job.id}", submit_url="/api/v1/ensembles", rules=job.params)
    return HTMLResponse(render_ensemble(data=data, population_year=problem.population_year, **context),
                        headers=NO_STORE)


@router.get("/alternatieven/voorstellen/{job_id}", response_class=HTMLResponse,
            summary="Whole zonings proposed for an objective (HTML)")
def proposals_page(job_id: str, request: Request, ws: Workspace = Depends(get_workspace),
                   settings: Settings = Depends(get_settings)) -> HTMLResponse:
    job = jobs.job_of(ws, job_id, jobs.PROPOSAL)
    if job.pending:
        runner_for(ws)
    problem = jobs.problem_of(ws, job)
    proposals = jobs.proposals_of(ws, job) if job.status == "done" else []
    ensemble = ws.store.jobs.latest(jobs.ENSEMBLE, problem.base_layer_id)
    data = _page_data(request, settings, job={**job.to_dict(), "params": job.params},
                      api=f"/api/v1/proposals/{job.id}", submit_url="/api/v1/proposals", rules=job.params)
    return HTMLResponse(render_proposals(
        job=job_context(job), problem=problem, rules=jobs.rules_text(problem),
        proposals=proposal_rows(proposals, problem),
        objective=jobs.OBJECTIVES.get(job.params.get("objective"), ""), ensemble=ensemble, data=data,
        population_year=problem.population_year), headers=NO_STORE)

