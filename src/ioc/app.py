"""Composition root: builds the FastAPI application from the settings and the enabled modules."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import DataError, DBAPIError, OperationalError

from . import __version__
from .core.calendar_routes import router as calendar_router
from .core.errors import IocError
from .core.http import (
    RequestContextMiddleware,
    database_error_handler,
    invalid_value_handler,
    ioc_error_handler,
    unexpected_error_handler,
    validation_error_handler,
)
from .core.metrics import REGISTRY
from .core.runtime import SHELL_DIR, Runtime
from .core.security import Principal, authenticate_request, optional_principal, require_scope
from .core.settings import Settings, get_settings
from .web.shell import install_error_pages
from .web.shell import router as shell_router

STATIC_DIR = SHELL_DIR / "static"
# No request needs more: five 10 MB photos, or a 50 MB boundaries import. Larger bodies are refused with 413
# while they arrive, before anything buffers them (memory or temporary files).
MAX_REQUEST_BYTES = 64 * 1024 * 1024
SKIP_AUTH_PREFIXES = ("/static/", "/healthz", "/readyz", "/metrics")


async def _authenticate_unless_static(request: Request) -> None:
    if not request.url.path.startswith(SKIP_AUTH_PREFIXES):
        await authenticate_request(request)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application: modules, routes, error handlers, live stream and health endpoints."""
    settings = settings or get_settings()
    settings.check_safe()
    runtime = Runtime(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title="ioc — Trung tâm giám sát, điều hành đô thị thông minh",
        version=__version__,
        description="Open Intelligent Operations Center API (Vietnamese first, English available).",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        max_body_size=MAX_REQUEST_BYTES,
    )
    app.state.runtime = runtime
    _document_error_bodies(app)
    app.add_middleware(
        RequestContextMiddleware,
        behind_tls=settings.behind_tls or settings.public_base_url.startswith("https://"),
        authenticate=_authenticate_unless_static,
    )
    app.add_exception_handler(IocError, ioc_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(OperationalError, database_error_handler)
    app.add_exception_handler(DBAPIError, database_error_handler)
    app.add_exception_handler(DataError, invalid_value_handler)  # bad input, not an unavailable database
    app.add_exception_handler(OverflowError, invalid_value_handler)  # SQLite's driver: an integer over 64 bits
    app.add_exception_handler(Exception, unexpected_error_handler)
    install_error_pages(app)  # browsers get HTML error pages; API paths keep the JSON above

    _add_operations_routes(app, runtime)
    _add_live_routes(app, runtime)
    app.include_router(calendar_router, prefix="/api/v1")
    for manifest in runtime.modules:
        if manifest.api_router is not None:
            app.include_router(manifest.api_router, prefix="/api/v1")
        if manifest.page_router is not None:
            app.include_router(manifest.page_router)
    app.include_router(shell_router)
    # Module folders first: the shell's /static mount would otherwise swallow /static/<module>/...
    for manifest in runtime.modules:
        if manifest.package_dir and (manifest.package_dir / "static").is_dir():
            app.mount(
                f"/static/{manifest.name}",
                StaticFiles(directory=manifest.package_dir / "static"),
                name=f"static-{manifest.name}",
            )
    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


# What every 4xx body looks like (core/errors.py, core/http.py), in place of FastAPI's default 422 schema,
# which this app never sends: clients generated from /openapi.json then read errors right.
ERROR_BODY_SCHEMA = {
    "title": "ErrorBody",
    "type": "object",
    "properties": {
        "error": {"type": "string", "description": "mã lỗi / error code"},
        "message": {"type": "string", "description": "thông báo theo ngôn ngữ người dùng / message"},
        "detail": {"description": "chi tiết (trường, dòng lỗi...) / details (fields, faulty rows...)"},
    },
    "required": ["error", "message"],
}


def _document_error_bodies(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schemas = schema.get("components", {}).get("schemas", {})
            if "HTTPValidationError" in schemas:
                schemas["HTTPValidationError"] = ERROR_BODY_SCHEMA
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_operations_routes(app: FastAPI, runtime: Runtime) -> None:
    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        checks: dict[str, str] = {}
        try:
            await runtime.check_database()
            checks["database"] = "ok"
        except (OSError, OperationalError, DBAPIError) as exc:
            checks["database"] = f"unavailable: {type(exc).__name__}"
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": checks}, status_code=200 if ready else 503
        )

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        # The counters are still worth scraping while the database is down.
        with contextlib.suppress(OSError, OperationalError, DBAPIError):
            await runtime.refresh_gauges()
        return PlainTextResponse(generate_latest(REGISTRY).decode(), media_type=CONTENT_TYPE_LATEST)

    # /docs is a shell page (web/shell.py): Swagger UI started by an external script, as the CSP requires.


def _sse_response(body: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(
        body,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _last_event_id(request: Request, query_value: int | None) -> int | None:
    header = request.headers.get("last-event-id")
    if header and header.isdigit():
        return int(header)
    return query_value


def _add_live_routes(app: FastAPI, runtime: Runtime) -> None:
    @app.get("/api/v1/live", tags=["live"], summary="Luồng sự kiện trực tiếp (SSE) / live event stream")
    async def live(
        request: Request,
        principal: Principal = Depends(require_scope("live:read")),
        last_event_id: int | None = Query(None, ge=0),
        events: str | None = Query(None, description="comma-separated event names or module prefixes"),
    ) -> StreamingResponse:
        names = {n.strip() for n in events.split(",")} if events else None
        viewer = await runtime.live.viewer(principal)
        return _sse_response(
            runtime.live.stream(
                last_event_id=_last_event_id(request, last_event_id), public_only=False, names=names, viewer=viewer
            )
        )

    @app.get("/api/v1/live/access", tags=["live"], summary="Quyền nhận luồng sự kiện / may the caller stream")
    async def live_access(principal: Principal | None = Depends(optional_principal)) -> dict[str, bool]:
        """Tell a page whether its staff stream would be accepted, without a 401 (asked before reconnecting)."""
        return {"staff": principal is not None and principal.has("live:read")}

    @app.get("/api/v1/live/public", tags=["live"], summary="Sự kiện công khai (SSE) / public event stream")
    async def live_public(request: Request, last_event_id: int | None = Query(None, ge=0)) -> StreamingResponse:
        return _sse_response(
            runtime.live.stream(last_event_id=_last_event_id(request, last_event_id), public_only=True)
        )


def package_root() -> Path:
    """Return the folder of the installed `ioc` package."""
    return Path(__file__).resolve().parent
