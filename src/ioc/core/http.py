"""HTTP helpers shared by routers: sessions, paging, error rendering, middleware."""

from __future__ import annotations

import contextlib
import inspect
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Generic, TypeVar

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from .errors import IocError, ServiceUnavailable
from .i18n import request_language
from .logging import OutageLog, database_connection_error
from .metrics import HTTP_LATENCY, HTTP_REQUESTS
from .security import current_actor

log = logging.getLogger(__name__)
# Requests that failed for want of the database: one warning per outage, one line when it is back.
DATABASE_OUTAGE = OutageLog(log, "http")

T = TypeVar("T")
MAX_PAGE_SIZE = 500


class Page(BaseModel, Generic[T]):
    """One page of a list: the items and the total count matching the filters."""

    items: list[T]
    total: int
    limit: int
    offset: int


class PageParams(BaseModel):
    """Paging parameters of a list request."""

    limit: int
    offset: int


def page_params(
    limit: int = Query(50, ge=1, le=MAX_PAGE_SIZE, description="Số bản ghi tối đa / page size"),
    offset: int = Query(0, ge=0, description="Bỏ qua / items to skip"),
) -> PageParams:
    """Read `limit` and `offset` from the query string."""
    return PageParams(limit=limit, offset=offset)


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Open a session for the request; the router commits, anything uncommitted is rolled back."""
    session = request.app.state.runtime.db.session()
    session.sync_session.info["actor"] = getattr(request.state, "principal", None) or current_actor.get()
    session.sync_session.info["request_meta"] = {
        "request_id": getattr(request.state, "request_id", None),
        "ip": request.client.host if request.client else None,
    }
    try:
        yield session
        if DATABASE_OUTAGE.down:
            # The request went through: if the database answers again, say so once (a cheap probe, outages only).
            with contextlib.suppress(Exception):
                await session.connection()
                DATABASE_OUTAGE.succeeded()
    finally:
        await session.close()


def _lang(request: Request) -> str:
    runtime = getattr(request.app.state, "runtime", None)
    return request_language(request, runtime.settings.default_language if runtime else "vi")


# Paths whose clients expect another error format (e.g. Open311's): path prefix -> renderer, set by modules.
ERROR_RENDERERS: dict[str, Callable[[Request, IocError], Response]] = {}


def register_error_renderer(prefix: str, renderer: Callable[[Request, IocError], Response]) -> None:
    """Render expected errors under a path prefix with `renderer` (also those of authentication)."""
    ERROR_RENDERERS[prefix] = renderer


async def ioc_error_handler(request: Request, exc: Exception) -> Response:
    """Render an expected error as JSON with its status code."""
    assert isinstance(exc, IocError)
    for prefix, renderer in ERROR_RENDERERS.items():
        if request.url.path.startswith(prefix):
            return renderer(request, exc)
    return JSONResponse(exc.to_dict(_lang(request)), status_code=exc.status_code)


async def validation_error_handler(request: Request, exc: Exception) -> Response:
    """Render request validation errors with a bilingual summary and the field list."""
    assert isinstance(exc, RequestValidationError)
    lang = _lang(request)
    fields = [
        {"field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"), "message": err.get("msg", "")}
        for err in exc.errors()
    ]
    message = "Dữ liệu gửi lên không hợp lệ." if lang == "vi" else "The request data is invalid."
    return JSONResponse({"error": "validation_failed", "message": message, "detail": fields}, status_code=422)


async def database_error_handler(request: Request, exc: Exception) -> Response:
    """Answer 503 with a clear body when the database cannot be reached (or refuses to serve the request)."""
    # A lost connection is logged once per outage; any other database error (a lock, a deadlock) in full.
    DATABASE_OUTAGE.failed(exc, "database error", path=request.url.path)
    error = ServiceUnavailable(
        "Cơ sở dữ liệu tạm thời không truy cập được, vui lòng thử lại sau.",
        "The database is temporarily unavailable; please try again shortly.",
    )
    return JSONResponse(error.to_dict(_lang(request)), status_code=503, headers={"Retry-After": "5"})


async def invalid_value_handler(request: Request, exc: Exception) -> Response:
    """Answer 422 when the database refuses a value (an id or number beyond its column, text too long)."""
    log.info("value refused by the database", extra={"path": request.url.path, "error": str(exc)[:300]})
    lang = _lang(request)
    message = "Giá trị gửi lên vượt giới hạn cho phép." if lang == "vi" else "A value sent is out of the allowed range."
    return JSONResponse({"error": "validation_failed", "message": message}, status_code=422)


async def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    """Log an unexpected error and answer 500 without leaking internals."""
    if isinstance(exc, OperationalError | DBAPIError) or database_connection_error(exc) is not None:
        return await database_error_handler(request, exc)
    log.exception("unhandled error", extra={"path": request.url.path})
    lang = _lang(request)
    message = "Lỗi hệ thống; sự cố đã được ghi lại." if lang == "vi" else "Internal error; it has been logged."
    return JSONResponse(
        {"error": "internal_error", "message": message, "request_id": getattr(request.state, "request_id", None)},
        status_code=500,
    )


def _registered_handler(request: Request, exc: Exception) -> Callable[[Request, Exception], Any]:
    """Return the app's handler for an exception (nearest class first), else the database error handler."""
    for cls in type(exc).__mro__:
        handler = request.app.exception_handlers.get(cls)
        if handler is not None:
            return handler  # type: ignore[no-any-return]
    return database_error_handler


