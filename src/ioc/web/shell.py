"""Routes of the shell itself (home page, language switch, API docs) and the HTML error pages."""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from ..core.errors import IocError, NotFound
from ..core.i18n import LANG_COOKIE, LANGUAGES
from ..core.jobs import JobStatus
from ..core.models import Job, OutboxEvent
from ..core.runtime import Runtime
from ..core.security import Principal, Role, optional_principal
from ..core.templating import render
from ..core.time import utc_now

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
STATUS_WINDOW = timedelta(hours=24)
# Paths that always answer JSON, even to a browser: the API, standards endpoints and operations.
JSON_ONLY_PREFIXES = ("/api/", "/open311/", "/openapi.json", "/static/", "/healthz", "/readyz", "/metrics")
# Statuses with their own title and text in the translations (shell.error.<status>.title/text).
STATUSES_WITH_TEXT = frozenset({400, 401, 403, 404, 405, 422, 429, 500, 503})
# Statuses whose JSON message is generic framework text, so the translated page text is better.
STATUSES_WITHOUT_OWN_MESSAGE = frozenset({404, 405})
COMMUNE_LAYER_URL = "/api/v1/org-units.geojson?level=commune"

ExceptionHandler = Callable[[Request, Exception], Response | Awaitable[Response]]


@dataclass(frozen=True)
class SystemStatus:
    """Figures about the kernel's queues shown on the home page."""

    events_last_24h: int
    events_unpublished: int
    jobs_pending: int
    jobs_dead: int
    as_of: datetime

    @property
    def healthy(self) -> bool:
        """Tell whether nothing needs an administrator's attention."""
        return self.jobs_dead == 0


async def read_system_status(runtime: Runtime) -> SystemStatus:
    """Count recent outbox events and pending and dead jobs."""
    now = utc_now()
    async with runtime.db.session() as session:
        events = await session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.occurred_at >= now - STATUS_WINDOW)
        )
        unpublished = await session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.published_at.is_(None))
        )
        pending = await session.scalar(select(func.count()).select_from(Job).where(Job.status == JobStatus.PENDING))
        dead = await session.scalar(select(func.count()).select_from(Job).where(Job.status == JobStatus.DEAD))
    return SystemStatus(
        events_last_24h=events or 0,
        events_unpublished=unpublished or 0,
        jobs_pending=pending or 0,
        jobs_dead=dead or 0,
        as_of=now,
    )


def safe_next(target: str) -> str:
    """Return `target` when it is a path on this site, else "/" (no open redirects)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


@router.get("/")
async def home(request: Request, principal: Principal | None = Depends(optional_principal)) -> Response:
    """Show the landing page: a welcome for visitors, the modules, map and system status for staff."""
    runtime: Runtime = request.app.state.runtime
    context: dict[str, object] = {
        "commune_layer_url": COMMUNE_LAYER_URL if runtime.module("org_unit") is not None else None,
        "status": None,
    }
    if principal is not None and principal.role is not Role.CITIZEN:
        context["status"] = await read_system_status(runtime)
    return render(request, "home.html", context)


@router.get("/public")
async def public_home(request: Request) -> Response:
    """Show the citizen portal's landing page: the public services of the enabled modules."""
    return render(request, "public_home.html")


@router.get("/lang/{code}")
async def switch_language(request: Request, code: str, next: str = "/") -> Response:
    """Remember the chosen language in a cookie and go back to the page the caller came from."""
    if code not in LANGUAGES:
        raise NotFound(f"Không hỗ trợ ngôn ngữ '{code}'.", f"Language '{code}' is not supported.")
    runtime: Runtime = request.app.state.runtime
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        LANG_COOKIE,
        code,
        max_age=LANG_COOKIE_MAX_AGE,
        samesite="lax",
        httponly=False,
        secure=runtime.settings.behind_tls,
    )
    return response


@router.get("/docs")
async def api_docs(request: Request) -> Response:
    """Show the API documentation (Swagger UI from the vendored assets, started by an external script)."""
    return render(request, "api_docs.html", {"openapi_url": request.app.openapi_url or "/openapi.json"})


def wants_html(request: Request) -> bool:
    """Tell whether the caller is a browser asking for a page; API and operations paths always get JSON."""
    if request.url.path.startswith(JSON_ONLY_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "").lower()


def _has_login_page(request: Request) -> bool:
    # Routers are included lazily (no flat route list), so ask each route whether it would answer.
    scope = {"type": "http", "method": "GET", "path": "/login", "root_path": "", "headers": [], "query_string": b""}
    return any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes)


def _json_body(response: Response) -> dict[str, object]:
    try:
        body = json.loads(bytes(response.body))
    except (ValueError, TypeError):
        return {}
    return body if isinstance(body, dict) else {}


def _error_page(request: Request, response: Response) -> Response:
    status = response.status_code
    if status == 401 and request.method in ("GET", "HEAD") and _has_login_page(request):
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(here, safe='')}", status_code=303)
    body = _json_body(response)
    key = str(status) if status in STATUSES_WITH_TEXT else ("500" if status >= 500 else "generic")
    message = body.get("message")
    page = render(
        request,
        "error.html",
        {
            "status_code": status,
            "title_key": f"shell.error.{key}.title",
            "text_key": f"shell.error.{key}.text",
            "message": message if isinstance(message, str) and status not in STATUSES_WITHOUT_OWN_MESSAGE else None,
            "request_id": body.get("request_id") or getattr(request.state, "request_id", None),
        },
        status_code=status,
    )
    for header in ("retry-after", "www-authenticate", "allow"):
        if header in response.headers:
            page.headers[header] = response.headers[header]
    return page


def html_error_handler(json_handler: ExceptionHandler) -> ExceptionHandler:
    """Wrap a JSON error handler: browsers get an HTML page with the same status and message."""

    async def handler(request: Request, exc: Exception) -> Response:
        result = json_handler(request, exc)
        response = await result if inspect.isawaitable(result) else result
        if not wants_html(request):
            return response
        try:
            return _error_page(request, response)
        except Exception:
            # The error page must never hide the original error: fall back to its JSON answer.
            log.exception("error page could not be rendered", extra={"path": request.url.path})
            return response

    return handler


def install_error_pages(app: FastAPI) -> None:
    """Give browsers HTML error pages (404, 500...) while API clients keep the JSON handlers already set."""
    for exc_class in (
        StarletteHTTPException,
        RequestValidationError,
        IocError,
        OperationalError,
        DBAPIError,
        Exception,
    ):
        json_handler = app.exception_handlers.get(exc_class)
        if json_handler is not None:
            app.add_exception_handler(exc_class, html_error_handler(json_handler))
