"""The FastAPI app: wires settings, error handling and routers. No computation here."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware

from api import errors, jobs, warmup
from api.compression import INCOMPRESSIBLE_TYPES, GzipOnce
from api.limits import BodySizeLimit, ExposureGuard
from api.render_cache import CachedAnswers, NotModified
from api.routes import (
    accounts,
    alternatives,
    atlas,
    docs,
    ensembles,
    evaluate,
    health,
    layers,
    maps,
    municipalities,
    ogc,
    overlay,
    pages,
    reports,
    scenarios,
    workbench,
    zonings,
)
from api.security import SecurityMiddleware
from api.settings import get_settings, no_delay_on_listeners, refuse_exposure_at_startup, workspace_for
from geo.engine.threads import limit_blas_threads
from geo.paths import ATTRIBUTION

ROUTERS = [health.router, layers.router, overlay.router, municipalities.router, zonings.router, scenarios.router,
           pages.router, reports.router, maps.router, atlas.router, evaluate.router, workbench.router, docs.router,
           ogc.router, ensembles.router, alternatives.router, accounts.router]


@asynccontextmanager
async def lifespan(app: FastAPI):
    # Refuse to start beyond loopback without a token, whoever launched the server.
    refuse_exposure_at_startup(get_settings())
    no_delay_on_listeners()  # workers of `uvicorn --workers N`: no 40 ms wait on small answers
    # Load the shipped data before the first request, not during it. The database opens, and the
    # maps' geometry and libraries load, in a thread beside the first answers (api/warmup.py).
    settings = get_settings()
    warmup.start(workspace_for(settings), settings.caches.warm_up)
    # Long work (ensembles) runs in a background thread; jobs an earlier process left running are
    # marked interrupted there, not in the start-up.
    jobs.start(workspace_for(settings))
    yield
    jobs.stop_all()


def create_app() -> FastAPI:
    limit_blas_threads()  # the engine's products are too small to share between threads
    settings = get_settings()
    app = FastAPI(
        title="regiomatch",
        version="0.1.0",
        description="Where Flanders' regional boundaries do not line up. " + ATTRIBUTION,
        lifespan=lifespan,
        docs_url=None,  # served by api/routes/docs.py from vendored files (offline)
        redoc_url=None,
    )
    errors.install(app)
    # Innermost: a repeated request for a cached answer of shipped layers skips routing.
    app.add_middleware(CachedAnswers)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"],
                           allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(NotModified)  # 304 for a matching ETag, inside the security headers
    # Headers, CSP nonce and cross-site write refusal; inside any compression middleware, since it
    # rewrites HTML bodies, and outside the body limit so a refused write is not even read.
    app.add_middleware(SecurityMiddleware, allowed_origins=settings.cors_origins)
    # Bodies with an ETag (cached JSON, GeoJSON) are compressed once per ETag, not per request.
    app.add_middleware(GzipOnce)
    # Outside the middleware that rewrites bodies (the CSP nonce), so it sees plain text.
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6,
                       exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, *INCOMPRESSIBLE_TYPES))
    app.add_middleware(warmup.YieldToRequests)  # the warm-up steps aside while a request is answered
    app.add_middleware(ExposureGuard)  # added last: outermost, so nothing is served while exposed
    for router in ROUTERS:
        app.include_router(router)
    return app


app = create_app()