HSTS = "max-age=31536000; includeSubDomains"


def served_over_tls(request: Request) -> bool:
    """Tell whether the browser reached us over HTTPS: directly, through a trusted proxy, or as configured.

    Cookies set on such an answer are marked Secure, so that a browser never sends them over plain HTTP.
    """
    if request.url.scheme == "https":
        return True
    runtime = getattr(request.app.state, "runtime", None)
    return bool(runtime is not None and runtime.settings.behind_tls)


def security_headers(behind_tls: bool) -> dict[str, str]:
    """Return the headers every response carries."""
    headers = {
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
            "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
            "frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Permissions-Policy": "camera=(self), geolocation=(self), microphone=()",
    }
    if behind_tls:
        headers["Strict-Transport-Security"] = HSTS
    return headers


class RequestContextMiddleware(BaseHTTPMiddleware):
    """Request id, authentication, metrics and security headers for every request."""

    def __init__(
        self, app: Any, behind_tls: bool = False, authenticate: Callable[[Request], Awaitable[Any]] | None = None
    ) -> None:
        super().__init__(app)
        self.headers = security_headers(behind_tls)
        self.authenticate = authenticate

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        """Wrap one request."""
        request.state.request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        started = time.perf_counter()
        try:
            if self.authenticate is not None:
                await self.authenticate(request)
            response = await call_next(request)
        except IocError as exc:
            # Raised by the authenticator (bad API key, CSRF check), outside the routing layer: use the app's
            # own handler so that browsers still get the HTML error page.
            handler = request.app.exception_handlers.get(IocError, ioc_error_handler)
            result = handler(request, exc)
            response = await result if inspect.isawaitable(result) else result
        except (OperationalError, DBAPIError, ConnectionError) as exc:
            # The database went away during authentication: the app's own handler, so that browsers get the
            # HTML error page (503) rather than the JSON body meant for API clients.
            result = _registered_handler(request, exc)(request, exc)
            response = await result if inspect.isawaitable(result) else result
        route = request.scope.get("route")
        route_name = getattr(route, "path", "unmatched")
        HTTP_REQUESTS.labels(request.method, route_name, str(response.status_code)).inc()
        HTTP_LATENCY.labels(request.method, route_name).observe(time.perf_counter() - started)
        for key, value in self.headers.items():
            response.headers.setdefault(key, value)
        if request.url.scheme == "https":
            # Served over TLS (directly, or by a proxy the server trusts for X-Forwarded-Proto): browsers keep to it.
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        response.headers["X-Request-ID"] = request.state.request_id
        return response
