"""HTML of the "Alternatieven" pages: the rules form, a running or finished ensemble, proposals.

Takes what :mod:`geo.jobs.ensembles` returns (the engine's summary as JSON, the job's state) and
words and draws it: histograms as inline SVG (:mod:`maps.histogram`), numbers via
:mod:`geo.dutch`. It computes nothing new. The pages load one static script,
``/maps/static/alternatives.js`` (no inline JavaScript: the CSP holds).
"""

from __future__ import annotations

from typing import Any

from geo import dutch
from geo.ensemble.measures import SHARE_MEASURES
from geo.jobs.records import STATUS_WORDS, JobRecord
from maps.histogram import Marker, histogram_svg
from maps.workbench_pages import render

# Measures whose values are shares (shown as '37,1 %') or inhabitants ('5.787').
SHARES = SHARE_MEASURES
PEOPLE = {"population_spread", "outside"}


def value_text(measure: str) -> Any:
    """How a value of ``measure`` is written in Dutch.

    Examples
    --------
    >>> value_text("nested_share")(0.371), value_text("outside")(5787.2), value_text("crossing")(3.0)
    ('37,1 %', '5.787', '3')
    """
    if measure in SHARES:
        return lambda v: dutch.percent(v)
    if measure in PEOPLE:
        return lambda v: dutch.number(v)

    def plain(v: float) -> str:
        return dutch.number(v, 0 if float(v).is_integer() else 3)

    return plain


def measure_block(m: dict, scenario_names: dict[str, str]) -> dict:
    """One measure's histogram, with today's value and every scenario marked, and its sentences."""
    text = value_text(m["measure"])
    markers = []
    if m["base"]["value"] is not None:
        markers.append(Marker("vandaag", m["base"]["value"], "base"))
    for key, placement in m.get("scenarios", {}).items():
        if placement["value"] is not None:
            markers.append(Marker(scenario_names.get(key, placement["label"]), placement["value"], "scenario"))
    title = m["label"] if not m.get("association") else f"{m['label']} – {m['association_name'] or m['association']}"
    bins = m["histogram"]["bins"]
    integer = len(bins) > 1 and all(float(b).is_integer() for b in bins) and all(
        b - a == 1 for a, b in zip(bins, bins[1:]))
    histogram = histogram_svg(bins, m["histogram"]["counts"], markers, title=title[:1].upper() + title[1:],
                              value_text=text, integer=integer, share=m["measure"] in SHARES)
    sentences = [m["base"]["sentence"], *(p["sentence"] for p in m.get("scenarios", {}).values())]
    quantiles = m.get("quantiles") or {}
    median = quantiles.get("0.5", quantiles.get("50", quantiles.get("median")))
    return {"measure": m["measure"], "label": m["label"], "association": m.get("association"),
            "association_name": m.get("association_name"), "svg": histogram,
            "sentences": [s for s in sentences if s],
            "today": text(m["base"]["value"]) if m["base"]["value"] is not None else "–",
            "median": text(median) if median is not None else "–",
            "better": dutch.percent(m["base"]["share_better"]) if m["base"]["share_better"] is not None else "–",
            "percentile": dutch.number(m["base"]["percentile"], 0) if m["base"]["percentile"] is not None else "–"}


def results_context(summary: dict, scenario_names: dict[str, str]) -> dict:
    """Everything the results part of an ensemble page (and the report section) shows."""
    layer = [measure_block(m, scenario_names) for m in summary["layer"]]
    by_association: dict[str, dict] = {}
    for m in summary["associations"]:
        entry = by_association.setdefault(m["association"], {"code": m["association"],
                                                             "name": m["association_name"] or m["association"],
                                                             "measures": {}})
        entry["measures"][m["measure"]] = measure_block(m, scenario_names)
    convergence = summary["convergence"]
    return {"layer": layer, "associations": list(by_association.values()), "sentences": summary.get("sentences", []),
            "convergence": {"statement": convergence["statement"], "agree": convergence["agree"],
                            "rates": [dutch.percent(r) for r in convergence["acceptance_rates"]]},
            "plans": dutch.number(summary["plans"]), "chains": summary["chains"],
            "repairs_text": summary.get("repairs_text", ""), "population_year": summary["population_year"]}


