"""The FastAPI application factory.

``create_app(settings)`` wires routes and middleware; the lifespan builds the engine, the
rate limiter, Redis (when configured) and the in-process job runner, and tears them down.
Nothing touches a database at import time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from livebase import __version__
from livebase.compliance.sync import TermSync
from livebase.errors import install_error_handlers
from livebase.jobs.service import Runner
from livebase.logs import configure_logging, get_logger
from livebase.middleware import BodyLimitMiddleware, RefuseNulMiddleware, RequestLogMiddleware
from livebase.runtime import Runtime, build_runtime
from livebase.settings import Settings

log = get_logger("livebase.app")


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    settings = settings or (runtime.settings if runtime else Settings())
    settings.check_production_safety()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = runtime or build_runtime(settings)
        app.state.runtime = rt
        settings.uploads_dir.mkdir(parents=True, exist_ok=True)
        terms = TermSync(rt.sessions, settings)
        terms.install()
        runner = None
        if settings.run_jobs_in_process and runtime is None:
            runner = Runner(rt.sessions)
            runner.start()
        log.info(
            "livebase started",
            database=rt.engine.dialect.name,
            redis=bool(settings.redis_url),
            demo=settings.demo,
        )
        try:
            yield
        finally:
            if runner is not None:
                await run_in_threadpool(runner.stop)
            await run_in_threadpool(terms.stop)
            if runtime is None:
                rt.close()

    app = FastAPI(
        title="livebase",
        version=__version__,
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    install_error_handlers(app)
    _routes(app)
    settings.uploads_dir.mkdir(parents=True, exist_ok=True)
    app.mount("/uploads", StaticFiles(directory=settings.uploads_dir), name="uploads")
    app.add_middleware(RefuseNulMiddleware)
    app.add_middleware(
        BodyLimitMiddleware, json_limit=settings.json_body_limit, upload_limit=settings.upload_limit
    )
    app.add_middleware(RequestLogMiddleware)
    configure_logging(settings.log_level, settings.log_json)
    return app


def _routes(app: FastAPI) -> None:
    from livebase.accounts import api as accounts_api
    from livebase.bases import api as bases_api
    from livebase.catalog import api as catalog_api
    from livebase.compliance import api as compliance_api
    from livebase.shows import api as shows_api
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

    for module in (accounts_api, bases_api, catalog_api, shows_api, compliance_api):
        app.include_router(module.router)
        if hasattr(module, "uploads"):
            app.include_router(module.uploads)
    web_pages.install(app)
