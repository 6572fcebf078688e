"""Every route the app serves, each with example requests, so the page benchmark measures them all.

:func:`app_routes` walks ``app.routes`` (included routers too); :func:`requests_for` gives each
route's examples from :data:`EXAMPLES` and fails loudly, naming them, for routes that have none:
a new page is measured as soon as it gets an example, and cannot be forgotten. Writes and uploads
that the benchmark does not repeat are listed in :data:`NOT_TIMED` with the reason.

``{scenario}`` in an example is the id of a scenario the benchmark saves first (34025 and 34041
moved to ``elz18`` on ``eerstelijnszone``).

Examples
--------
>>> from api.main import app  # doctest: +SKIP
>>> [r.label for r in requests_for(app, "abc123")][:2]  # doctest: +SKIP
['GET /openapi.json', 'GET /health']
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

PAIR = "a=samenwerkingsverband&b=eerstelijnszone"
SCENARIO_PAIR = "base=eerstelijnszone&other=scenario:{scenario}"
ONE_MOVE = [{"nis_code": 34025, "to_zone": "elz18"}]
FIFTY = "50 moves"  # replaced by benchmarks.bench_evaluate.moves(50) when sent
EVALUATE = {"base_layer": "eerstelijnszone", "against": ["samenwerkingsverband"], "nest_in": "referentieregio"}


@dataclass(frozen=True)
class Example:
    """One request: method, path with query, optional JSON body, the status it should answer."""

    method: str
    path: str
    body: dict | None = None
    status: int = 200
    note: str = ""

    def filled(self, scenario: str) -> "Example":
        return Example(self.method, self.path.replace("{scenario}", scenario), self.body, self.status, self.note)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}" + (f" ({self.note})" if self.method != "GET" and self.note else "")


def _get(*paths: str, status: int = 200, note: str = "") -> list[Example]:
    return [Example("GET", p, status=status, note=note) for p in paths]


# (method, route path as the app declares it) -> examples
EXAMPLES: dict[tuple[str, str], list[Example]] = {
    ("GET", "/openapi.json"): _get("/openapi.json"),
    ("GET", "/docs"): _get("/docs"),
    ("GET", "/health"): _get("/health"),
    ("GET", "/api/v1/layers"): _get("/api/v1/layers"),
    ("GET", "/api/v1/layers/{layer_id}"): _get("/api/v1/layers/eerstelijnszone"),
    ("GET", "/api/v1/layers/{layer_id}/members"): _get("/api/v1/layers/eerstelijnszone/members"),
    ("GET", "/api/v1/layers/{layer_id}/zones/{code:path}"): _get("/api/v1/layers/eerstelijnszone/zones/elz40"),
    ("GET", "/api/v1/layers/{layer_id}/geopackage"): _get("/api/v1/layers/eerstelijnszone/geopackage"),
    ("GET", "/api/v1/layers/{layer_id}/geojson"): _get("/api/v1/layers/eerstelijnszone/geojson"),
    ("GET", "/api/v1/overlay"): _get(f"/api/v1/overlay?{PAIR}", "/api/v1/overlay?a=gemeente&b=politiezone",
                                     f"/api/v1/overlay?{PAIR}&format=csv"),
    ("GET", "/api/v1/municipalities"): _get("/api/v1/municipalities?q=Lendel"),
    ("GET", "/api/v1/municipalities/{nis_code}"): _get("/api/v1/municipalities/34025"),
    ("GET", "/api/v1/layers/{layer_id}/validation"): _get("/api/v1/layers/eerstelijnszone/validation",
                                                          "/api/v1/layers/scenario:{scenario}/validation"),
    ("GET", "/api/v1/compare"): _get(f"/api/v1/compare?{SCENARIO_PAIR}"),
    ("GET", "/api/v1/zones/{layer_id}/{code:path}/cost-share"): _get(
        "/api/v1/zones/samenwerkingsverband/W13/cost-share?amount=250000"),
    ("GET", "/api/v1/associations"): _get("/api/v1/associations"),
    ("GET", "/api/v1/scenarios"): _get("/api/v1/scenarios"),
    ("GET", "/api/v1/scenarios/{scenario_id}"): _get("/api/v1/scenarios/{scenario}"),
    ("GET", "/"): _get("/"),
    ("GET", "/search"): [*_get("/search?q=elz"),
                         *_get("/search?q=Lendelede", status=303, note="one match: a redirect")],
    ("GET", "/municipalities/{nis_code}"): _get("/municipalities/34025"),
    ("GET", "/overlay"): _get(f"/overlay?{PAIR}"),
    ("GET", "/overlay.xlsx"): _get(f"/overlay.xlsx?{PAIR}", "/overlay.xlsx?a=gemeente&b=politiezone"),
    ("GET", "/layers/{layer_id}/leden.csv"): _get("/layers/eerstelijnszone/leden.csv"),
    ("GET", "/overlay.csv"): _get(f"/overlay.csv?{PAIR}"),
    ("GET", "/reports/{layer}/{code:path}"): _get(
        "/reports/samenwerkingsverband/W13", "/reports/samenwerkingsverband/W13?format=pdf",
        "/reports/eerstelijnszone/elz18", "/reports/eerstelijnszone/elz18?format=pdf"),
    ("GET", "/api/v1/geometry/municipalities.geojson"): _get("/api/v1/geometry/municipalities.geojson"),
    ("GET", "/api/v1/geometry/layers/{layer_id}.geojson"): _get("/api/v1/geometry/layers/eerstelijnszone.geojson"),
    ("GET", "/maps/overlay.png"): _get(f"/maps/overlay.png?{PAIR}"),
    ("GET", "/maps/overlay"): _get(f"/maps/overlay?{PAIR}", "/maps/overlay?a=gemeente&b=eerstelijnszone"),
    ("GET", "/maps/overlay/zone"): _get(f"/maps/overlay/zone?{PAIR}&code=W13"),
    ("GET", "/maps/overlay/municipality"): _get(f"/maps/overlay/municipality?{PAIR}&nis=34025"),
    ("GET", "/maps/municipality/{nis_code}.png"): _get("/maps/municipality/34025.png"),
    ("GET", "/maps/municipality/{nis_code}"): _get("/maps/municipality/34025"),
    ("GET", "/maps/scenario/{scenario_id}.png"): _get("/maps/scenario/{scenario}.png"),
    ("GET", "/maps/scenario/{scenario_id}"): _get("/maps/scenario/{scenario}"),
    ("GET", "/maps/choropleth/{layer_id}.png"): _get("/maps/choropleth/eerstelijnszone.png"),
    ("GET", "/maps/choropleth/{layer_id}"): _get("/maps/choropleth/eerstelijnszone"),
    ("GET", "/maps/static/{name:path}"): _get("/maps/static/regiomatch.js"),
    ("GET", "/api/v1/atlas"): _get("/api/v1/atlas", "/api/v1/atlas?format=xlsx"),
    ("GET", "/atlas"): _get("/atlas"),
    ("GET", "/api/v1/zones/{layer}/{code:path}"): _get("/api/v1/zones/eerstelijnszone/elz40"),
    ("GET", "/zones/{layer}/{code:path}"): _get("/zones/eerstelijnszone/elz40", "/zones/samenwerkingsverband/W13"),
    ("GET", "/bevolkingsjaar"): _get("/bevolkingsjaar?jaar=2020", status=303, note="sets the year: a redirect"),
    # The feature service (issue 24): a layer's zones in two CRSs, all municipalities in one page.
    ("GET", "/ogc"): _get("/ogc"),
    ("GET", "/ogc/conformance"): _get("/ogc/conformance"),
    ("GET", "/ogc/api"): _get("/ogc/api"),
    ("GET", "/ogc/collections"): _get("/ogc/collections"),
    ("GET", "/ogc/collections/{collection_id}"): _get("/ogc/collections/eerstelijnszone"),
    ("GET", "/ogc/collections/{collection_id}/items"): _get(
        "/ogc/collections/eerstelijnszone/items",
        "/ogc/collections/eerstelijnszone/items?crs=http://www.opengis.net/def/crs/EPSG/0/31370",
        "/ogc/collections/gemeenten/items?limit=400"),
    ("GET", "/ogc/collections/{collection_id}/items/{feature_id:path}"): _get(
        "/ogc/collections/eerstelijnszone/items/elz40"),
    # Ensembles (issue 28): the form; a run's own pages and answers are timed by the jobs measure.
    ("GET", "/alternatieven"): _get("/alternatieven"),
    # Accounts (issue 27): the administration's pages and lists, on the no-token default.
    ("GET", "/api/v1/users"): _get("/api/v1/users"),
    ("GET", "/api/v1/audit"): _get("/api/v1/audit"),
    ("GET", "/beheer"): _get("/beheer"),
    ("GET", "/beheer/logboek"): _get("/beheer/logboek"),
    ("GET", "/api/v1/search"): _get("/api/v1/search?q=kortrijk"),
    ("POST", "/api/v1/evaluate"): [
        Example("POST", "/api/v1/evaluate", {**EVALUATE, "moves": ONE_MOVE}, note="1 move"),
        Example("POST", "/api/v1/evaluate", {**EVALUATE, "moves": FIFTY}, note="50 moves")],
    ("POST", "/api/v1/evaluate/suggest"): [Example(
        "POST", "/api/v1/evaluate/suggest",
        {**EVALUATE, "moves": ONE_MOVE, "max_moves": 1, "time_budget_seconds": 0.05},
        note="a search with a time budget: measured with 1 step and 0.05 s")],
    ("POST", "/api/v1/scenarios/suggest"): [Example(
        "POST", "/api/v1/scenarios/suggest", {"base_layer": "eerstelijnszone", "against": ["samenwerkingsverband"],
                                             "max_moves": 1, "time_budget_seconds": 0.05},
        note="a search with a time budget: measured with 1 step and 0.05 s")],
    ("GET", "/werkbank"): _get("/werkbank"),
    ("GET", "/werkbank/{scenario_id}"): _get("/werkbank/{scenario}"),
    ("GET", "/vergelijk"): _get(f"/vergelijk?{SCENARIO_PAIR}"),
    ("GET", "/vergelijk.pdf"): _get(f"/vergelijk.pdf?{SCENARIO_PAIR}"),
    ("GET", "/api/v1/scenarios/{scenario_id}/export"): _get(
        *(f"/api/v1/scenarios/{{scenario}}/export?format={f}" for f in ("csv", "xlsx", "geojson", "gpkg"))),
    ("GET", "/lagen/nieuw"): _get("/lagen/nieuw"),
    ("GET", "/aanmelden"): _get("/aanmelden"),
}

# Writes the page benchmark does not repeat (each would change what the other pages show, or is an
# upload that the big-import measure times): route -> why.
NOT_TIMED: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/layers"): "an import: timed by the big-import measure (10,000 squares)",
    ("DELETE", "/api/v1/layers/{layer_id}"): "a write: deletes an imported layer",
    ("POST", "/api/v1/scenarios"): "a write: the benchmark saves its scenario with it (timed once)",
    ("PATCH", "/api/v1/scenarios/{scenario_id}"): "a write: changes the scenario every other page shows",
    ("DELETE", "/api/v1/scenarios/{scenario_id}"): "a write: deletes the scenario every other page shows",
    ("POST", "/api/v1/layers/preview"): "an upload read in a child process (geo.uploads.sandbox), as an import",
    ("POST", "/aanmelden"): "sign-in: a redirect without a configured token",
    ("POST", "/afmelden"): "sign-out: a redirect",
    ("POST", "/api/v1/ensembles"): "starts a job of seconds to minutes: timed by the jobs measure (bench_jobs)",
    ("GET", "/api/v1/ensembles/{job_id}"): "a run's summary: timed by the jobs measure (bench_jobs)",
    ("GET", "/api/v1/ensembles/{job_id}/plans"): "a run's plans: exist only after a run (bench_jobs times the run)",
    ("GET", "/api/v1/ensembles/{job_id}/export"): "a run's per-plan table: timed by the jobs measure (bench_jobs)",
    ("POST", "/api/v1/ensembles/{job_id}/plans/{n}/scenario"): "a write: saves a plan as a scenario",
    ("POST", "/api/v1/ensembles/{job_id}/cancel"): "a write: cancels a running job",
    ("DELETE", "/api/v1/ensembles/{job_id}"): "a write: deletes a run",
    ("POST", "/api/v1/proposals"): "starts a job of seconds to minutes (short bursts)",
    ("GET", "/api/v1/proposals/{job_id}"): "a job's proposals: exists only after a run",
    ("POST", "/api/v1/proposals/{job_id}/{n}/scenario"): "a write: saves a proposal as a scenario",
    ("POST", "/api/v1/proposals/{job_id}/cancel"): "a write: cancels a running job",
    ("GET", "/alternatieven/{job_id}"): "a run's page: exists only after a run (bench_jobs times the run)",
    ("GET", "/alternatieven/voorstellen/{job_id}"): "a proposals page: exists only after a run",
    ("POST", "/api/v1/users"): "a write: adds a user (then every write needs credentials)",
    ("DELETE", "/api/v1/users/{name}"): "a write: removes a user",
    ("POST", "/api/v1/users/{name}/tokens"): "a write: issues an API token",
    ("DELETE", "/api/v1/users/{name}/tokens"): "a write: revokes tokens",
    ("DELETE", "/api/v1/users/{name}/sessions"): "a write: ends sessions",
    ("POST", "/beheer/gebruikers"): "a write: adds a user from the page",
    ("POST", "/beheer/gebruikers/{name}/sleutel"): "a write: issues an API token from the page",
    ("POST", "/beheer/gebruikers/{name}/afmelden"): "a write: ends a user's sessions from the page",
    ("POST", "/beheer/gebruikers/{name}/verwijderen"): "a write: removes a user from the page",
}


class MissingExample(RuntimeError):
    """Routes the benchmark has no example for: add them to :data:`EXAMPLES` (or :data:`NOT_TIMED`)."""


def app_routes(app) -> Iterator[tuple[str, str]]:  # noqa: ANN001 - a FastAPI app
    """``(method, path)`` of every route of ``app``, included routers' routes with their prefix."""

    def walk(routes, prefix: str = ""):  # noqa: ANN001, ANN202
        for route in routes:
            if hasattr(route, "original_router"):  # FastAPI's included router
                yield from walk(route.original_router.routes, prefix + route.include_context.prefix)
            elif hasattr(route, "routes") and not hasattr(route, "methods"):  # a mounted router
                yield from walk(route.routes, prefix + getattr(route, "path", ""))
            elif getattr(route, "methods", None):
                for method in sorted(route.methods - {"HEAD"}):
                    yield method, prefix + route.path

    yield from walk(app.routes)


def requests_for(app, scenario: str) -> list[Example]:  # noqa: ANN001
    """Every example of every route of ``app``, in route order; :class:`MissingExample` naming
    every route with neither examples nor a reason not to time it."""
    routes = list(dict.fromkeys(app_routes(app)))
    missing = [f"{m} {p}" for m, p in routes if (m, p) not in EXAMPLES and (m, p) not in NOT_TIMED]
    if missing:
        raise MissingExample("routes without an example in benchmarks/routes.py EXAMPLES (or a reason in "
                             "NOT_TIMED): " + ", ".join(missing))
    return [e.filled(scenario) for route in routes for e in EXAMPLES.get(route, [])]
