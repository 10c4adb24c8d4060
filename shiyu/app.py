"""create_app(): settings, database, middleware, routers and error handlers."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from shiyu import __version__, openapi
from shiyu.api import api_router
from shiyu.config import Settings, get_settings
from shiyu.db import Database
from shiyu.group_commit import GroupCommitter
from shiyu.health.api import router as health_router
from shiyu.kit import memory
from shiyu.logs import configure_logging
from shiyu.middleware import (
    LiteralRouteMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
    WriteLimitMiddleware,
    install_error_handlers,
    shadowed_literals,
)
from shiyu.open311.api import router as open311_router
from shiyu.ops.prometheus import MetricsMiddleware
from shiyu.ops.prometheus import router as prometheus_router
from shiyu.routing import service as routing
from shiyu.web import install as install_web
from shiyu.worker.scheduler import build as build_scheduler
from shiyu.writer_process import WriterProcess

#: writing routes that wait for the group-commit writer with `await` and hold no worker thread,
#: so the write limit (which protects the thread pool) does not apply to them
GROUP_COMMIT_ROUTES = frozenset({("POST", "/api/v1/events"), ("POST", "/api/v1/public/events")})


def create_app(
    settings: Settings | None = None,
    database: Database | None = None,
    *,
    run_jobs: bool = False,
) -> FastAPI:
    settings = settings or get_settings()
    db = database or Database(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # built before the first request, not during it (generating the document takes time)
        _app.state.literal_routes = shadowed_literals(_app)
        if isinstance(_app.state.intake_writer, WriterProcess):
            _app.state.intake_writer.start()  # its imports now, not in the first report's time
            await asyncio.to_thread(routing.load_classifier, db, settings)  # (`before_send`)
        scheduler = build_scheduler(db, settings) if run_jobs else None
        if scheduler:
            scheduler.start()
        yield
        if scheduler:
            scheduler.stop()
        _app.state.intake_writer.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Shiyu 市域社会治理平台 API",
        version=__version__,
        description="城市社会治理：网格、事件、交办、督办。JSON API under /api/v1.",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        # Shiyu exports Prometheus metrics (`/metrics`), not OpenTelemetry: FastAPI's own
        # telemetry would look for OpenTelemetry providers on every request
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.db = db
    app.state.intake_writer = _intake_writer(settings, db)
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, https=settings.https)
    app.add_middleware(LiteralRouteMiddleware, api=app)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(
        WriteLimitMiddleware, limit=settings.max_concurrent_writes, exempt=GROUP_COMMIT_ROUTES
    )
    if settings.cors_origins:  # empty: same origin only, so no CORS headers at all
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-Id", "Idempotency-Key"],
            expose_headers=["X-Request-Id", "Content-Disposition"],
            max_age=600,
        )
    install_error_handlers(app)
    openapi.install(app)
    app.include_router(health_router)
    app.include_router(prometheus_router)
    app.include_router(api_router)
    app.include_router(open311_router)
    install_web(app, settings)
    return app


def _intake_writer(settings: Settings, db: Database) -> GroupCommitter | WriterProcess:
    if settings.intake_writer == "process":
        # this process classifies the reports it sends: the writer is the busier of the two
        return WriterProcess(
            settings,
            name="intake",
            before_send=functools.partial(routing.predict_queued, db, settings),
        )
    return GroupCommitter(db, max_batch=settings.intake_batch_max, name="intake")


def serve_app() -> FastAPI:
    """The ASGI factory `shiyu serve` (and uvicorn --factory) runs."""
    settings = get_settings()
    configure_logging(settings.log_level, json_format=settings.log_json)
    warm_up()
    app = create_app(settings, run_jobs=True)
    memory.freeze_startup()
    memory.freeze_later(settings.gc_freeze_again_seconds)
    memory.set_young_threshold(settings.gc_young_threshold)
    memory.watch_pauses()
    return app


def warm_up() -> None:
    """Load the Traditional → Simplified dictionaries before the first request, not during it."""
    from shiyu.kit.text import normalise

    normalise("預熱")
