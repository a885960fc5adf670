"""The FastAPI application factory.

``create_app(settings)`` wires the routes of every feature in ``livebase.features`` and the
middleware; the lifespan builds the runtime (engine, rate limiter, Redis when configured,
the features' parts), binds the event loop for async event subscribers, starts the
features' services and, when the settings ask for it, the in-process job runner, and tears
them down. Nothing touches a database at import time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from livebase import __version__, gcpolicy, routing
from livebase.features import FEATURES, Feature, LoadedFeature, install, load
from livebase.http_errors import InternalErrorMiddleware, install_error_handlers
from livebase.jobs.service import Runner
from livebase.logs import configure_logging, get_logger
from livebase.middleware import BodyLimitMiddleware, RefuseNulMiddleware, RequestLogMiddleware
from livebase.openapi import install_openapi
from livebase.runtime import Runtime, build_runtime
from livebase.settings import Settings
from livebase.sockets import Sockets

log = get_logger("livebase.app")


class App(FastAPI):
    """FastAPI with the features' WebSocket endpoints served before its stack."""

    sockets = Sockets({})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and await self.sockets.serve(self, scope, receive, send):
            return
        await super().__call__(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    features: Sequence[Feature] = FEATURES,
) -> FastAPI:
    """The app. ``runtime`` injects a built one (tests; left open at shutdown); the jobs
    runner starts whenever ``settings.run_jobs_in_process`` says so, injected or not."""
    settings = settings or (runtime.settings if runtime else Settings())
    settings.check_production_safety()
    loaded = load(features)  # a broken feature entry stops start-up here

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = runtime or build_runtime(settings, features)
        install(rt, loaded)  # no-op for a runtime already built from the registry
        app.state.runtime = rt
        loop = asyncio.get_running_loop()
        rt.events.bind_loop(loop)
        settings.uploads_dir.mkdir(parents=True, exist_ok=True)
        services = [factory(rt) for lf in loaded for factory in lf.services]
        for service in services:
            service.start()
        runner = None
        if settings.run_jobs_in_process:
            runner = Runner(rt.sessions, rt.jobs)
            runner.start()
        if settings.gc_tuning:
            gcpolicy.apply()
        log.info(
            "livebase started",
            database=rt.engine.dialect.name,
            gc_tuning=settings.gc_tuning,
            redis=bool(settings.redis_url),
            demo=settings.demo,
        )
        try:
            yield
        finally:
            if runner is not None:
                await run_in_threadpool(runner.stop)
            for service in reversed(services):
                await run_in_threadpool(service.stop)
            rt.events.unbind_loop(loop)
            if runtime is None:
                rt.close()

    app = App(
        title="livebase",
        version=__version__,
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    install_error_handlers(app)
    _routes(app, loaded)
    install_openapi(app)
    settings.uploads_dir.mkdir(parents=True, exist_ok=True)
    app.mount("/uploads", StaticFiles(directory=settings.uploads_dir), name="uploads")
    app.add_middleware(RefuseNulMiddleware)
    app.add_middleware(
        BodyLimitMiddleware, json_limit=settings.json_body_limit, upload_limit=settings.upload_limit
    )
    app.add_middleware(InternalErrorMiddleware)
    app.add_middleware(RequestLogMiddleware)
    app.sockets = Sockets({prefix: fn for lf in loaded for prefix, fn in lf.sockets})
    routing.install(app)  # last: the routes are all there
    configure_logging(settings.log_level, settings.log_json)
    return app


def _routes(app: FastAPI, loaded: Sequence[LoadedFeature]) -> None:
    from livebase.web import pages as web_pages

    # The probes first: routes are matched in order, one regex each, and a load
    # balancer's /healthz should not walk every feature's routes (docs/http.md).
    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        # async: it touches nothing that blocks, so it needs no trip through the threadpool.
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def readyz(request: Request) -> Any:
        rt: Runtime = request.app.state.runtime
        checks: dict[str, str] = {}
        try:
            with rt.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        if rt.redis is not None:
            try:
                rt.redis.ping()
                checks["redis"] = "ok"
            except Exception as exc:
                checks["redis"] = f"error: {type(exc).__name__}"
        ok = all(v == "ok" for v in checks.values())
        body = {"status": "ready" if ok else "not_ready", "checks": checks}
        if ok:
            return body
        return JSONResponse(
            {"error": "not_ready", "detail": "A dependency is down.", **body}, status_code=503
        )

    for lf in loaded:
        for router in lf.api:
            app.include_router(router)
    web_pages.install(app, [lf.pages for lf in loaded if lf.pages is not None])
