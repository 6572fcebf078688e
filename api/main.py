"""The FastAPI app: wires settings, error handling and routers. No computation here."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.types import Receive, Scope, Send

from api import errors, jobs, warmup
from api.compression import INCOMPRESSIBLE_TYPES, GzipOnce
from api.deps import app_settings, app_workspace
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
from api.settings import Settings, get_settings, no_delay_on_listeners, refuse_exposure_at_startup, settings_in_use
from geo.engine.threads import limit_blas_threads
from geo.paths import ATTRIBUTION

ROUTERS = [health.router, layers.router, overlay.router, municipalities.router, zonings.router, scenarios.router,
           pages.router, reports.router, maps.router, atlas.router, evaluate.router, workbench.router, docs.router,
           ogc.router, ensembles.router, alternatives.router, accounts.router]


@asynccontextmanager
async def lifespan(app: FastAPI):
    settings = app.state.settings
    # Refuse to start beyond loopback without a token, whoever launched the server.
    refuse_exposure_at_startup(settings)
    no_delay_on_listeners()  # workers of `uvicorn --workers N`: no 40 ms wait on small answers
    # Load the shipped data before the first request, not during it. The database opens, and the
    # maps' geometry and libraries load, in a thread beside the first answers (api/warmup.py).
    warmup.start(app_workspace(app), settings.caches.warm_up, app.routes)
    # Long work (ensembles) runs in a background thread; jobs an earlier process left running are
    # marked interrupted there, not in the start-up.
    jobs.start(app_workspace(app))
    yield
    jobs.stop_all()


class RegiomatchApp(FastAPI):
    """The app answers every request, and runs its start-up, with its own settings
    (``app.state.settings``): :func:`api.settings.current_settings` inside it, for the code
    that has no request at hand (middleware, render cache, busy limits)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with settings_in_use(self.state.settings):
            await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app on ``settings`` (default: the environment's, :func:`api.settings.get_settings`).

    Everything it answers reads these settings, not the environment: the routes'
    ``Depends(get_settings)`` are overridden to the app's, the workspace is the one they point at
    (:func:`api.deps.app_workspace`), so two apps with different settings live side by side in
    one process (as tests do: ``create_app(Settings(state_dir=tmp, api_token="t"))``).
    """
    limit_blas_threads()  # the engine's products are too small to share between threads
    settings = settings or get_settings()
    app = RegiomatchApp(
        title="regiomatch",
        version="0.1.0",
        description="Where Flanders' regional boundaries do not line up. " + ATTRIBUTION,
        lifespan=lifespan,
        docs_url=None,  # served by api/routes/docs.py from vendored files (offline)
        redoc_url=None,
    )
    app.state.settings = settings
    app.dependency_overrides[get_settings] = app_settings
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


def __getattr__(name: str) -> FastAPI:
    """``api.main:app`` (uvicorn, gunicorn): the app on the environment's settings, made on first
    use, so importing this module reads no data (the settings' default year is read from it)."""
    if name == "app":
        global app
        app = create_app()
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