def job_context(job: JobRecord) -> dict:
    """A job's state in Dutch."""
    return {"id": job.id, "status": job.status, "status_text": STATUS_WORDS.get(job.status, job.status),
            "progress": job.progress, "progress_text": dutch.percent(job.progress, 0), "pending": job.pending,
            "created": dutch.date(job.created_at.date()),
            "error": _reason(job), "rerunnable": job.status in ("failed", "cancelled", "interrupted"),
            "what": _what(job.params)}


def _reason(job: JobRecord) -> str:
    """Why a job failed, in Dutch: the engine's own words for rules or caps, else a plain note."""
    if job.status != "failed" or not job.error:
        return ""
    if job.error.startswith("internal error: "):
        return "Er ging iets mis in de berekening zelf; dat is gemeld. Probeer het opnieuw."
    return job.error


def _what(params: dict) -> str:
    """'1.000 indelingen, 4 ketens, startwaarde 0' (or the objective of a proposal search)."""
    parts = []
    if "plans" in params:
        parts.append(f"{dutch.number(params['plans'])} indelingen")
    if "chains" in params:
        parts.append(f"{params['chains']} {'keten' if params['chains'] == 1 else 'ketens'}")
    parts.append(f"startwaarde {params.get('seed', 0)}")
    return ", ".join(parts)


def render_form(**context: Any) -> str:
    return render("alternatives.html", **context)


def render_ensemble(**context: Any) -> str:
    return render("alternatives_job.html", **context)


def render_proposals(**context: Any) -> str:
    return render("alternatives_proposals.html", **context)


def proposal_rows(proposals: list[dict], problem: Any) -> list[dict]:
    """Each proposal as the page shows it: explanation, associations healed and harmed (by name),
    municipalities moved (by name, from and to), and the figures."""
    names = dict(zip(problem.measures.codes, problem.measures.names))
    municipalities = {int(n): name for n, name in zip(problem.nis, problem.names)}
    zones = dict(zip(problem.base_zone_codes, problem.base_zone_names))
    rows = []
    for i, p in enumerate(proposals):
        moves = [{"nis_code": m["nis_code"], "name": municipalities.get(int(m["nis_code"]), str(m["nis_code"])),
                  "from": f"{zones.get(m['from_zone'], m['from_zone'] or '–')}",
                  "to": f"{zones.get(m['to_zone'], m['to_zone'])}"} for m in p["moves"]]
        rows.append({"number": i, "explanation": p["explanation"],
                     "healed": [f"{names.get(c, c)} ({c})" for c in p["healed"]],
                     "harmed": [f"{names.get(c, c)} ({c})" for c in p["harmed"]],
                     "moves": moves, "crossing": dutch.number(p["measures"].get("crossing", 0))})
    return rows


# The association's measures a fit report shows from an ensemble, in this order.
REPORT_MEASURES = ("zones_touched", "dominant_share", "outside")


def report_sections(code: str, found: list[tuple[Any, str, dict]]) -> list[dict]:
    """The fit report's section "Hoe ongewoon is de huidige indeling?" for association ``code``:
    one per ``(job, layer name, summary)`` of a finished ensemble, with the association's
    histograms and sentences (none when the ensemble did not measure this association)."""
    sections = []
    for job, layer_name, summary in found:
        measures = {m["measure"]: m for m in summary["associations"] if m["association"] == code}
        blocks = [measure_block(measures[name], {}) for name in REPORT_MEASURES if name in measures]
        if not blocks:
            continue
        sections.append({"job_id": job.id, "layer_id": job.subject, "layer_name": layer_name,
                         "plans": dutch.number(summary["plans"]), "blocks": blocks,
                         "convergence": summary["convergence"]["statement"],
                         "date": dutch.date(job.finished_at.date()) if job.finished_at else ""})
    return sections
